/**
 * Who may read what the ledger holds beyond hashes. Checkpoints, tiles and proofs are
 * public (hashes only); an entry's bytes are an audit record (who read which patient's
 * data, and why), so only the privacy officer and the administrator read them, with an
 * administration token, and that read is itself audited.
 */
import type { Principal } from '../access/index.js';
import { catalogEntry, isCustodiaError } from '../kernel/index.js';
import type { AuditRecord } from '../ledger/index.js';
import { requireAdministrator } from './admin-api.js';
import { agentOf } from './fhir-audit.js';
import type { AuditTrail } from './audit-trail.js';
import type { LedgerService } from './ledger-service.js';

export async function readLedgerEntry(ledger: LedgerService, audit: AuditTrail, caller: Principal, index: number, address?: string): Promise<Buffer> {
  const record = (outcome: AuditRecord['outcome'], outcomeCode?: string): AuditRecord => ({
    at: audit.clock.now(),
    type: 'admin',
    subtype: 'ledger-entry',
    action: 'R',
    outcome,
    ...(outcomeCode === undefined ? {} : { outcomeCode }),
    agent: agentOf(caller, address),
    purposeOfUse: caller.purposeOfUse.slice(0, 64) || 'TREAT',
    patients: [],
    entities: [`ledger/entry/${index}`],
  });
  let bytes: Buffer;
  try {
    requireAdministrator(caller, 'privacy-officer', 'admin');
    bytes = await ledger.entry(index);
  } catch (e) {
    // A refused or failed attempt to read the audit trail is itself on it.
    await audit.record([record(isCustodiaError(e) && catalogEntry(e.code).status < 500 ? '4' : '8', isCustodiaError(e) ? e.code : 'internal')]).catch(() => undefined);
    throw e;
  }
  await audit.record([record('0')]);
  return bytes;
}
