/**
 * The witness's decision on an add-checkpoint request (C2SP tlog-witness §add-checkpoint),
 * pure: given the witness's latest state for the log, the parsed request and the
 * configuration, it returns the HTTP status the spec prescribes and, on success, the
 * cosignatures and the state to store. Persisting that state atomically is the caller's
 * job (add-checkpoint.ts does it with a compare-and-swap port).
 *
 * The checks run in the spec's order: unknown origin 404; no valid signature from a
 * trusted log key, or a bad one, 403; old size above the checkpoint size (a truncation)
 * 400; old size other than the latest cosigned size 409; an empty tree with another
 * root, a proof where none belongs, a fork at the same size or a proof that does not
 * verify, 422; otherwise 200.
 */
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { EMPTY_TREE_ROOT, parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { signNote, type NoteSigner } from './note-signer.js';
import { verifyNote, type NoteVerification, type NoteVerifierSet } from './note-verifier.js';
import { formatSignedNote, type NoteSignature } from './signed-note.js';
import { formatCosignatureBody, formatTreeSizeBody, TLOG_SIZE_CONTENT_TYPE, type AddCheckpointRequest } from './add-checkpoint-request.js';

/** RFC 6962 §2.1.2 consistency of two tree heads, as the Merkle module proves it. */
export interface ConsistencyProof {
  readonly oldSize: number;
  readonly oldRoot: Buffer;
  readonly newSize: number;
  readonly newRoot: Buffer;
  readonly hashes: readonly Buffer[];
}

/**
 * Verifies a consistency proof (injected: the Merkle module owns the hashing). Returns
 * false for a proof that does not verify; a thrown `CustodiaError` counts as false too,
 * any other exception propagates.
 */
export type ConsistencyProofVerifier = (proof: ConsistencyProof) => boolean;

/** What the witness remembers per log: its latest cosigned checkpoint. */
export interface WitnessLogState {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Buffer;
  /**
   * The checkpoint as monitors should get it (tlog-witness §Monitor Retrieval Mechanism):
   * its text, the log signatures the witness verified and the witness's cosignatures.
   */
  readonly signedCheckpoint: string;
}

export interface WitnessConfig {
  /** Trusted log keys per origin: "each witness is configured with a list of supported log public keys". */
  readonly logs: ReadonlyMap<string, NoteVerifierSet>;
  /** The witness's key(s) (cosignature.ts); each adds one cosignature. */
  readonly cosigners: readonly NoteSigner[];
  readonly verifyConsistency: ConsistencyProofVerifier;
}

/** Why a checkpoint is unprocessable (422). */
export type InconsistencyReason = 'empty-tree-root' | 'unexpected-proof' | 'fork' | 'bad-proof';

export type AddCheckpointOutcome =
  | { readonly status: 200; readonly kind: 'cosigned'; readonly cosignatures: readonly NoteSignature[]; readonly state: WitnessLogState; readonly checkpoint: Checkpoint }
  | { readonly status: 400; readonly kind: 'malformed'; readonly reason: string }
  | { readonly status: 403; readonly kind: 'bad-signature' }
  | { readonly status: 404; readonly kind: 'unknown-log' }
  | { readonly status: 409; readonly kind: 'conflict'; readonly latestSize: number }
  | {
      readonly status: 422;
      readonly kind: 'inconsistent';
      readonly reason: InconsistencyReason;
      /** The log-signed checkpoint that failed: possible proof of log misbehaviour, which the witness MAY keep. */
      readonly evidence: string;
    };

/** An HTTP-free description of the response an outcome calls for. */
export interface WitnessResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/**
 * The origin line of a request's checkpoint, used to find the log and its state. The
 * note is not verified yet; the origin only selects which keys must have signed it.
 */
export function requestOrigin(request: AddCheckpointRequest): string {
  const text = request.checkpoint.text;
  return text.slice(0, text.indexOf('\n'));
}

function verifyLogSignature(request: AddCheckpointRequest, verifiers: NoteVerifierSet): NoteVerification | undefined {
  try {
    return verifyNote(request.checkpoint, verifiers);
  } catch (e) {
    if (isCustodiaError(e, 'forbidden')) return undefined;
    throw e;
  }
}

function proofVerifies(verify: ConsistencyProofVerifier, proof: ConsistencyProof): boolean {
  try {
    return verify(proof);
  } catch (e) {
    if (isCustodiaError(e)) return false;
    throw e;
  }
}

/**
 * Decides an add-checkpoint request against the witness's latest state for the request's
 * origin (`undefined` if it never cosigned that log).
 *
 * @example
 *   const request = parseAddCheckpointRequest(body);
 *   const previous = await store.load(requestOrigin(request));
 *   const outcome = witnessAddCheckpoint(previous, request, config);
 *   if (outcome.kind === 'cosigned') await store.compareAndSwap(outcome.state.origin, previous, outcome.state);
 */
export function witnessAddCheckpoint(state: WitnessLogState | undefined, request: AddCheckpointRequest, config: WitnessConfig): AddCheckpointOutcome {
  if (config.cosigners.length === 0) throw new CustodiaError('config-invalid', 'A witness needs at least one cosigner key');
  const origin = requestOrigin(request);
  const verifiers = config.logs.get(origin);
  if (verifiers === undefined) return { status: 404, kind: 'unknown-log' };
  if (state !== undefined && state.origin !== origin) throw new CustodiaError('internal', 'The witness state belongs to another log');

  const verified = verifyLogSignature(request, verifiers);
  if (verified === undefined) return { status: 403, kind: 'bad-signature' };
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(verified.text);
  } catch {
    // parseCheckpoint is pure and throws only request-malformed.
    return { status: 400, kind: 'malformed', reason: 'the signed note is not a checkpoint' };
  }
  const logSigned = { text: verified.text, signatures: verified.verified.map(({ name, keyId, signature }) => ({ name, keyId, signature })) };

  // §add-checkpoint: "The old size MUST be equal to or lower than the checkpoint size." (No truncation.)
  if (request.oldSize > checkpoint.size) return { status: 400, kind: 'malformed', reason: 'the old size is larger than the checkpoint size' };
  // "… the old size matches the size of the latest checkpoint it cosigned … (or zero …)."
  const latestSize = state?.size ?? 0;
  if (request.oldSize !== latestSize) return { status: 409, kind: 'conflict', latestSize };

  const inconsistent = (reason: InconsistencyReason): AddCheckpointOutcome => ({ status: 422, kind: 'inconsistent', reason, evidence: formatSignedNote(logSigned) });
  // "A checkpoint of size zero MUST have the root hash of the empty tree."
  if (checkpoint.size === 0 && !checkpoint.rootHash.equals(EMPTY_TREE_ROOT)) return inconsistent('empty-tree-root');
  if (request.oldSize === 0) {
    // "If the old size is zero, the consistency proof MUST be empty."
    if (request.proof.length > 0) return inconsistent('unexpected-proof');
  } else {
    const previous = state!; // latestSize > 0, so there is a state
    if (request.oldSize === checkpoint.size) {
      // "If the old size matches the checkpoint size, … the root hashes are also identical." A different root is a fork.
      if (!checkpoint.rootHash.equals(previous.rootHash)) return inconsistent('fork');
      if (request.proof.length > 0) return inconsistent('unexpected-proof'); // RFC 6962 §2.1.2: the proof between equal sizes is empty
    } else {
      const proof = { oldSize: previous.size, oldRoot: previous.rootHash, newSize: checkpoint.size, newRoot: checkpoint.rootHash, hashes: request.proof };
      if (!proofVerifies(config.verifyConsistency, proof)) return inconsistent('bad-proof');
    }
  }

  const cosigned = signNote(logSigned, config.cosigners);
  const cosignatures = cosigned.signatures.slice(-config.cosigners.length); // signNote appends the new signatures last
  const next: WitnessLogState = { origin, size: checkpoint.size, rootHash: checkpoint.rootHash, signedCheckpoint: formatSignedNote(cosigned) };
  return { status: 200, kind: 'cosigned', cosignatures, state: next, checkpoint };
}

