import { Command } from '@commander-js/extra-typings';
import { CustodiaError, mintOperatorToken } from '../app/index.js';
import { dataDirOption } from './storage-options.js';
import { parseDuration } from './durations.js';

export function tokenCommand(): Command<[], Record<string, unknown>> {
  return new Command('token')
    .description("print a bearer token signed with the vault's key (the operator's way in)")
    .addOption(dataDirOption())
    .option('--scope <scopes>', 'SMART scopes, space separated', 'system/*.cruds')
    .option('--subject <sub>', 'token subject', 'operator')
    .option('--ttl <duration>', 'lifetime, e.g. 10m, 1h', '1h')
    .action(async (o) => {
      const ttl = parseDuration(o.ttl);
      if (ttl === undefined) throw new CustodiaError('request-malformed', '--ttl must look like 90s, 10m or 2h');
      const token = await mintOperatorToken({ dataDir: o.dataDir, subject: o.subject, scope: o.scope, ttlSeconds: ttl });
      process.stdout.write(`${token}\n`);
    });
}
