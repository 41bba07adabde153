/**
 * The vault's audit trail (issue 5 §1): every audited event becomes a ledger entry, and
 * nothing is answered before its record is durable.
 *
 * - A write's record commits in the write's own transaction: the request pipeline opens a
 *   write-audit context in `scope` and the store appends the record before it commits
 *   (ledger/write-audit.ts, store/kysely-resource-store.ts).
 * - Everything else (reads, refusals, sign-ins, key operations) is appended through the
 *   database's group commit and awaited, so concurrent requests share one fsync.
 * - If the record cannot be written the request fails closed with `audit-unavailable`.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { CustodiaError, type Clock } from '../kernel/index.js';
import type { AuditRecord, WriteAuditContext } from '../ledger/index.js';
import type { DatabaseHandle, LedgerLog } from '../store/index.js';

export class AuditTrail {
  constructor(
    /** The write-audit context of the request being served (the store reads it in its transactions). */
    readonly scope: AsyncLocalStorage<WriteAuditContext>,
    private readonly db: { readonly handle: DatabaseHandle; readonly ledger: LedgerLog },
    readonly clock: Clock,
    /** False only for the benchmark that measures auditing's cost (config.audit). */
    readonly enabled: boolean,
    /** Called after records are durable (the sequencer integrates them soon after). */
    private readonly onAppended: (n: number) => void = () => undefined,
  ) {}

  /** Records waiting for the next flush, with the callers waiting on them. */
  #pending: { readonly records: readonly AuditRecord[]; readonly done: (e?: unknown) => void }[] = [];
  #flushing = false;

  /**
   * Appends `records` and returns once they are durable; `audit-unavailable` when they
   * cannot be. Records of concurrent requests are appended together, in one transaction:
   * one commit (and one fsync) for all of them, as group commit does for writes.
   */
  record(records: readonly AuditRecord[]): Promise<void> {
    if (!this.enabled || records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending.push({ records, done: (e) => (e === undefined ? resolve() : reject(e)) });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        // Let the requests being answered in this turn of the event loop join the batch.
        await new Promise<void>((r) => setImmediate(r));
        const batch = this.#pending.splice(0);
        const records = batch.flatMap((b) => b.records);
        try {
          await this.db.ledger.appendDurably({ audits: records });
        } catch (e) {
          const failure = new CustodiaError('audit-unavailable', 'The audit record of this request could not be written, so the request was not served', { cause: e });
          for (const b of batch) b.done(failure);
          continue;
        }
        for (const b of batch) b.done();
        this.onAppended(records.length);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** Runs `fn` with a write-audit context open: a store transaction inside it appends its record before committing. */
  runAudited<T>(context: WriteAuditContext, fn: () => Promise<T>): Promise<T> {
    return this.enabled ? this.scope.run(context, fn) : fn();
  }
}
