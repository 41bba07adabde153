/**
 * The vault's audit trail (issue 5 §1): every audited event becomes a ledger entry, and
 * nothing is answered before its record is durable.
 *
 * - A write's record commits in the write's own transaction: the request pipeline hands
 *   the store a view of itself that carries the request's write-audit context, and the
 *   store appends the record before it commits (ledger/write-audit.ts,
 *   store/kysely-resource-store.ts `withAudit`).
 * - Everything else (reads, refusals, sign-ins, key operations) is appended through the
 *   database's group commit and awaited, so concurrent requests share one fsync.
 * - If the record cannot be written the request fails closed with `audit-unavailable`.
 */
import { CustodiaError, type Clock } from '../kernel/index.js';
import type { AuditRecord } from '../ledger/index.js';
import type { LedgerLog } from '../store/index.js';

const unavailable = (cause: unknown): CustodiaError =>
  new CustodiaError('audit-unavailable', 'The audit record of this request could not be written, so the request was not served', { cause });

export class AuditTrail {
  constructor(
    private readonly ledger: LedgerLog,
    readonly clock: Clock,
    /** False only for the benchmark that measures auditing's cost (config.audit). */
    readonly enabled: boolean,
    /** Called after records are durable (the sequencer integrates them soon after). */
    private readonly onAppended: (n: number) => void = () => undefined,
  ) {}

  /** Records waiting to be committed, with the callers waiting on them. */
  #pending: { readonly records: readonly AuditRecord[]; readonly done: (e?: unknown) => void }[] = [];
  /** Committed, waiting for the next flush to stable storage. */
  #committed: ((e?: unknown) => void)[] = [];
  #committing = false;
  #syncing = false;

  /**
   * Appends `records` and returns once they are durable; `audit-unavailable` when they
   * cannot be. Two loops share the work (as a database's group commit does): the records
   * of concurrent requests are committed together, one transaction per turn of the event
   * loop, each sent without waiting for the one before; and flushes to stable storage run
   * back to back, each covering every commit made before it started. Commits never wait
   * for flushes, so batches grow with the load. (With the SQLite writer thread a commit is
   * durable when it resolves, and the flush has nothing left to do.)
   */
  record(records: readonly AuditRecord[]): Promise<void> {
    if (!this.enabled || records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending.push({ records, done: (e) => (e === undefined ? resolve() : reject(e)) });
      if (!this.#committing) void this.#commitLoop();
    });
  }

  async #commitLoop(): Promise<void> {
    this.#committing = true;
    try {
      while (this.#pending.length > 0) {
        // Let the requests being answered in this turn of the event loop join the batch.
        await new Promise<void>((r) => setImmediate(r));
        const batch = this.#pending.splice(0);
        const records = batch.flatMap((b) => b.records);
        // Not awaited: the next turn's batch goes out while this one is written (the
        // writer thread, or the database's connection queue, keeps them in order).
        this.ledger.appendUnsynced({ audits: records }).then(
          () => {
            this.#committed.push(...batch.map((b) => b.done));
            this.onAppended(records.length);
            if (!this.#syncing) void this.#syncLoop();
          },
          (e: unknown) => {
            for (const b of batch) b.done(unavailable(e));
          },
        );
      }
    } finally {
      this.#committing = false;
    }
  }

  async #syncLoop(): Promise<void> {
    this.#syncing = true;
    try {
      while (this.#committed.length > 0) {
        const waiting = this.#committed.splice(0);
        try {
          await this.ledger.flushAppends();
        } catch (e) {
          for (const done of waiting) done(unavailable(e));
          continue;
        }
        for (const done of waiting) done();
      }
    } finally {
      this.#syncing = false;
    }
  }
}
