/**
 * Bulk import of resources that carry their own ids (FHIR bulk data NDJSON, Bundle
 * collections): each is an update-as-create (R4 http.html §3.1.0.4), so ids — and the
 * references between imported resources — are kept. A batch commits in one store
 * transaction; a resource that fails validation is reported and skipped, never fatal.
 */
import { CustodiaError, isCustodiaError, uuidV4 } from '../../kernel/index.js';
import type { FhirResource } from '../resource.js';
import { isJsonObject } from '../resource.js';
import type { VersionWrite } from '../ports/resource-store.js';
import type { FhirContext } from './fhir-context.js';
import { assertId, parseResourceBody } from './resource-input.js';
import { planPut } from './version-plan.js';

export interface ImportItem {
  readonly value: unknown;
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

function validated(ctx: FhirContext, item: ImportItem): FhirResource {
  const type = isJsonObject(item.value) && typeof item.value['resourceType'] === 'string' ? item.value['resourceType'] : '';
  if (!ctx.validator.isResourceType(type)) {
    throw new CustodiaError('resource-structure', 'resourceType is missing or not an R4 resource type', {
      issues: [{ diagnostics: 'resourceType is missing or not an R4 resource type', expression: ['resourceType'] }],
    });
  }
  const resource = parseResourceBody(ctx, item.value, type);
  if (resource.id !== undefined) assertId(resource.id);
  return resource;
}

export async function importBatch(ctx: FhirContext, items: readonly ImportItem[]): Promise<ImportBatchResult> {
  const failures: ImportFailure[] = [];
  const accepted: { resource: FhirResource; id: string; source: string }[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    try {
      const resource = validated(ctx, item);
      const id = resource.id ?? uuidV4(ctx.random);
      const key = `${resource.resourceType}/${id}`;
      // The same resource twice in one batch: keep the last, as two sequential PUTs would.
      if (seen.has(key)) {
        const i = accepted.findIndex((a) => `${a.resource.resourceType}/${a.id}` === key);
        if (i >= 0) accepted.splice(i, 1);
      }
      seen.add(key);
      accepted.push({ resource, id, source: item.source });
    } catch (e) {
      if (!isCustodiaError(e)) throw e;
      failures.push({ source: item.source, error: e });
    }
  }
  if (accepted.length === 0) return { written: 0, failures };
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    const states = await tx.currentStates(accepted.map((a) => ({ type: a.resource.resourceType, id: a.id })));
    const writes: VersionWrite[] = accepted.map((a) => planPut(ctx, a.resource, a.id, states.get(`${a.resource.resourceType}/${a.id}`), now, 'PUT').write);
    await tx.writeVersions(writes);
  });
  return { written: accepted.length, failures };
}
