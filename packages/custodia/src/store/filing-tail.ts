/**
 * The audit writer thread's chain heads (ledger/patient-chain.ts) over the two places a
 * patient's entries are filed (migration 0024): `audit_patients`, by patient then index,
 * and `audit_filings`, the tail of recent filings in index order, which the append that
 * makes it span `FILING_MERGE_SPAN` entries moves into `audit_patients` whole.
 *
 * Exact, not a guess. The thread asks only inside its write transaction, where nobody
 * else can commit, and at the start of each one it catches up with the tail: it reads
 * `audit_filing_merges.through` and every tail row after the last one it has seen (the
 * vault's own writer files the audits of writes there too). So it always knows every row
 * of the tail, and a name it does not know has no row there: its head is `audit_patients`'
 * (one seek, then remembered; a newer row would show up in the tail). Merging moves rows
 * without changing their indexes, so what it knows stays true across its own merges; a
 * merge by another connection (`through` moved under it) moved rows it never saw, and it
 * starts again from the tail. A transaction that fails, or more names than its capacity,
 * start it again too.
 *
 * Before the tail (until 2026-11-30) each audited read's `audit_patients` row dirtied a
 * B-tree page of its own (rows by patient, reads spread over patients), a 4 KiB WAL frame
 * per read; and the thread's memory was dropped whenever another connection committed.
 */

/** Names remembered at most, beyond the tail's own (about 150 bytes each); past it the memory starts again from the tail. */
export const FILING_MEMORY = 65_536;

/** What the store holds for a filed name: its newest index, or null (no entry yet). */
type Head = number | null;

export class FilingTail {
  readonly #heads = new Map<string, Head>();
  /** `audit_filing_merges.through` as last read; undefined: nothing trusted. */
  #through: number | undefined;
  /** The last tail index read (or written by the thread itself). */
  #seen = -1;

  constructor(private readonly capacity = FILING_MEMORY) {}

  /**
   * First in each write transaction, with `audit_filing_merges.through`: the index after
   * which to read the tail (every row after it, in index order, goes to {@link observe}).
   */
  readFrom(through: number): number {
    if (through !== this.#through || this.#heads.size > this.capacity) {
      this.#heads.clear();
      this.#through = through;
      this.#seen = through;
    }
    return this.#seen;
  }

  /** The tail rows after {@link readFrom}'s index, in index order: each is its name's newest. */
  observe(rows: Iterable<readonly [filed: string, idx: number, ...rest: unknown[]]>): void {
    for (const [filed, idx] of rows) {
      this.#heads.set(filed, idx);
      if (idx > this.#seen) this.#seen = idx;
    }
  }

  /** The head of `filed`: known, or looked up in `audit_patients` (`lookup`: its MAX(idx), null for none) and remembered. */
  head(filed: string, lookup: () => unknown): Head {
    const known = this.#heads.get(filed);
    if (known !== undefined) return known;
    const n = lookup();
    const head = n === null || n === undefined ? null : Number(n);
    this.#heads.set(filed, head);
    return head;
  }

  /** The index `audit_filing_merges.through` held when last read (-1 before any). */
  get through(): number {
    return this.#through ?? -1;
  }

  /**
   * After a commit: the tail rows it wrote (index order), and `through` if it merged the
   * tail (what is known stays true: a merge keeps every index).
   */
  committed(rows: readonly (readonly [filed: string, idx: number, at: number])[], mergedThrough?: number): void {
    this.observe(rows);
    if (mergedThrough !== undefined) {
      this.#through = mergedThrough;
      if (mergedThrough > this.#seen) this.#seen = mergedThrough;
    }
  }

  /** A transaction failed: nothing is trusted until the tail is read again. */
  forget(): void {
    this.#through = undefined;
  }

  /** Names remembered (for tests). */
  get size(): number {
    return this.#heads.size;
  }
}
