/**
 * The audit ledger as the vault runs it: the sequencer, on a timer and whenever enough
 * entries are pending, and what the log publishes — the latest signed checkpoint, the
 * verifier key, hash tiles (C2SP tlog-tiles) and RFC 9162 proofs. All of it is public:
 * hashes only, never entry data (entries are served separately, to authorised callers).
 */
import { CustodiaError, type Clock } from '../kernel/index.js';
import {
  assembleProof,
  ed25519NoteSigner,
  formatVerifierKey,
  signChainHead,
  planConsistencyProof,
  planInclusionProof,
  planNodes,
  Sequencer,
  tileNodes,
  tileWidth,
  type HashTile,
  type NotePrivateKey,
  type NoteSigner,
  type SequencerRun,
  type StoredCheckpoint,
} from '../ledger/index.js';
import type { LedgerLog } from '../store/index.js';
import type { CosignedCheckpoints, PublishedCheckpoint } from './cosigned-checkpoints.js';
import type { LedgerConfig } from './ledger-config.js';

export class LedgerService {
  readonly origin: string;
  /** The log's verifier key (C2SP signed-note vkey). */
  readonly verifierKey: string;
  readonly #sequencer: Sequencer;
  readonly #signer: NoteSigner;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SequencerRun> | undefined;
  #pending = 0;
  #onError: (e: unknown) => void = () => undefined;
  readonly #listeners: ((checkpoint: StoredCheckpoint) => void)[] = [];

  constructor(
    /** The ledger's storage (tests and tools read entries through it). */
    readonly log: LedgerLog,
    key: NotePrivateKey,
    private readonly config: LedgerConfig,
    clock: Clock,
    /** With witnesses: which checkpoint is published (cosigned-checkpoints.ts). */
    private readonly cosigned?: CosignedCheckpoints,
  ) {
    this.origin = key.name;
    this.verifierKey = formatVerifierKey(key.name, key.type, key.publicKey);
    this.#signer = ed25519NoteSigner(key);
    this.#sequencer = new Sequencer(log, { origin: key.name, signer: this.#signer, clock });
  }

