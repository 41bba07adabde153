/**
 * A write's audit record commits in the same database transaction as the write (issue 5
 * §1). The request pipeline knows who is writing and why; only the store knows what was
 * written once the transaction body has run. The pipeline therefore opens a write-audit
 * context for the request (handed to the store explicitly, in a view of the store for
 * that request: store/kysely-resource-store.ts `withAudit`), and the store turns it into
 * the record, with the versions it wrote,
 * inside the transaction, just before it commits. A request whose transaction rolled
 * back, or that never wrote, is audited by the pipeline afterwards as a failure or a read.
 */
import type { AuditAction, AuditRecord } from './audit-record.js';
import { MAX_ENTITIES } from './audit-record.js';

/** Everything about the record but what the store learns in the transaction. */
export type WriteAuditTemplate = Omit<AuditRecord, 'action' | 'outcome' | 'patients' | 'entities' | 'entitiesTruncated' | 'at'>;

export interface WriteAuditContext {
  readonly template: WriteAuditTemplate;
  readonly now: () => number;
  /** Set once a transaction that carried this context has committed with its record. */
  recorded: boolean;
}

/** One version the transaction wrote. */
export interface WrittenVersion {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  readonly method: 'POST' | 'PUT' | 'DELETE';
  /** Patients whose compartment the version is in (the Patient itself for a Patient). */
  readonly patients: readonly string[];
}

function actionOf(template: WriteAuditTemplate, written: readonly WrittenVersion[]): AuditAction {
  // A transaction, batch or operation that writes is an Execute (BALP); a single write says what it did.
  if (template.subtype === 'transaction' || template.subtype === 'batch' || template.subtype.startsWith('$')) return 'E';
  const methods = new Set(written.map((w) => w.method));
  if (methods.size !== 1) return 'E';
  const [m] = methods;
  if (m === 'DELETE') return 'D';
  return m === 'POST' || written.every((w) => w.versionId === 1) ? 'C' : 'U';
}

/** The record of a successful write, from its context and what it wrote. */
export function writeAuditRecord(ctx: WriteAuditContext, written: readonly WrittenVersion[]): AuditRecord {
  const entities = written.slice(0, MAX_ENTITIES).map((w) => `${w.type}/${w.id}/_history/${w.versionId}`);
  const patients = [...new Set(written.flatMap((w) => w.patients))].sort().slice(0, MAX_ENTITIES);
  return {
    ...ctx.template,
    at: ctx.now(),
    action: actionOf(ctx.template, written),
    outcome: '0',
    patients,
    entities,
    ...(written.length > MAX_ENTITIES ? { entitiesTruncated: true } : {}),
  };
}