const TEXT = 'text/plain; charset=utf-8';

const MESSAGES: Readonly<Record<Exclude<AddCheckpointOutcome['kind'], 'cosigned' | 'conflict' | 'malformed'>, string>> = {
  'bad-signature': 'the checkpoint is not validly signed by a key trusted for its origin\n',
  'unknown-log': 'unknown log origin\n',
  inconsistent: 'the checkpoint is not consistent with the latest cosigned checkpoint\n',
};

/**
 * The status, media type and body for an outcome (the HTTP adapter sends them as they are).
 *
 * @example
 *   witnessResponse({ status: 409, kind: 'conflict', latestSize: 20852014 });
 *   // { status: 409, contentType: 'text/x.tlog.size', body: '20852014\n' }
 */
export function witnessResponse(outcome: AddCheckpointOutcome): WitnessResponse {
  switch (outcome.kind) {
    case 'cosigned':
      return { status: 200, contentType: TEXT, body: formatCosignatureBody(outcome.cosignatures) };
    case 'conflict':
      return { status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, body: formatTreeSizeBody(outcome.latestSize) };
    case 'malformed':
      return { status: 400, contentType: TEXT, body: `${outcome.reason}\n` };
    default:
      return { status: outcome.status, contentType: TEXT, body: MESSAGES[outcome.kind] };
  }
}
