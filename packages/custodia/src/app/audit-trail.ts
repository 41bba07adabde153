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

  /** Appends `records` and returns once they are durable; `audit-unavailable` when they cannot be. */
  async record(records: readonly AuditRecord[]): Promise<void> {
    if (!this.enabled || records.length === 0) return;
    try {
      await this.db.handle.transaction((tx) => this.db.ledger.append(tx, { audits: records }));
    } catch (e) {
      throw new CustodiaError('audit-unavailable', 'The audit record of this request could not be written, so the request was not served', { cause: e });
    }
    this.onAppended(records.length);
  }

  /** Runs `fn` with a write-audit context open: a store transaction inside it appends its record before committing. */
  runAudited<T>(context: WriteAuditContext, fn: () => Promise<T>): Promise<T> {
    return this.enabled ? this.scope.run(context, fn) : fn();
  }
}
