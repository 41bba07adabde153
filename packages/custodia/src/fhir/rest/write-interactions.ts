/**
 * create, update, delete and their conditional forms (R4 http.html §3.1.0.4–§3.1.0.7).
 * Each runs in one store transaction: check, plan, write — under the caller's visibility
 * (write-access.ts): what the caller may not see behaves like what does not exist.
 */
import { CustodiaError, uuidV4 } from '../../kernel/index.js';
import type { FhirContext } from './fhir-context.js';
import type { FhirResult } from './fhir-result.js';
import { findMatches, noMatchYet, parseQueryString, singleMatch } from './conditional-match.js';
import { assertId, assertResourceType, parseResourceBody } from './resource-input.js';
import { checkIfMatch, planDelete, planPrepared, planPut, prepareResource, type PlannedWrite } from './version-plan.js';
import { assertChangeable, assertMayCreateWithId, assertPatientsSeen, assertWritable, mayCreateWithId, visibleState, type WriteAccess } from './write-access.js';
import { keysAhead, newPatientsAhead } from './keys-ahead.js';
import { applyResourcePatch, parsePatch, type ResourcePatch } from './resource-patch.js';
import { patchAllowance, type PatchAllowance } from './patch-allowance.js';
import type { CurrentState, ResourceReader } from '../ports/resource-store.js';
import type { FhirResource } from '../resource.js';

function written(p: PlannedWrite): FhirResult {
  const w = p.write;
  return { status: p.status, body: w.json ?? undefined, location: `${w.type}/${w.id}/_history/${w.versionId}`, versionId: w.versionId, lastModified: w.lastUpdated } as FhirResult;
}

/** POST [type], optionally with If-None-Exist (conditional create). */
export async function createResource(ctx: FhirContext, type: string, body: unknown, ifNoneExist: string | undefined, access: WriteAccess): Promise<FhirResult> {
  const { visibility } = access;
  assertResourceType(ctx, type);
  const resource = parseResourceBody(ctx, body, type);
  const prepared = prepareResource(ctx, resource, uuidV4(ctx.random));
  // Before the write lock: index rows, labels and a new patient's data key (keys-ahead.ts);
  // for a conditional create of a patient, only when nothing matches it yet.
  if (ifNoneExist === undefined || (type === 'Patient' && (await noMatchYet(ctx, ctx.store, type, ifNoneExist, visibility)))) {
    await keysAhead(ctx, access, [{ prepared, method: 'POST' }]);
  }
  return ctx.store.transaction(async (tx) => {
    if (ifNoneExist !== undefined) {
      const existing = singleMatch(await findMatches(ctx, tx, type, parseQueryString(ifNoneExist), visibility), 'If-None-Exist');
      if (existing !== undefined) {
        return { status: 200, body: existing.json ?? undefined, location: `${type}/${existing.id}/_history/${existing.versionId}`, versionId: existing.versionId, lastModified: existing.lastUpdated } as FhirResult;
      }
    }
    const plan = planPrepared(prepared, undefined, ctx.clock.now(), 'POST');
    assertWritable(access, plan.write);
    await assertPatientsSeen(tx, access, plan.write);
    await tx.writeVersions([plan.write]);
    return written(plan);
  });
}

/** PUT [type]/[id]: update, or update-as-create when the id is new (client-assigned ids). */
export async function updateResource(ctx: FhirContext, type: string, id: string, body: unknown, ifMatch: number | undefined, access: WriteAccess): Promise<FhirResult> {
  const { visibility } = access;
  assertResourceType(ctx, type);
  assertId(id);
  const resource = parseResourceBody(ctx, body, type);
  if (resource.id !== id) throw new CustodiaError('id-mismatch', 'The resource id must be present and equal to the id in the URL');
  // A restricted caller updates only what exists (assertMayCreateWithId), whose key does too.
  const prepared = prepareResource(ctx, resource, id);
  if (mayCreateWithId(visibility)) await keysAhead(ctx, access, [{ prepared, method: 'PUT' }]);
  return ctx.store.transaction(async (tx) => {
    const current = await visibleState(tx, type, id, visibility);
    if (current === undefined || current.deleted) assertMayCreateWithId(visibility, type, id);
    else await assertChangeable(tx, access, type, id);
    checkIfMatch(current, ifMatch);
    // An invisible resource looks absent; writing over it would be a create of an existing id.
    const existing = current ?? (await tx.currentStates([{ type, id }])).get(`${type}/${id}`);
    const plan = planPrepared(prepared, existing, ctx.clock.now(), 'PUT');
    assertWritable(access, plan.write);
    await assertPatientsSeen(tx, access, plan.write);
    await tx.writeVersions([plan.write]);
    return written(plan);
  });
}

/**
 * PATCH [type]/[id] with a JSON Patch (RFC 6902) or a FHIRPath Patch (R4 http.html
 * §3.1.0.6, fhirpatch.html; resource-patch.ts): applied to the
 * current version as the caller may see it, then checked and written exactly as an update
 * with that body would be (validation, rules, labels, the caller's right to change it).
 */
