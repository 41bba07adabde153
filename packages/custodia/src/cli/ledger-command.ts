/** `custodia ledger vkey|verify`: the audit log's verifier key, and a full check of the ledger against storage (app/ledger-admin.ts). */
import { Command } from '@commander-js/extra-typings';
import { CustodiaError, exportAuditEvents, jsonLinesSink, ledgerVerifierKey, syslogSink, verifyVaultLedger } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { storageConfig } from './storage-config.js';

export function ledgerCommand(): Command<[], Record<string, unknown>> {
  const ledger = new Command('ledger').description('the audit ledger: verifier key and verification').exitOverride();
  ledger.addCommand(
    new Command('vkey')
      .description("print the log's verifier key (C2SP signed-note vkey), for witnesses and auditors")
      .addOption(dataDirOption())
      .exitOverride()
      .action((o) => {
        process.stdout.write(`${ledgerVerifierKey(storageConfig(o))}\n`);
      }),
  );
  ledger.addCommand(
    new Command('verify')
      .description('recompute the whole tree from storage, check every checkpoint signature, every entry and every stored version against its commitment; exits 1 naming the first problem')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .option('--vkey <vkey>', "the log's verifier key as you know it (default: from the key file in --data-dir)")
      .option('--json', 'print the full report as JSON', false)
      .exitOverride()
      .action(async (o) => {
        const r = await verifyVaultLedger(storageConfig(o), o.vkey);
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          const lines = [
            `Verifier key: ${r.verifierKey}`,
            `Leaves: ${r.leaves} (${r.erasedEntries} audit entries of erased patients, checked by hash only)`,
            `Checkpoints: ${r.checkpoints}, newest at size ${r.checkpointedSize}${r.leaves > r.checkpointedSize ? ` (${r.leaves - r.checkpointedSize} leaves await the sequencer)` : ''}`,
            `Resource versions: ${r.versions} (${r.erasedVersions} emptied by recorded erasures)`,
            r.ok ? 'OK: the ledger and the stored data agree.' : `FAILED: ${r.problemCount} problem(s); the first: ${r.problems[0]}`,
            ...r.problems.slice(1, 20).map((p) => `  also: ${p}`),
          ];
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        if (!r.ok) process.exitCode = 1;
      }),
  );
  ledger.addCommand(
    new Command('export')
      .description('the audit events, in log order, for a SIEM: JSON lines on stdout, or RFC 5424 syslog over TCP/TLS; never record contents or names')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .option('--since <index>', 'start at this ledger index (default 0, or the --state file)')
      .option('--state <file>', 'remember the next index here across runs')
      .option('--follow', 'keep sending new events as they are recorded (stop with Ctrl-C)', false)
      .option('--syslog <url>', 'send to a syslog collector: tcp://host:port or tls://host:port (RFC 5425)')
      .option('--ca <file>', 'PEM CA certificates for a tls:// collector (default: the system CAs)')
      .exitOverride()
      .action(async (o) => {
        if (o.since !== undefined && !/^(?:0|[1-9][0-9]{0,15})$/.test(o.since)) throw new CustodiaError('config-invalid', '--since is a ledger index (a non-negative integer)');
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        process.once('SIGTERM', () => abort.abort());
        const target = o.syslog === undefined ? undefined : await syslogSink(o.syslog, o.ca);
        try {
          const r = await exportAuditEvents(storageConfig(o), target?.sink ?? jsonLinesSink((t) => process.stdout.write(t)), {
            ...(o.since === undefined ? {} : { since: Number(o.since) }),
            ...(o.state === undefined ? {} : { stateFile: o.state }),
            follow: o.follow,
            signal: abort.signal,
          });
          process.stderr.write(`exported ${r.exported} audit events (${r.erased} of erased patients not readable); next index ${r.next}\n`);
        } finally {
          await target?.close();
        }
      }),
  );
  return ledger;
}
