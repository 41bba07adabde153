/**
 * Bulk import of resources that carry their own ids (FHIR bulk data NDJSON, Bundle
 * collections): each is an update-as-create (R4 http.html §3.1.0.4), so ids — and the
 * references between imported resources — are kept. A batch commits in one store
 * transaction; a resource that fails validation is reported and skipped, never fatal.
 */
import { CustodiaError, isCustodiaError, uuidV4 } from '../../kernel/index.js';
import type { FhirResource } from '../resource.js';
import { isJsonObject } from '../resource.js';
import type { FhirContext } from './fhir-context.js';
import { assertId, parseResourceBody } from './resource-input.js';
import { planPrepared, prepareResource, type PreparedResource } from './version-plan.js';

export interface ImportItem {
  /** A parsed resource, or… */
  readonly value?: unknown;
  /** …its JSON text (an NDJSON line), parsed here. Attacker-controlled either way. */
  readonly text?: string;
  /** Where it came from, e.g. `Patient.ndjson:12`, for error reports. */
  readonly source: string;
}

export interface ImportFailure {
  readonly source: string;
  readonly error: CustodiaError;
}

export interface ImportBatchResult {
  readonly written: number;
  readonly failures: readonly ImportFailure[];
}

function parsed(item: ImportItem): unknown {
  if (item.text === undefined) return item.value;
  try {
    return JSON.parse(item.text) as unknown;
  } catch {
    throw new CustodiaError('json-malformed', 'not valid JSON');
  }
}

function validated(ctx: Pick<FhirContext, 'validator' | 'rules'>, item: ImportItem): FhirResource {
  const value = parsed(item);
  const type = isJsonObject(value) && typeof value['resourceType'] === 'string' ? value['resourceType'] : '';
  if (!ctx.validator.isResourceType(type)) {
    throw new CustodiaError('resource-structure', 'resourceType is missing or not an R4 resource type', {
      issues: [{ diagnostics: 'resourceType is missing or not an R4 resource type', expression: ['resourceType'] }],
    });
  }
  const resource = parseResourceBody(ctx, value, type);
  if (resource.id !== undefined) assertId(resource.id);
  return resource;
}

export interface PreparedBatch {
  readonly prepared: readonly PreparedResource[];
  readonly failures: readonly ImportFailure[];
}

/**
 * Everything that can happen without the database: parse, validate, index, serialise.
 * Pure, so it can run on another thread than the write.
 */
export function prepareBatch(ctx: Pick<FhirContext, 'validator' | 'rules' | 'indexer' | 'labeler' | 'random'>, items: readonly ImportItem[]): PreparedBatch {
  const failures: ImportFailure[] = [];
  const byKey = new Map<string, PreparedResource>();
  for (const item of items) {
    try {
      const resource = validated(ctx, item);
      const prepared = prepareResource(ctx, resource, resource.id ?? uuidV4(ctx.random));
      const key = `${prepared.type}/${prepared.id}`;
      // The same resource twice in one batch: keep the last, as two sequential PUTs would.
      byKey.delete(key);
      byKey.set(key, prepared);
    } catch (e) {
      if (!isCustodiaError(e)) throw e;
      failures.push({ source: item.source, error: e });
    }
  }
  return { prepared: [...byKey.values()], failures };
}

/** Writes prepared resources as the next version of each (update-as-create), in one transaction. */
export async function writePrepared(ctx: FhirContext, prepared: readonly PreparedResource[]): Promise<number> {
  if (prepared.length === 0) return 0;
  await ctx.store.transaction(async (tx) => {
    const now = ctx.clock.now();
    const states = await tx.currentStates(prepared.map((a) => ({ type: a.type, id: a.id })));
    await tx.writeVersions(prepared.map((a) => planPrepared(a, states.get(`${a.type}/${a.id}`), now, 'PUT').write));
  });
  return prepared.length;
}

export async function importBatch(ctx: FhirContext, items: readonly ImportItem[]): Promise<ImportBatchResult> {
  const { prepared, failures } = prepareBatch(ctx, items);
  return { written: await writePrepared(ctx, prepared), failures };
}
