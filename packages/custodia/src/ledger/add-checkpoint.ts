/**
 * Serving C2SP tlog-witness §add-checkpoint end to end, minus HTTP: parse the body, decide
 * (witness-protocol.ts), and persist the new state atomically before answering. The spec
 * is explicit that "checking the old size against the latest checkpoint and persisting the
 * new checkpoint must be performed atomically", or two racing requests can roll a log back;
 * the `WitnessStateStore` port therefore offers only a compare-and-swap, and a lost race
 * is decided again against the state that won.
 */
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { parseAddCheckpointRequest, type AddCheckpointRequest } from './add-checkpoint-request.js';
import type { NoteLimits } from './signed-note.js';
import { requestOrigin, witnessAddCheckpoint, type AddCheckpointOutcome, type WitnessConfig, type WitnessLogState } from './witness-protocol.js';

/** Where the witness keeps its latest state per log (a port: the store module implements it). */
export interface WitnessStateStore {
  /** The latest cosigned state for `origin`, if any. */
  load(origin: string): Promise<WitnessLogState | undefined>;
  /**
   * Stores `next` only if the stored state is still `expected` (same size and root hash;
   * `undefined`: none stored yet), durably, in one atomic step. False when another writer won.
   */
  compareAndSwap(origin: string, expected: WitnessLogState | undefined, next: WitnessLogState): Promise<boolean>;
}

export interface AddCheckpointOptions {
  readonly limits?: NoteLimits;
  /** How many lost compare-and-swap races to re-decide before giving up with `storage-conflict`. */
  readonly maxAttempts?: number;
}

/**
 * Handles one add-checkpoint body (attacker-controlled) and returns the outcome, after the
 * new state is stored when the checkpoint was cosigned.
 *
 * @example
 *   const outcome = await addCheckpoint(requestBody, store, { logs, cosigners: [cosigner], verifyConsistency });
 *   const { status, contentType, body } = witnessResponse(outcome);
 */
export async function addCheckpoint(body: string | Uint8Array, store: WitnessStateStore, config: WitnessConfig, options: AddCheckpointOptions = {}): Promise<AddCheckpointOutcome> {
  let request: AddCheckpointRequest;
  try {
    request = parseAddCheckpointRequest(body, options.limits);
  } catch (e) {
    if (!isCustodiaError(e, 'request-malformed')) throw e;
    return { status: 400, kind: 'malformed', reason: e.message };
  }
  const origin = requestOrigin(request);
  if (!config.logs.has(origin)) return { status: 404, kind: 'unknown-log' };
  const maxAttempts = options.maxAttempts ?? 3;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const state = await store.load(origin);
    const outcome = witnessAddCheckpoint(state, request, config);
    if (outcome.kind !== 'cosigned' || (await store.compareAndSwap(origin, state, outcome.state))) return outcome;
  }
  throw new CustodiaError('storage-conflict', 'The witness state kept changing under concurrent requests; retry');
}
