/**
 * `custodia detect inventory`: the unknown talkers on the command line, for whoever holds
 * the data directory (the operator); every read is an audit record, as over HTTP.
 */
import type { Talker, TalkerQuery } from '../store/index.js';
import type { VaultConfig } from './config.js';
import { CLI_OPERATOR, withAuditedDatabase } from './finding-admin.js';
import { TalkerInventory } from './talker-inventory.js';

/** One page of the inventory of the vault in `config`, read as the operator. */
export function listInventory(config: VaultConfig, q: TalkerQuery): Promise<Talker[]> {
  return withAuditedDatabase(config, (db, audit, clock) => new TalkerInventory(db.talkers, audit, clock).list(CLI_OPERATOR, q));
}
