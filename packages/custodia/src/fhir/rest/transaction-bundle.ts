/**
 * transaction (R4 http.html §3.1.0.11.2): all entries succeed or none does. Entries are
 * processed in the order the spec fixes — DELETE, POST, PUT, then GET — inside one
 * store transaction; ids are assigned before references are rewritten, so entries can
 * reference each other in any direction; every write is appended in one batch.
 */
import { CustodiaError, uuidV4 } from '../../kernel/index.js';
import type { CurrentState, ResourceWriter, VersionWrite } from '../ports/resource-store.js';
import type { FhirResource } from '../resource.js';
import type { FhirContext } from './fhir-context.js';
import type { FhirInteraction, RequestOptions } from './fhir-interaction.js';
import { etagOf, statusLine, type FhirResult } from './fhir-result.js';
import { bundleJson, type BundleEntryJson } from './bundle-json.js';
import { atEntry, type BundleEntryRequest } from './bundle-request.js';
import { findMatches, parseQueryString, singleMatch } from './conditional-match.js';
import { ReferenceResolver } from './reference-resolution.js';
import { parsePatch, type ResourcePatch } from './resource-patch.js';
import { patchAllowance, type PatchAllowance } from './patch-allowance.js';
import { patched } from './write-interactions.js';
import { assertId, assertResourceType, parseResourceBody } from './resource-input.js';
import { checkIfMatch, planDelete, planPut } from './version-plan.js';
import { newPatientsAhead, type NewPatient } from './keys-ahead.js';
import { readInTransaction } from './transaction-reads.js';
import { assertChangeable, assertMayCreateWithId, assertPatientsSeen, assertWritable, visibleState, writeAccessOf, type WriteAccess } from './write-access.js';
import type { Visibility } from '../ports/visibility.js';

type Step =
  | { kind: 'write'; entry: BundleEntryRequest; type: string; id: string; resource: FhirResource | null; ifMatch?: number; method: 'POST' | 'PUT' | 'DELETE' }
  | { kind: 'existing'; entry: BundleEntryRequest; type: string; id: string; versionId: number; lastUpdated: number; json: string | null }
  | { kind: 'noop'; entry: BundleEntryRequest }
  | { kind: 'read'; entry: BundleEntryRequest };

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

export async function processTransaction(ctx: FhirContext, entries: readonly BundleEntryRequest[], options: RequestOptions): Promise<FhirResult> {
  // Structural validation first, outside the transaction: cheap failures hold no lock.
  const resources = new Map<number, FhirResource>();
  const patches = new Map<number, ResourcePatch>();
  for (const e of entries) {
    const i = e.interaction;
    try {
      if (i.kind === 'create' || i.kind === 'update' || i.kind === 'conditional-update') {
        assertResourceType(ctx, i.type);
        resources.set(e.index, structuredClone(parseResourceBody(ctx, i.body, i.type)));
      } else if (i.kind === 'patch') {
        assertResourceType(ctx, i.type);
        assertId(i.id);
        patches.set(e.index, parsePatch(i.body));
      } else if (!['delete', 'conditional-delete', 'read', 'vread', 'search'].includes(i.kind)) {
        throw new CustodiaError('bundle-invalid', `A transaction entry cannot be a ${i.kind} interaction`);
      }
    } catch (err) {
      throw atEntry(e.index, err);
    }
  }
  const ordered = [...entries].sort((a, b) => (ORDER[a.method] ?? 9) - (ORDER[b.method] ?? 9) || a.index - b.index);
  const patientIds = await patientKeysAhead(ctx, ordered, resources, writeAccessOf(options));
  const now = ctx.clock.now();
  const responses = await ctx.store.transaction(async (tx) => {
    const resolver = new ReferenceResolver(ctx, tx, options.visibility);
    // One allowance for all the bundle's patches: it holds every patched resource until it commits.
    const allowance = patchAllowance();
    const steps: Step[] = [];
    for (const e of ordered) {
      try {
        const patch = patches.get(e.index);
        steps.push(patch !== undefined ? await patchStep(ctx, tx, e, patch, resolver, writeAccessOf(options), allowance) : await identify(ctx, tx, e, resources.get(e.index) ?? null, resolver, options.visibility, patientIds.get(e.index)));
      } catch (err) {
        throw atEntry(e.index, err);
      }
    }
    for (const s of steps) {
      if (s.kind !== 'write' || s.resource === null) continue;
      try {
        // A resolved reference names its target's type, which the element may not allow
        // (reference-targets.ts): the rewritten resource is checked again.
        if (await resolver.rewrite(s.resource)) parseResourceBody(ctx, s.resource, s.type);
      } catch (err) {
        throw atEntry(s.entry.index, err);
      }
    }
    const writes = await planWrites(ctx, tx, steps, now, writeAccessOf(options));
    await tx.writeVersions(writes.map((w) => w.write));
    const out = new Map<number, BundleEntryJson>();
    for (const w of writes) out.set(w.index, writtenEntry(w.write, w.status, options));
    for (const s of steps) {
      if (s.kind === 'existing') out.set(s.entry.index, existingEntry(s, options));
      else if (s.kind === 'noop') out.set(s.entry.index, { response: { status: statusLine(204) } });
      else if (s.kind === 'read') out.set(s.entry.index, await readEntry(ctx, tx, s.entry, options));
    }
    return out;
  });
  const body = bundleJson(
    { type: 'transaction-response', id: uuidV4(ctx.random), timestamp: new Date(now).toISOString() },
    entries.map((e) => responses.get(e.index) ?? { response: { status: statusLine(500) } }),
  );
  return { status: 200, body };
}

