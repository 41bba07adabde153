/**
 * `custodia detect inventory`: the unknown talkers on the command line, for whoever holds
 * the data directory (the operator); every read is an audit record, as over HTTP.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { secureRandom, systemClock } from '../kernel/index.js';
import type { WriteAuditContext } from '../ledger/index.js';
import type { Talker, TalkerQuery } from '../store/index.js';
import { AuditTrail } from './audit-trail.js';
import type { VaultConfig } from './config.js';
import { CLI_OPERATOR } from './finding-admin.js';
import { TalkerInventory } from './talker-inventory.js';
import { openVaultDatabase } from './vault.js';

/** One page of the inventory of the vault in `config`, read as the operator. */
export async function listInventory(config: VaultConfig, q: TalkerQuery): Promise<Talker[]> {
  const db = await openVaultDatabase(config, systemClock, secureRandom);
  try {
    const audit = new AuditTrail(new AsyncLocalStorage<WriteAuditContext>(), db.ledger, systemClock, config.ledger.audit);
    return await new TalkerInventory(db.talkers, audit, systemClock).list(CLI_OPERATOR, q);
  } finally {
    await db.close();
  }
}
