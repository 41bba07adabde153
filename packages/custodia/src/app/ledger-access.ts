/**
 * Who may read what the ledger holds beyond hashes. Checkpoints, tiles and proofs are
 * public (hashes only); an entry's bytes are an audit record (who read which patient's
 * data, and why), so only the privacy officer and the administrator read them, with an
 * administration token, and that read is itself audited.
 */
import type { Principal } from '../access/index.js';
import { auditedAdmin } from './audited-admin.js';
import type { AuditTrail } from './audit-trail.js';
import type { LedgerService } from './ledger-service.js';

export function readLedgerEntry(ledger: LedgerService, audit: AuditTrail, caller: Principal, index: number, address?: string): Promise<Buffer> {
  return auditedAdmin(audit, { caller, roles: ['privacy-officer', 'admin'], subtype: 'ledger-entry', action: 'R', entities: [`ledger/entry/${index}`], address }, () => ledger.entry(index));
}