  /**
   * The log's signed statement that, among the first `size` leaves, the newest entry of
   * Patient/`patient`'s chain is `head` (null: none); ledger/chain-head.ts says why.
   */
  signChainHead(patient: string, size: number, head: number | null): string {
    return signChainHead({ origin: this.origin, patient, size, head }, [this.#signer]);
  }

  /** Publishes checkpoints every interval while entries arrive; `onError` hears of a failed run (the next one retries). */
  start(onError: (e: unknown) => void): void {
    if (this.#timer !== undefined) return;
    this.#onError = onError;
    this.#timer = setInterval(() => void this.#tick().catch(this.#onError), this.config.checkpointIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** Entries were appended: integrate now if enough are waiting. */
  appended(n = 1): void {
    this.#pending += n;
    if (this.#pending >= this.config.checkpointEntries && this.#timer !== undefined) void this.#tick().catch(this.#onError);
  }

  /** A sequencer run, if this server holds the sequencer lease (one per log on a shared PostgreSQL database). */
  async #tick(): Promise<void> {
    if (await this.log.holdsSequencerLease()) await this.sequence();
  }

  /** Integrates what is pending and signs a checkpoint (one run at a time; callers share it). */
  sequence(): Promise<SequencerRun> {
    if (this.#running !== undefined) return this.#running;
    this.#pending = 0;
    this.#running = this.#sequencer
      .run()
      .then((run) => {
        if (run.checkpoint !== undefined) this.#announce(run.checkpoint);
        return run;
      })
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** `listener` hears of the newest checkpoint after every sequencer run (the witness client submits it). */
  onCheckpoint(listener: (checkpoint: StoredCheckpoint) => void): void {
    this.#listeners.push(listener);
  }

  #announce(checkpoint: StoredCheckpoint): void {
    for (const l of this.#listeners) {
      try {
        l(checkpoint);
      } catch (e) {
        this.#onError(e);
      }
    }
  }

  /** Integrates everything appended so far (tests, `custodia ledger` tools, shutdown). */
  async catchUp(): Promise<StoredCheckpoint> {
    for (;;) {
      const run = await this.sequence();
      if (run.checkpoint !== undefined && run.checkpoint.size >= (await this.log.appendedSize())) return run.checkpoint;
    }
  }

  /**
   * A signed checkpoint of at least `size` leaves (proofs for entries below `size` need
   * one): the newest if it is large enough, else the sequencer integrates until it is.
   * Unlike {@link catchUp} it does not chase entries appended meanwhile.
   */
  async checkpointCovering(size: number): Promise<StoredCheckpoint> {
    let latest = await this.checkpoint();
    // Each run integrates up to a batch (50,000 leaves); the bound only stops a sequencer that makes no progress.
    for (let runs = 0; latest.size < size; runs++) {
      if (runs >= 1000) throw new CustodiaError('storage-unavailable', 'The ledger sequencer is not integrating entries');
      const run = await this.sequence();
      latest = run.checkpoint !== undefined && run.checkpoint.size >= latest.size ? run.checkpoint : ((await this.log.latestCheckpoint()) ?? latest);
    }
    return latest;
  }

  /**
   * What GET /ledger/checkpoint serves: with witnesses, the newest checkpoint cosigned by
   * a quorum of them (cosignature lines appended), until there is one the newest signed
   * checkpoint; without witnesses, always the newest signed checkpoint.
   */
  async publishedCheckpoint(): Promise<PublishedCheckpoint> {
    if (this.cosigned === undefined) return { ...(await this.checkpoint()), cosignatures: 0 };
    return this.cosigned.published(() => this.checkpoint());
  }

  /** The newest signed checkpoint (the empty tree's before anything was audited); proofs and tiles are served up to it. */
  async checkpoint(): Promise<StoredCheckpoint> {
    return (await this.log.latestCheckpoint()) ?? (await this.catchUp());
  }

  /** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` (both attacker-controlled, checked). */
  async inclusionProof(index: number, size: number): Promise<Buffer[]> {
    await this.#requirePublished(size);
    const plan = planInclusionProof(index, size);
    return assembleProof(plan, await this.log.readHashes(planNodes(plan)));
  }

  /** Inclusion proofs of several leaves in the tree of `size`, with one read of the stored hashes. */
  async inclusionProofs(indexes: readonly number[], size: number): Promise<Buffer[][]> {
    await this.#requirePublished(size);
    const plans = indexes.map((i) => planInclusionProof(i, size));
    const nodes = plans.map(planNodes);
    const hashes = await this.log.readHashes(nodes.flat());
    let at = 0;
    return plans.map((plan, i) => {
      const mine = hashes.slice(at, at + nodes[i]!.length);
      at += nodes[i]!.length;
      return assembleProof(plan, mine);
    });
  }

  /** RFC 9162 §2.1.4.1 consistency proof between two published sizes. */
  async consistencyProof(from: number, to: number): Promise<Buffer[]> {
    await this.#requirePublished(to);
    if (from > to) throw new CustodiaError('ledger-invalid', 'A consistency proof goes from a smaller tree to a larger one');
    if (from === 0 || from === to) return [];
    const plan = planConsistencyProof(from, to);
    return assembleProof(plan, await this.log.readHashes(planNodes(plan)));
  }

  /**
   * A hash tile (C2SP tlog-tiles) of the published tree: a full tile, or a partial one no
   * wider than the tree reaches (its hashes never change once the tree has them).
   */
  async tile(tile: HashTile): Promise<Buffer> {
    const { size } = await this.checkpoint();
    if (tile.width > tileWidth(tile.level, tile.index, size)) throw new CustodiaError('resource-not-found', 'No such tile in the published tree');
    return Buffer.concat(await this.log.readHashes(tileNodes(tile)));
  }

  /** The bytes of entry `index` as committed (its leaf data); `resource-erased` once its patient was erased. */
  async entry(index: number): Promise<Buffer> {
    if (!Number.isSafeInteger(index) || index < 0) throw new CustodiaError('ledger-invalid', 'An entry index is a non-negative integer');
    const e = await this.log.entry(index);
    if (e === undefined) throw new CustodiaError('resource-not-found', 'No such ledger entry');
    return e.bytes;
  }

  async #requirePublished(size: number): Promise<void> {
    const { size: published } = await this.checkpoint();
    if (!Number.isSafeInteger(size) || size < 1 || size > published) {
      throw new CustodiaError('ledger-invalid', `Proofs are served for published tree sizes 1–${published}`);
    }
  }
}
