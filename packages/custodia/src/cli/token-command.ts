import { Command } from '@commander-js/extra-typings';
import { CustodiaError, mintOperatorToken } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { parseDuration } from './durations.js';

export function tokenCommand(): Command<[], Record<string, unknown>> {
  return new Command('token')
    .description("print a bearer token signed with the vault's key (the operator's way in; every use is recorded)")
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(schemaOption())
    .option('--user <username>', "a token for this user: their role, fhirUser and clearances")
    .option('--patient <id>', 'patient context (what patient/ scopes are about)')
    .option('--scope <scopes>', 'SMART scopes, space separated (default system/*.cruds; with --user, user/*.cruds, plus custodia/admin for admin and privacy-officer users)')
    .option('--purpose <code>', 'purpose of use (HL7 v3), e.g. TREAT or BTG')
    .option('--reason <text>', 'the reason, with --purpose BTG')
    .option('--subject <sub>', 'token subject of an operator token', 'operator')
    .option('--ttl <duration>', 'lifetime, e.g. 10m, 1h', '1h')
    .action(async (o) => {
      const ttl = parseDuration(o.ttl);
      if (ttl === undefined) throw new CustodiaError('request-malformed', '--ttl must look like 90s, 10m or 2h');
      const token = await mintOperatorToken({
        dataDir: o.dataDir,
        subject: o.subject,
        ...(o.scope === undefined ? {} : { scope: o.scope }),
        ttlSeconds: ttl,
        ...(o.database === undefined ? {} : { database: o.database }),
        ...(o.schema === undefined ? {} : { postgresSchema: o.schema }),
        ...(o.user === undefined ? {} : { user: o.user }),
        ...(o.patient === undefined ? {} : { patient: o.patient }),
        ...(o.purpose === undefined ? {} : { purpose: o.purpose }),
        ...(o.reason === undefined ? {} : { reason: o.reason }),
      });
      process.stdout.write(`${token}\n`);
    });
}
