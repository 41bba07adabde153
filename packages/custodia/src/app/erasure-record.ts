/**
 * How an erasure enters the audit ledger: an `erasure` entry naming the destroyed data
 * keys (so that `custodia ledger verify` accepts the versions they emptied) and an audit
 * event saying who erased whom, in one durable transaction. Shared by the server and the
 * `custodia patient erase` command.
 */
import type { AuditRecord } from '../ledger/index.js';
import type { DatabaseHandle, LedgerLog } from '../store/index.js';

export type ErasureRecorder = (e: { readonly patient: string; readonly keyIds: readonly string[]; readonly actor: string; readonly at: number }) => Promise<void>;

export function ledgerErasureRecorder(db: { readonly handle: DatabaseHandle; readonly ledger: LedgerLog }, enabled: boolean, onAppended: (n: number) => void = () => undefined): ErasureRecorder {
  return async (e) => {
    if (!enabled) return;
    const event: AuditRecord = { at: e.at, type: 'erasure', subtype: 'patient-erase', action: 'D', outcome: '0', agent: { who: e.actor.slice(0, 256) }, patients: [e.patient], entities: [`Patient/${e.patient}`] };
    await db.ledger.appendDurably({ erasures: [{ patient: e.patient, keyIds: e.keyIds }], audits: [event] });
    onAppended(2);
  };
}
