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
import type { FhirContext } from './fhir-context.js';
import { planPrepared, type PreparedResource } from './version-plan.js';
import { mayWrite, type WriteAccess } from './write-access.js';

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