/**
 * The data keys of the new patients the bundle creates, made before its transaction
 * (keys-ahead.ts `newPatientsAhead`): every other entry's version is sealed under a key
 * that exists, or under one of theirs (ownerOf: a resource in one patient's compartment
 * takes that patient's key). Plain creates of a Patient get their ids now (returned by
 * entry index), and so do conditional creates and conditional updates without an id
 * whose criteria match nothing yet; a PUT creates under its own id.
 *
 * Every new patient, however many: a key made ahead outlives a Bundle its transaction then
 * refuses, but each entry is charged to the caller's rate limits as a request
 * (fhir-gateway.ts), and a refused PUT of one new patient leaves its key behind just as
 * well, so a Bundle leaves no more keys that seal nothing than the same entries sent one
 * by one. (Until 2026-12-01, when a Bundle cost one request, a Bundle of more than eight
 * new patients made their keys inside its transaction, holding the write lock, and every
 * audited read behind it, while they were made and wrapped.)
 */
async function patientKeysAhead(ctx: FhirContext, ordered: readonly BundleEntryRequest[], resources: ReadonlyMap<number, FhirResource>, access: WriteAccess): Promise<Map<number, string>> {
  const creates: (NewPatient & { index: number })[] = [];
  for (const e of ordered) {
    const i = e.interaction;
    const resource = resources.get(e.index);
    if (resource?.resourceType !== 'Patient') continue;
    if (i.kind === 'create') creates.push({ index: e.index, resource, method: 'POST', ...(i.ifNoneExist === undefined ? {} : { criteria: i.ifNoneExist }) });
    else if (i.kind === 'update' && resource.id === i.id) creates.push({ index: e.index, resource, method: 'PUT', id: i.id });
    else if (i.kind === 'conditional-update') creates.push({ index: e.index, resource, method: 'PUT', criteria: i.query, ...(resource.id === undefined ? {} : { id: resource.id }) });
  }
  const ids = new Map<number, string>();
  const made = await newPatientsAhead(ctx, access, creates);
  creates.forEach((c, k) => {
    const m = made[k];
    if (m !== undefined && c.id === undefined) ids.set(c.index, m.id);
  });
  return ids;
}

/** A PATCH entry: the current version with its patch applied, written as an update of it. */
async function patchStep(ctx: FhirContext, tx: ResourceWriter, e: BundleEntryRequest, patch: ResourcePatch, resolver: ReferenceResolver, access: WriteAccess, allowance: PatchAllowance): Promise<Step> {
  const i = e.interaction as Extract<FhirInteraction, { kind: 'patch' }>;
  const { resource } = await patched(ctx, tx, i.type, i.id, patch, i.ifMatch, access, allowance);
  resolver.bind(e.fullUrl, `${i.type}/${i.id}`);
  return { kind: 'write', entry: e, type: i.type, id: i.id, resource: structuredClone(resource), method: 'PUT', ...(i.ifMatch === undefined ? {} : { ifMatch: i.ifMatch }) };
}

/** Decides which resource each entry acts on, and binds its fullUrl to that resource; a create, or a conditional update that creates without an id, takes `assigned` as its id when given. */
async function identify(
  ctx: FhirContext,
  tx: ResourceWriter,
  e: BundleEntryRequest,
  resource: FhirResource | null,
  resolver: ReferenceResolver,
  visibility: Visibility,
  assigned: string | undefined,
): Promise<Step> {
  const i = e.interaction;
  switch (i.kind) {
    case 'create': {
      if (i.ifNoneExist !== undefined) {
        const existing = singleMatch(await findMatches(ctx, tx, i.type, parseQueryString(i.ifNoneExist), visibility), 'ifNoneExist');
        if (existing !== undefined) {
          resolver.bind(e.fullUrl, `${i.type}/${existing.id}`);
          return { kind: 'existing', entry: e, type: i.type, id: existing.id, versionId: existing.versionId, lastUpdated: existing.lastUpdated, json: existing.json };
        }
      }
      const id = assigned ?? uuidV4(ctx.random);
      resolver.bind(e.fullUrl, `${i.type}/${id}`);
      return { kind: 'write', entry: e, type: i.type, id, resource, method: 'POST' };
    }
    case 'update': {
      assertId(i.id);
      if (resource?.id !== i.id) throw new CustodiaError('id-mismatch', 'The resource id must be present and equal to the id in request.url');
      resolver.bind(e.fullUrl, `${i.type}/${i.id}`);
      return { kind: 'write', entry: e, type: i.type, id: i.id, resource, method: 'PUT', ...(i.ifMatch === undefined ? {} : { ifMatch: i.ifMatch }) };
    }
    case 'conditional-update': {
      const match = singleMatch(await findMatches(ctx, tx, i.type, parseQueryString(i.query), visibility), 'conditional update');
      if (match !== undefined && resource?.id !== undefined && resource.id !== match.id) {
        throw new CustodiaError('id-mismatch', 'The resource id does not match the resource the criteria found');
      }
      if (resource?.id !== undefined) assertId(resource.id);
      const id = match?.id ?? resource?.id ?? assigned ?? uuidV4(ctx.random);
      resolver.bind(e.fullUrl, `${i.type}/${id}`);
      return { kind: 'write', entry: e, type: i.type, id, resource, method: 'PUT', ...(i.ifMatch === undefined ? {} : { ifMatch: i.ifMatch }) };
    }
    case 'delete':
      assertResourceType(ctx, i.type);
      assertId(i.id);
      return { kind: 'write', entry: e, type: i.type, id: i.id, resource: null, method: 'DELETE' };
    case 'conditional-delete': {
      assertResourceType(ctx, i.type);
      const match = singleMatch(await findMatches(ctx, tx, i.type, parseQueryString(i.query), visibility), 'conditional delete');
      return match === undefined ? { kind: 'noop', entry: e } : { kind: 'write', entry: e, type: i.type, id: match.id, resource: null, method: 'DELETE' };
    }
    default:
      return { kind: 'read', entry: e };
  }
}

