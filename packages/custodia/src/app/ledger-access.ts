/**
 * Who may read what the ledger holds beyond hashes. Checkpoints, tiles and proofs are
 * public (hashes only); an entry's bytes are an audit record (who read which patient's
 * data, and why), so only the privacy officer and the administrator read them, with an
 * administration token, and that read is itself audited.
 */
import type { Principal } from '../access/index.js';
import { requireAdministrator } from './admin-api.js';
import { agentOf } from './fhir-audit.js';
import type { AuditTrail } from './audit-trail.js';
import type { LedgerService } from './ledger-service.js';

export async function readLedgerEntry(ledger: LedgerService, audit: AuditTrail, caller: Principal, index: number, address?: string): Promise<Buffer> {
  requireAdministrator(caller, 'privacy-officer', 'admin');
  const bytes = await ledger.entry(index);
  await audit.record([
    { at: audit.clock.now(), type: 'admin', subtype: 'ledger-entry', action: 'R', outcome: '0', agent: agentOf(caller, address), purposeOfUse: caller.purposeOfUse, patients: [], entities: [`ledger/entry/${index}`] },
  ]);
  return bytes;
}
