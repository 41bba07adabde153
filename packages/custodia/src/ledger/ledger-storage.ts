/**
 * The port the sequencer and the proof service read and extend the log through (the
 * store owns the tables: store/ledger-log.ts). Leaves are appended by the vault's write
 * transactions; only the sequencer adds tree hashes and checkpoints, in one atomic step.
 */
import type { TreeNode } from './tree-math.js';

/** A signed checkpoint as published: the C2SP signed note, and when it was signed (epoch ms). */
export interface StoredCheckpoint {
  readonly size: number;
  readonly note: string;
  readonly at: number;
}

export interface LedgerStorage {
  /** How many leaves have been appended (integrated into the tree or not). */
  appendedSize(): Promise<number>;
  /** The leaf hashes of leaves [from, to), in order. */
  leafHashes(from: number, to: number): Promise<Buffer[]>;
  /** The stored hashes of complete subtrees of the integrated tree. */
  readHashes(nodes: readonly TreeNode[]): Promise<Buffer[]>;
  /** The newest checkpoint; its size is how far the tree is integrated. */
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  checkpointAt(size: number): Promise<StoredCheckpoint | undefined>;
  /**
   * Atomically stores the node hashes numbered from `firstStored` on (stored-hash-index.ts)
   * and the checkpoint that covers them, if the newest checkpoint is still at `fromSize`;
   * false (nothing written) when another sequencer moved it.
   */
  integrate(firstStored: number, hashes: readonly Buffer[], checkpoint: StoredCheckpoint, fromSize: number): Promise<boolean>;
}
