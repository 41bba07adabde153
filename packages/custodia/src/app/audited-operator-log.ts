/**
 * Administrative and key-management actions enter the audit ledger too (issue 5 §1: key
 * operations, erasure, administrative changes): every record of the operator log —
 * tokens minted with `custodia token`, users and clients changed, break-the-glass reviews,
 * legal holds, KEK and data-key rotations, erasures — is also appended to the ledger,
 * durably, as an audit event; if that fails the action fails (the operator log entry is
 * written first and says what was attempted).
 */
import type { OperatorAction, OperatorLog } from '../access/index.js';
import { isFhirId } from '../fhir/index.js';
import type { AuditRecord, AuditType } from '../ledger/index.js';
import type { LedgerLog } from '../store/index.js';

function typeOf(action: string): AuditType {
  if (action.startsWith('token.')) return 'token';
  if (action.startsWith('keys.')) return 'key';
  if (action.startsWith('patient.erase')) return 'erasure';
  if (action.startsWith('btg.')) return 'break-glass';
  return 'admin';
}

/** The ledger's record of an operator-log action (its details are non-secret by the operator log's own rule). */
export function operatorAuditRecord(a: OperatorAction): AuditRecord {
  const patient = a.detail['patient'];
  return {
    at: a.at,
    type: typeOf(a.action),
    subtype: a.action.slice(0, 64),
    action: 'E',
    outcome: '0',
    agent: { who: (a.actor || 'unknown').slice(0, 256) },
    patients: typeof patient === 'string' && isFhirId(patient) ? [patient] : [],
    entities: typeof patient === 'string' && isFhirId(patient) ? [`Patient/${patient}`] : [],
    query: JSON.stringify(a.detail).slice(0, 4096),
  };
}

export function auditedOperatorLog(log: OperatorLog, ledger: LedgerLog): OperatorLog {
  return {
    async record(a) {
      await log.record(a);
      await ledger.appendDurably({ audits: [operatorAuditRecord(a)] });
    },
    recent: (limit) => log.recent(limit),
  };
}