export async function patchResource(ctx: FhirContext, type: string, id: string, body: unknown, ifMatch: number | undefined, access: WriteAccess): Promise<FhirResult> {
  assertResourceType(ctx, type);
  assertId(id);
  const patch = parsePatch(body);
  return ctx.store.transaction(async (tx) => {
    const { current, resource } = await patched(ctx, tx, type, id, patch, ifMatch, access, patchAllowance());
    const plan = planPrepared(prepareResource(ctx, resource, id), current, ctx.clock.now(), 'PUT');
    assertWritable(access, plan.write);
    await assertPatientsSeen(tx, access, plan.write);
    await tx.writeVersions([plan.write]);
    return written(plan);
  });
}

/**
 * The current version of `type/id` as the caller may see and change it, with `patch`
 * applied and the result validated as a PUT body (also for PATCH entries of a transaction).
 */
export async function patched(ctx: FhirContext, tx: ResourceReader, type: string, id: string, patch: ResourcePatch, ifMatch: number | undefined, access: WriteAccess, allowance: PatchAllowance): Promise<{ current: CurrentState; resource: FhirResource }> {
  const { visibility } = access;
  const current = await visibleState(tx, type, id, visibility);
  if (current === undefined) throw new CustodiaError('resource-not-found', `${type}/${id} is not known`);
  if (current.deleted) throw new CustodiaError('resource-gone', `${type}/${id} was deleted`);
  // Seen a moment ago in the same transaction: the live version is there.
  const stored = await tx.readCurrent(type, id, visibility);
  if (stored?.json == null) throw new CustodiaError('resource-not-found', `${type}/${id} is not known`);
  await assertChangeable(tx, access, type, id);
  checkIfMatch(current, ifMatch);
  const target = JSON.parse(stored.json) as Record<string, unknown>;
  applyResourcePatch(target, patch, allowance);
  if (target['resourceType'] !== type || target['id'] !== id) throw new CustodiaError('id-mismatch', 'A patch may not change the resource type or id');
  return { current, resource: parseResourceBody(ctx, target, type) };
}

/** PUT [type]?criteria (R4 http.html §3.1.0.4.3). */
export async function conditionalUpdate(ctx: FhirContext, type: string, query: string, body: unknown, ifMatch: number | undefined, access: WriteAccess): Promise<FhirResult> {
  const { visibility } = access;
  assertResourceType(ctx, type);
  const resource = parseResourceBody(ctx, body, type);
  // Before the write lock: if it will likely create a patient, that patient's key (keys-ahead.ts).
  const [ahead] = type === 'Patient' ? await newPatientsAhead(ctx, access, [{ resource, method: 'PUT', criteria: query, ...(resource.id === undefined ? {} : { id: resource.id }) }]) : [];
  return ctx.store.transaction(async (tx) => {
    const match = singleMatch(await findMatches(ctx, tx, type, parseQueryString(query), visibility), 'conditional update');
    let id: string;
    if (match !== undefined) {
      if (resource.id !== undefined && resource.id !== match.id) {
        throw new CustodiaError('id-mismatch', 'The resource id does not match the resource the criteria found');
      }
      id = match.id;
      await assertChangeable(tx, access, type, id);
    } else if (resource.id !== undefined) {
      assertId(resource.id);
      assertMayCreateWithId(visibility, type, resource.id);
      id = resource.id;
    } else {
      id = ahead?.id ?? uuidV4(ctx.random);
    }
    const current = (await tx.currentStates([{ type, id }])).get(`${type}/${id}`);
    checkIfMatch(current, ifMatch);
    // The version prepared ahead, when it is for this id (the usual case of a create).
    const plan = ahead?.prepared.id === id ? planPrepared(ahead.prepared, current, ctx.clock.now(), 'PUT') : planPut(ctx, resource, id, current, ctx.clock.now(), 'PUT');
    assertWritable(access, plan.write);
    await assertPatientsSeen(tx, access, plan.write);
    await tx.writeVersions([plan.write]);
    return written(plan);
  });
}

/** DELETE [type]/[id]: a deletion version; deleting what does not exist (or cannot be seen) changes nothing. */
export async function deleteResource(ctx: FhirContext, type: string, id: string, access: WriteAccess): Promise<FhirResult> {
  const { visibility } = access;
  assertResourceType(ctx, type);
  assertId(id);
  return ctx.store.transaction(async (tx) => {
    const current = await visibleState(tx, type, id, visibility);
    const write = planDelete(type, id, current, ctx.clock.now());
    if (write === null) return { status: 204 };
    await assertChangeable(tx, access, type, id);
    await tx.writeVersions([write]);
    return { status: 204, versionId: write.versionId, lastModified: write.lastUpdated } as FhirResult;
  });
}

/** DELETE [type]?criteria, single-match mode (R4 http.html §3.1.0.7.1). */
export async function conditionalDelete(ctx: FhirContext, type: string, query: string, access: WriteAccess): Promise<FhirResult> {
  const { visibility } = access;
  assertResourceType(ctx, type);
  return ctx.store.transaction(async (tx) => {
    const match = singleMatch(await findMatches(ctx, tx, type, parseQueryString(query), visibility), 'conditional delete');
    if (match === undefined) return { status: 204 };
    await assertChangeable(tx, access, type, match.id);
    const write = planDelete(type, match.id, { versionId: match.versionId, deleted: false }, ctx.clock.now());
    if (write === null) return { status: 204 };
    await tx.writeVersions([write]);
    return { status: 204, versionId: write.versionId, lastModified: write.lastUpdated } as FhirResult;
  });
}
