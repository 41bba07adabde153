/**
 * The single sequencer of a log (the Trillian / Tessera "integrate" step): it takes the
 * leaves appended since the last checkpoint, hashes them into the tree (RFC 9162 §2.1.1)
 * with every new complete subtree stored once (stored-hash-index.ts), and signs a C2SP
 * checkpoint for the new size — all in one atomic step, so a checkpoint never names a
 * tree whose hashes are not stored. Batches are bounded so that one run never holds the
 * writer for long.
 *
 * Several servers on one database may each run one: `integrate` succeeds only from the
 * size it read, so a sequencer that lost the race starts again from storage.
 */
import type { Clock } from '../kernel/index.js';
import { signCheckpoint } from './checkpoint.js';
import { formatSignedNote } from './signed-note.js';
import type { NoteSigner } from './note-signer.js';
import type { LedgerStorage, StoredCheckpoint } from './ledger-storage.js';
import { storedHashCount } from './stored-hash-index.js';
import { rangeNodes } from './tree-math.js';
import { TreeBuilder } from './tree-builder.js';

export interface SequencerOptions {
  /** The log's origin line (C2SP tlog-checkpoint), e.g. `hospital.example/custodia`. */
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly clock: Clock;
  /** At most this many leaves per run. */
  readonly maxBatch?: number;
}

export interface SequencerRun {
  /** Leaves integrated by this run (0 when there was nothing new, or another sequencer won). */
  readonly integrated: number;
  readonly checkpoint: StoredCheckpoint | undefined;
}

export class Sequencer {
  #tree: TreeBuilder | undefined;

  constructor(
    private readonly storage: LedgerStorage,
    private readonly options: SequencerOptions,
  ) {}

  /** Integrates what is pending (up to one batch) and signs a checkpoint for it; the first run signs the empty tree. */
  async run(): Promise<SequencerRun> {
    const latest = await this.storage.latestCheckpoint();
    const from = latest?.size ?? 0;
    const appended = await this.storage.appendedSize();
    if (latest !== undefined && appended <= from) return { integrated: 0, checkpoint: latest };
    const tree = await this.#treeAt(from);
    const to = Math.min(appended, from + (this.options.maxBatch ?? 50_000));
    const hashes: Buffer[] = [];
    const builder = TreeBuilder.resume(tree.size, tree.frontier(), { onNode: (_node, hash) => hashes.push(hash) });
    for (const leaf of await this.storage.leafHashes(from, to)) builder.append(leaf);
    const note = signCheckpoint({ origin: this.options.origin, size: to, rootHash: builder.root(), extensions: [] }, [this.options.signer]);
    const checkpoint: StoredCheckpoint = { size: to, note: formatSignedNote(note), at: this.options.clock.now() };
    if (!(await this.storage.integrate(storedHashCount(from), hashes, checkpoint, from))) {
      this.#tree = undefined;
      return { integrated: 0, checkpoint: await this.storage.latestCheckpoint() };
    }
    this.#tree = builder;
    return { integrated: to - from, checkpoint };
  }

  /** The tree at `size`, from memory when this sequencer integrated it, else from the stored frontier. */
  async #treeAt(size: number): Promise<TreeBuilder> {
    if (this.#tree?.size === size) return this.#tree;
    this.#tree = TreeBuilder.resume(size, await this.storage.readHashes(rangeNodes(0, size)));
    return this.#tree;
  }
}
