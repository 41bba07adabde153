/**
 * A C2SP tlog-witness (issue 5 §3), HTTP-free: `add-checkpoint` (decide with
 * ledger/witness-protocol.ts, persist with a compare-and-swap, answer with the exact
 * status, media type and body the spec prescribes) and the monitor retrieval of the
 * latest cosigned checkpoint per log. The same service runs in `custodia witness serve`
 * and in a vault started with `--witness-for`.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../kernel/index.js';
import {
  addCheckpoint,
  cosignatureSigner,
  merkleConsistency,
  witnessResponse,
  type AddCheckpointOutcome,
  type CosignatureSigner,
  type NotePrivateKey,
  type WitnessConfig,
  type WitnessResponse,
} from '../ledger/index.js';
import type { WitnessStateFile } from '../store/index.js';
import { logVerifiers, type WitnessedLog } from './witness-config.js';

/** Largest add-checkpoint body accepted: a checkpoint, 63 proof lines and a few signatures fit in well under 16 KiB. */
export const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024;

/** What the service counted since it started (for logs: counts only). */
export interface WitnessCounts {
  readonly cosigned: number;
  readonly conflicts: number;
  readonly refused: number;
}

/** An answer, and which outcome it was (for the adapter's log line). */
export interface WitnessAnswer extends WitnessResponse {
  readonly outcome: AddCheckpointOutcome['kind'];
}

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export class WitnessService {
  /** The witness's name (its key's name). */
  readonly name: string;
  /** The witness's cosignature verifier key (C2SP vkey, type 0x04), for logs to configure. */
  readonly verifierKey: string;
  readonly #config: WitnessConfig;
  /** tlog-witness §Monitor Retrieval: lowercase hex SHA-256 of each origin → the origin. */
  readonly #origins: ReadonlyMap<string, string>;
  #counts = { cosigned: 0, conflicts: 0, refused: 0 };

  constructor(
    private readonly state: WitnessStateFile,
    key: NotePrivateKey,
    logs: readonly WitnessedLog[],
    private readonly clock: Clock,
  ) {
    const cosigner: CosignatureSigner = cosignatureSigner(key, clock);
    this.name = cosigner.name;
    this.verifierKey = cosigner.verifierKey;
    const verifiers = logVerifiers(logs);
    this.#config = Object.freeze({ logs: verifiers, cosigners: [cosigner], verifyConsistency: merkleConsistency });
    this.#origins = new Map([...verifiers.keys()].map((o) => [sha256Hex(o), o]));
  }

  /** The origins of the logs this witness cosigns. */
  get origins(): readonly string[] {
    return [...this.#config.logs.keys()];
  }

  get counts(): WitnessCounts {
    return { ...this.#counts };
  }

  /**
   * tlog-witness §add-checkpoint for one request body (attacker-controlled, at most
   * {@link MAX_ADD_CHECKPOINT_BYTES}). The new state is durable before this resolves.
   *
   * @example
   *   const { status, contentType, body } = await witness.addCheckpoint(requestBody);
   */
  async addCheckpoint(body: Uint8Array): Promise<WitnessAnswer> {
    const outcome = await addCheckpoint(body, this.state, this.#config, { limits: { maxBytes: MAX_ADD_CHECKPOINT_BYTES } });
    if (outcome.kind === 'cosigned') this.#counts.cosigned++;
    else if (outcome.kind === 'conflict') this.#counts.conflicts++;
    else this.#counts.refused++;
    // "The witness MAY log the request even if the checkpoint fails one of the consistency checks … as it might be proof of log misbehavior."
    if (outcome.kind === 'inconsistent') {
      const origin = outcome.evidence.slice(0, outcome.evidence.indexOf('\n'));
      this.state.recordEvidence({ origin, reason: outcome.reason, checkpoint: outcome.evidence, at: this.clock.now() });
    }
    return { ...witnessResponse(outcome), outcome: outcome.kind };
  }

  /**
   * tlog-witness §Monitor Retrieval Mechanism: the latest checkpoint cosigned for the log
   * whose origin hashes to `originHash` (lowercase hex SHA-256), with the log's signatures
   * and this witness's cosignature; `undefined` if it never cosigned one (404).
   */
  async checkpoint(originHash: string): Promise<string | undefined> {
    const origin = this.#origins.get(originHash);
    if (origin === undefined) return undefined;
    return (await this.state.load(origin))?.signedCheckpoint;
  }

  close(): void {
    this.state.close();
  }
}
