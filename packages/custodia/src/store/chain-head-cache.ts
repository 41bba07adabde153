/**
 * The audit writer thread's memory of patient chain heads (ledger/patient-chain.ts): the
 * newest `audit_patients` index of each filed name it has looked up or written, so that
 * an audited read does not seek the `(patient, idx)` B-tree for its patient's head every
 * time (about 5 µs of the thread's 60–80 a record, measured on the 2-core bench machine).
 *
 * Exact, not a guess. The thread asks only inside its write transaction, where nobody
 * else can commit, and trusts what it holds only while `PRAGMA data_version` on its own
 * connection is what it was when it last committed: that number moves for every commit
 * of every other connection (the vault's writer, another process, a re-filing) and never
 * for the thread's own. So the heads it holds are either the ones its own commits wrote
 * or ones it read since the last foreign commit; anything else empties the cache. A
 * transaction that fails empties it too (what it would have written is not there).
 */

import type { PatientRow } from './ledger-rows.js';

/** The most filed names remembered (about 150 bytes each); past it the cache starts again. */
export const CHAIN_HEAD_CACHE_SIZE = 65_536;

/** What the store holds for a filed name: its newest index, or null (no entry yet). */
type Head = number | null;

export class ChainHeadCache {
  readonly #heads = new Map<string, Head>();
  /** The data_version the cache is valid for; null: nothing trusted yet. */
  #version: number | null = null;

  constructor(private readonly capacity = CHAIN_HEAD_CACHE_SIZE) {}

  /**
   * Called first in each write transaction with the connection's `PRAGMA data_version`:
   * if another connection committed since the cache was last valid, it is emptied.
   */
  begin(dataVersion: number): void {
    if (dataVersion !== this.#version) {
      this.#heads.clear();
      this.#version = dataVersion;
    }
  }

  /** The head of `filed`: remembered, or looked up (`lookup`: the store's MAX(idx), null for none) and remembered. */
  head(filed: string, lookup: () => unknown): Head {
    const known = this.#heads.get(filed);
    if (known !== undefined) return known;
    const n = lookup();
    const head = n === null || n === undefined ? null : Number(n);
    this.#remember(filed, head);
    return head;
  }

  /** After a commit: the `audit_patients` rows it wrote, in index order, are the new heads. */
  committed(rows: readonly PatientRow[]): void {
    for (const [filed, idx] of rows) this.#remember(filed, idx);
  }

  /** A transaction failed: nothing remembered is trusted. */
  forget(): void {
    this.#heads.clear();
    this.#version = null;
  }

  /** Names remembered (for tests). */
  get size(): number {
    return this.#heads.size;
  }

  #remember(filed: string, head: Head): void {
    if (!this.#heads.has(filed) && this.#heads.size >= this.capacity) this.#heads.clear();
    this.#heads.set(filed, head);
  }
}
