import { closeSync, openSync, readSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { CustodiaError, mintOperatorToken, parseTokenId, revokeToken, revokeTokenId } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { parseDuration } from './durations.js';
import { storageConfig } from './storage-config.js';

/** More than any token this vault issues: the reader stops there, and signedTokenClaims refuses what is that long. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/**
 * The token to revoke: from a file, or stdin with `-` (never from the command line, where
 * `ps` and shell history would show it). At most MAX_TOKEN_FILE_BYTES are read, whatever
 * the file or pipe holds.
 */
function readToken(file: string): string {
  let fd: number | undefined;
  try {
    fd = file === '-' ? 0 : openSync(file, 'r');
    const buf = Buffer.alloc(MAX_TOKEN_FILE_BYTES);
    let length = 0;
    for (let n = 1; n > 0 && length < buf.length; length += n) n = readSync(fd, buf, length, buf.length - length, null);
    return buf.subarray(0, length).toString('utf8');
  } catch (e) {
    throw new CustodiaError('request-malformed', `The token file ${file} cannot be read`, { cause: e });
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
}

function revokeCommand() {
  return new Command('revoke')
    .description("end a bearer token of this vault before it expires (custodia token, or the authorization server's); servers refuse it from their next request")
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(schemaOption())
    .option('--token-file <file>', 'a file holding the token, or - for standard input')
    .option('--jti <id>', "the token's id, as an AuditEvent's agent.policy shows it (urn:ietf:params:oauth:jti:<id>, or the id alone), when you do not have the token")
    .option('--unrecorded', 'with --jti: revoke an id this vault has no record of issuing (a token issued before this version recorded issued tokens); kept on the list for 24 h 5 min')
    .exitOverride()
    .action(async (o) => {
      if ((o.tokenFile === undefined) === (o.jti === undefined)) throw new CustodiaError('request-malformed', 'Give the token (--token-file FILE, or - for standard input) or its id (--jti ID), not both');
      if (o.unrecorded === true && o.jti === undefined) throw new CustodiaError('request-malformed', '--unrecorded goes with --jti');
      if (o.jti !== undefined) {
        const id = parseTokenId(o.jti);
        const r = await revokeTokenId(storageConfig(o), id, undefined, { unrecorded: o.unrecorded === true });
        const until = new Date(r.until).toISOString();
        process.stdout.write(
          !r.revoked
            ? `Token id ${id} expired at ${until}: nothing to revoke.\n`
            : r.recorded
              ? `Revoked token id ${id}: servers refuse it from their next request, until it would have expired (${until}, with five minutes for clock skew).\n`
              : `Revoked token id ${id}, which this vault has no record of issuing: servers refuse any token with this id from their next request. An id alone does not say when its token expires, so it stays on the list until ${until}.\n`,
        );
        return;
      }
      const r = await revokeToken(storageConfig(o), readToken(o.tokenFile!));
      const expiry = new Date(r.expiresAt * 1000).toISOString();
      process.stdout.write(
        r.revoked
          ? `Revoked token ${r.tokenId} (${r.kind} token of ${r.subject}); it stays refused until it would have expired, ${expiry}.\n`
          : `Token ${r.tokenId} (${r.kind} token of ${r.subject}) expired at ${expiry}: nothing to revoke.\n`,
      );
    });
}

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
    // `token revoke --data-dir …`: the data directory is revoke's own, not token's (with main.ts's enablePositionalOptions).
    .enablePositionalOptions()
    .addCommand(revokeCommand())
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
