/**
 * `custodia detect findings …`: the findings on the command line, for whoever holds the
 * data directory (the operator). The same service as `/detect/findings`, so every read and
 * decision is an audit record here too, with the operator as the agent.
 */
import type { Principal } from '../access/index.js';
import { secureRandom, systemClock, type Clock } from '../kernel/index.js';
import type { VaultDatabase } from '../store/index.js';
import { AuditTrail } from './audit-trail.js';
import type { VaultConfig } from './config.js';
import { FindingService } from './finding-service.js';
import { openVaultDatabase } from './vault.js';

/** Who acts from the command line: the operator (the holder of the data directory). */
export const CLI_OPERATOR: Principal = Object.freeze({ kind: 'operator', subject: 'operator', issuer: 'custodia-cli', tokenId: 'cli', scope: '', scopes: [], expiresAt: 0, purposeOfUse: 'TREAT', clearances: [] });

/**
 * Runs `fn` on the database of the vault in `config` with an audit trail over its ledger,
 * then closes it: what the command line's detection operators (findings, inventory, flow
 * alerts) share.
 */
export async function withAuditedDatabase<T>(config: VaultConfig, fn: (db: VaultDatabase, audit: AuditTrail, clock: Clock) => Promise<T>, clock: Clock = systemClock): Promise<T> {
  const db = await openVaultDatabase(config, clock, secureRandom);
  try {
    return await fn(db, new AuditTrail(db.ledger, clock, config.ledger.audit), clock);
  } finally {
    await db.close();
  }
}

/** Runs `fn` with the findings service of the vault in `config`, as the operator. */
export function withFindings<T>(config: VaultConfig, fn: (findings: FindingService, operator: Principal) => Promise<T>): Promise<T> {
  return withAuditedDatabase(config, (db, audit, clock) => fn(new FindingService(db.findings, audit, clock, secureRandom), CLI_OPERATOR));
}