interface PlannedEntryWrite {
  readonly index: number;
  readonly write: VersionWrite;
  readonly status: number;
}

async function planWrites(ctx: FhirContext, tx: ResourceWriter, steps: readonly Step[], now: number, access: WriteAccess): Promise<PlannedEntryWrite[]> {
  const { visibility } = access;
  const targets = steps.filter((s): s is Extract<Step, { kind: 'write' }> => s.kind === 'write');
  const seen = new Set<string>();
  for (const s of targets) {
    const key = `${s.type}/${s.id}`;
    if (seen.has(key)) throw atEntry(s.entry.index, new CustodiaError('bundle-invalid', `${key} is the target of more than one entry`));
    seen.add(key);
  }
  const states: Map<string, CurrentState> = await tx.currentStates(targets.filter((s) => s.method !== 'POST').map((s) => ({ type: s.type, id: s.id })));
  // Patients this Bundle writes: their new records may name them (assertPatientsSeen).
  const patientsWritten = new Set(targets.filter((s) => s.type === 'Patient' && s.method !== 'DELETE').map((s) => s.id));
  const out: PlannedEntryWrite[] = [];
  for (const s of targets) {
    try {
      const current = states.get(`${s.type}/${s.id}`);
      // What the caller may not see behaves like what does not exist (write-access.ts).
      const known = s.method === 'POST' || current === undefined ? current : await visibleState(tx, s.type, s.id, visibility);
      if (known !== undefined && !known.deleted) await assertChangeable(tx, access, s.type, s.id);
      if (s.method === 'DELETE') {
        const write = planDelete(s.type, s.id, known, now);
        if (write !== null) out.push({ index: s.entry.index, write, status: 204 });
        continue;
      }
      if (s.method === 'PUT' && (known === undefined || known.deleted)) assertMayCreateWithId(visibility, s.type, s.id);
      checkIfMatch(known, s.ifMatch);
      const plan = planPut(ctx, s.resource!, s.id, current, now, s.method);
      assertWritable(access, plan.write);
      await assertPatientsSeen(tx, access, plan.write, patientsWritten);
      out.push({ index: s.entry.index, write: plan.write, status: plan.status });
    } catch (err) {
      throw atEntry(s.entry.index, err);
    }
  }
  return out;
}

function writtenEntry(w: VersionWrite, status: number, options: RequestOptions): BundleEntryJson {
  const lastModified = new Date(w.lastUpdated).toISOString();
  if (w.json === null) return { response: { status: statusLine(204), etag: etagOf(w.versionId), lastModified } };
  const response = { status: statusLine(status), location: `${w.type}/${w.id}/_history/${w.versionId}`, etag: etagOf(w.versionId), lastModified };
  return options.returnPreference === 'representation' ? { resource: w.json, response } : { response };
}

function existingEntry(s: Extract<Step, { kind: 'existing' }>, options: RequestOptions): BundleEntryJson {
  const response = { status: statusLine(200), location: `${s.type}/${s.id}/_history/${s.versionId}`, etag: etagOf(s.versionId), lastModified: new Date(s.lastUpdated).toISOString() };
  return options.returnPreference === 'representation' && s.json !== null ? { resource: s.json, response } : { response };
}

async function readEntry(ctx: FhirContext, tx: ResourceWriter, e: BundleEntryRequest, options: RequestOptions): Promise<BundleEntryJson> {
  try {
    const r = await readInTransaction(ctx, tx, e.interaction, options);
    return { ...(r.body === undefined ? {} : { resource: r.body }), response: { status: statusLine(r.status), ...(r.versionId === undefined ? {} : { etag: etagOf(r.versionId) }) } };
  } catch (err) {
    throw atEntry(e.index, err);
  }
}
