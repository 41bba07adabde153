/**
 * `custodia detect inventory`: the unknown talkers of the device network — endpoints that
 * sent telemetry and match no Device by MAC or IP (app/talker-inventory.ts) — in key order.
 * Register the real ones as Devices with their MAC identifier; investigate the others.
 */
import { Command } from '@commander-js/extra-typings';
import { CustodiaError, listInventory, type Talker } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { storageConfig } from './storage-config.js';

const line = (t: Talker): string => [t.talker, t.address ?? '-', new Date(t.firstSeen).toISOString(), new Date(t.lastSeen).toISOString(), `${t.flows} flows`].join('  ');

export function detectInventoryCommand() {
  return new Command('inventory')
    .description('unknown talkers: endpoints that sent telemetry and match no Device (by MAC or IP)')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(schemaOption())
    .option('--limit <n>', 'at most this many (1–1000)', '100')
    .option('--after <talker>', 'the page after this talker key')
    .option('--json', 'one JSON object per line', false)
    .exitOverride()
    .action(async (o) => {
      const limit = Number(o.limit);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new CustodiaError('request-malformed', '--limit is a whole number from 1 to 1000');
      const list = await listInventory(storageConfig(o), { limit, ...(o.after === undefined ? {} : { after: o.after }) });
      process.stdout.write(list.map((t) => (o.json ? JSON.stringify(t) : line(t))).join('\n') + (list.length > 0 ? '\n' : ''));
    });
}
