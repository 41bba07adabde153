/**
 * The data keys of writes to come, made durable before their transaction takes the write
 * lock, which also holds back the audit records of every read being served
 * (docs/architecture.md, "Durability", "Before the transaction"). A new patient's key is
 * otherwise made and flushed inside the transaction.
 *
 * Only an early start. No key is made for a version the caller may not write, and errors
 * are dropped: what refuses a key (an erased patient) refuses the write inside the
 * transaction, after the checks that come first there, so the response does not change.
 * Callers leave out writes that may well not happen: a conditional create or update whose
 * criteria match something already (conditional-match.ts `noMatchYet`), an update-as-create
 * the caller may not make.
 */
import { uuidV4 } from '../../kernel/index.js';
import type { FhirResource } from '../resource.js';
import { noMatchYet } from './conditional-match.js';
import type { FhirContext } from './fhir-context.js';
import { isFhirId } from './resource-input.js';
import { planPrepared, prepareResource, type PreparedResource } from './version-plan.js';
import { mayCreateWithId, mayWrite, type WriteAccess } from './write-access.js';

/** A version about to be created (`POST`) or put (`PUT`), prepared outside the transaction. */
export interface KeyAhead {
  readonly prepared: PreparedResource;
  readonly method: 'POST' | 'PUT';
}

export async function keysAhead(ctx: FhirContext, access: WriteAccess, ahead: readonly KeyAhead[]): Promise<void> {
  const now = ctx.clock.now();
  const writes = ahead.map((a) => planPrepared(a.prepared, undefined, now, a.method).write).filter((w) => mayWrite(access, w));
  if (writes.length > 0) await ctx.store.prepareKeys(writes).catch(() => undefined);
}

/** A Patient a write may create: under its own id (a PUT's, a body's) or one drawn, after its criteria match nothing (a conditional write). */
export interface NewPatient {
  readonly resource: FhirResource;
  readonly method: 'POST' | 'PUT';
  readonly id?: string;
  readonly criteria?: string;
}

/** The id a new patient was given ahead (its own, or drawn), and its version prepared under it. */
export interface PatientAhead {
  readonly id: string;
  readonly prepared: PreparedResource;
}

/**
 * The keys of the patients writes may create, made ahead in one call (keysAhead). Each gets
 * its id and its prepared version, unless: its criteria match something already
 * (conditional-match.ts `noMatchYet`); it is a PUT by a caller who may not create by id;
 * its own id is not a FHIR id; or its body cannot be prepared (the transaction refuses it
 * there). The results are in the order given, `undefined` for those skipped; the
 * transaction uses an id only if it still creates that patient.
 */
export async function newPatientsAhead(ctx: FhirContext, access: WriteAccess, patients: readonly NewPatient[]): Promise<(PatientAhead | undefined)[]> {
  const byId = mayCreateWithId(access.visibility);
  const out: (PatientAhead | undefined)[] = [];
  for (const p of patients) out.push(await patientAhead(ctx, access, p, byId));
  await keysAhead(ctx, access, out.flatMap((a, i) => (a === undefined ? [] : [{ prepared: a.prepared, method: patients[i]!.method }])));
  return out;
}

async function patientAhead(ctx: FhirContext, access: WriteAccess, p: NewPatient, byId: boolean): Promise<PatientAhead | undefined> {
  if ((p.method === 'PUT' && !byId) || (p.id !== undefined && !isFhirId(p.id))) return undefined;
  if (p.criteria !== undefined && !(await noMatchYet(ctx, ctx.store, 'Patient', p.criteria, access.visibility))) return undefined;
  const id = p.id ?? uuidV4(ctx.random);
  try {
    return { id, prepared: prepareResource(ctx, p.resource, id) };
  } catch {
    return undefined;
  }
}
