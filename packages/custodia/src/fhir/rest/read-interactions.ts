/**
 * read and vread (R4 http.html §3.1.0.2, §3.1.0.3). The stored JSON is returned as is —
 * no parse, no re-serialisation — unless `_summary` or `_elements` ask for part of it.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { StoredVersion } from '../ports/resource-store.js';
import type { Visibility } from '../ports/visibility.js';
import type { FhirContext } from './fhir-context.js';
import type { FhirResult } from './fhir-result.js';
import { assertId, assertResourceType, parseVersionId } from './resource-input.js';
import type { Projection, UnlessChanged } from './fhir-interaction.js';
import type { FhirResource } from '../resource.js';
import { needsProjection, projectResource } from './resource-projection.js';

export function resultOf(v: StoredVersion, projection?: Projection): FhirResult {
  if (v.deleted || v.json === null) {
    throw new CustodiaError('resource-gone', `${v.type}/${v.id} was deleted`);
  }
  const body = projection === undefined || !needsProjection(projection.summary, projection.elements) ? v.json : JSON.stringify(projectResource(JSON.parse(v.json) as FhirResource, projection.summary, projection.elements));
  return { status: 200, body, versionId: v.versionId, lastModified: v.lastUpdated, returned: [v] };
}

export async function readResource(ctx: FhirContext, type: string, id: string, visibility: Visibility, projection?: Projection, unless?: UnlessChanged): Promise<FhirResult> {
  assertResourceType(ctx, type);
  assertId(id);
  const v = await ctx.store.readCurrent(type, id, visibility);
  if (v === undefined) throw new CustodiaError('resource-not-found', `${type}/${id} is not known`);
  if (unless !== undefined && !v.deleted && v.json !== null && unchanged(v, unless)) {
    // 304 Not Modified: the caller holds this version (it is still a disclosure, and audited).
    return { status: 304, versionId: v.versionId, lastModified: v.lastUpdated, returned: [v] };
  }
  return resultOf(v, projection);
}

/** HTTP dates have whole seconds: a version is "not modified since" when its second is not later. */
function unchanged(v: StoredVersion, unless: UnlessChanged): boolean {
  if (unless.versions !== undefined) return unless.versions === '*' || unless.versions.includes(v.versionId);
  return unless.since !== undefined && Math.floor(v.lastUpdated / 1000) * 1000 <= unless.since;
}

export async function vreadResource(ctx: FhirContext, type: string, id: string, version: string, visibility: Visibility, projection?: Projection): Promise<FhirResult> {
  assertResourceType(ctx, type);
  assertId(id);
  const versionId = parseVersionId(version);
  const v = await ctx.store.readVersion(type, id, versionId, visibility);
  if (v === undefined) throw new CustodiaError('version-not-found', `${type}/${id} has no version ${versionId}`);
  return resultOf(v, projection);
}
