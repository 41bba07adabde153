/**
 * Which checkpoint the log publishes (GET /ledger/checkpoint) once it has witnesses: the
 * newest one with cosignatures from at least `quorum` of the configured witness keys,
 * those lines appended to the signed note (C2SP tlog-cosignature). The lines are read
 * from the database and verified again over the stored note each time they are served
 * (a result is remembered while the rows are the same), so a checkpoint row rewritten
 * after it was cosigned — a fork re-signed with the log's own key — loses its
 * cosignatures and an older, still witnessed checkpoint is served instead.
 *
 * When no checkpoint has reached the quorum (a new log, witnesses not yet reachable, or
 * every stored cosignature failing), the newest signed checkpoint is served as before,
 * with no cosignature: a client that requires witnesses refuses it, as it must.
 */
import {
  cosignNote,
  cosignatureVerifier,
  parseSignedNote,
  parseVerifierKey,
  verifiedCosignatures,
  witnessKeyRef,
  type CosignatureStore,
  type LedgerStorage,
  type NoteSignature,
  type NoteVerifier,
  type StoredCheckpoint,
} from '../ledger/index.js';

/** A published checkpoint: the note (cosigned or not) and how many witness cosignatures it carries. */
export interface PublishedCheckpoint extends StoredCheckpoint {
  readonly cosignatures: number;
}

/** Candidates looked at per request, newest first, before falling back. */
const CANDIDATES = 16;

export class CosignedCheckpoints {
  readonly #witnesses: readonly NoteVerifier[];
  readonly #refs: readonly string[];
  /** Verification results by size, keyed by the note and the lines they were computed from. */
  readonly #verified = new Map<number, { readonly key: string; readonly sigs: readonly NoteSignature[] }>();
  /** The size last published with a quorum (0: none yet). */
  #floor = 0;

  constructor(
    private readonly log: Pick<LedgerStorage, 'checkpointAt'>,
    private readonly store: CosignatureStore,
    witnessKeys: readonly string[],
    readonly quorum: number,
  ) {
    const keys = witnessKeys.map((k) => parseVerifierKey(k));
    this.#witnesses = keys.map((k) => cosignatureVerifier(k));
    this.#refs = keys.map((k) => witnessKeyRef(k.name, k.keyId));
  }

  /**
   * The newest checkpoint whose stored cosignatures verify for at least `quorum`
   * witnesses, cosigned; otherwise `fallback()`'s checkpoint as it is.
   *
   * @example
   *   const { note } = await cosigned.published(() => ledger.checkpoint());
   */
  async published(fallback: () => Promise<StoredCheckpoint>): Promise<PublishedCheckpoint> {
    // Only sizes from the last one published up are searched (the published size only
    // grows while the log is honest); from the start again when none of them verifies.
    for (const from of this.#floor > 0 ? [this.#floor, 0] : [0]) {
      for (const size of await this.store.quorumSizes(this.#refs, this.quorum, CANDIDATES, from)) {
        const checkpoint = await this.log.checkpointAt(size);
        if (checkpoint === undefined) continue;
        const sigs = await this.#verify(checkpoint);
        if (sigs.length < this.quorum) continue;
        this.#floor = size;
        return { ...checkpoint, note: cosignNote(checkpoint.note, sigs), cosignatures: sigs.length };
      }
    }
    this.#floor = 0;
    return { ...(await fallback()), cosignatures: 0 };
  }

  async #verify(checkpoint: StoredCheckpoint): Promise<readonly NoteSignature[]> {
    const lines = (await this.store.at(checkpoint.size)).filter((r) => this.#refs.includes(r.witness)).map((r) => r.line);
    const key = `${checkpoint.note}\n${lines.join('')}`;
    const hit = this.#verified.get(checkpoint.size);
    if (hit?.key === key) return hit.sigs;
    let sigs: NoteSignature[] = [];
    try {
      sigs = verifiedCosignatures(parseSignedNote(checkpoint.note).text, lines, this.#witnesses);
    } catch {
      // a stored note that does not parse has no valid cosignature
    }
    if (this.#verified.size >= CANDIDATES * 2) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(checkpoint.size, { key, sigs });
    return sigs;
  }
}
