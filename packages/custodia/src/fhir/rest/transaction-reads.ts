/**
 * GET entries of a transaction, answered inside the transaction after its writes
 * (R4 http.html §3.1.0.11.2: reads are processed last and see the writes).
 */
import { CustodiaError, uuidV4 } from '../../kernel/index.js';
import type { ResourceReader } from '../ports/resource-store.js';
import type { FhirContext } from './fhir-context.js';
import type { FhirInteraction, RequestOptions } from './fhir-interaction.js';
import type { FhirResult } from './fhir-result.js';
import { bundleJson } from './bundle-json.js';
import { resultOf } from './read-interactions.js';
import { assertId, assertResourceType, parseVersionId } from './resource-input.js';

export async function readInTransaction(ctx: FhirContext, tx: ResourceReader, i: FhirInteraction, options: RequestOptions): Promise<FhirResult> {
  switch (i.kind) {
    case 'read': {
      assertResourceType(ctx, i.type);
      assertId(i.id);
      const v = await tx.readCurrent(i.type, i.id, options.visibility);
      if (v === undefined) throw new CustodiaError('resource-not-found', `${i.type}/${i.id} is not known`);
      return resultOf(v, i.projection);
    }
    case 'vread': {
      assertResourceType(ctx, i.type);
      assertId(i.id);
      const v = await tx.readVersion(i.type, i.id, parseVersionId(i.version), options.visibility);
      if (v === undefined) throw new CustodiaError('version-not-found', `${i.type}/${i.id} has no such version`);
      return resultOf(v, i.projection);
    }
    case 'search': {
      for (const t of i.types) assertResourceType(ctx, t);
      const query = ctx.search.parse(i.types, i.params, options.handling);
      const { keys, total } = await tx.search(query, query.count, options.visibility);
      const found = await tx.loadByKeys(keys, options.visibility);
      const body = bundleJson(
        { type: 'searchset', id: uuidV4(ctx.random), timestamp: new Date(ctx.clock.now()).toISOString(), ...(total === undefined ? {} : { total }) },
        found.map((v) => ({ fullUrl: `${ctx.baseUrl}/${v.type}/${v.id}`, resource: v.json ?? '{}', search: { mode: 'match' as const } })),
      );
      return { status: 200, body };
    }
    default:
      throw new CustodiaError('bundle-invalid', `A transaction cannot contain a ${i.kind} entry`);
  }
}
