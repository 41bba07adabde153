/**
 * `custodia ledger vkey|verify|verify-proof|export`: the audit log's verifier key, a full
 * check of the ledger against storage (app/ledger-admin.ts), the offline check of a saved
 * `$access-log` Bundle (app/access-log-verify.ts), and the SIEM export (app/siem-export.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { CustodiaError, exportAuditEvents, isCustodiaError, jsonLinesSink, ledgerVerifierKey, MAX_PROOF_BUNDLE_BYTES, syslogSink, compareWithEarlier, verifyAccessLogBundle, verifyVaultLedger, type AccessLogVerification } from '../app/index.js';
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
      .option('--witness-vkey <vkey>', "a witness's verifier key: its stored cosignatures must verify over the stored checkpoints (repeatable)", (v: string, p: string[] | undefined) => [...(p ?? []), v], undefined)
      .option('--json', 'print the full report as JSON', false)
      .exitOverride()
      .action(async (o) => {
        const r = await verifyVaultLedger(storageConfig(o), o.vkey, o.witnessVkey ?? []);
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          const lines = [
            `Verifier key: ${r.verifierKey}`,
            `Leaves: ${r.leaves} (${r.erasedEntries} audit entries of erased patients, checked by hash only)`,
            `Checkpoints: ${r.checkpoints}, newest at size ${r.checkpointedSize}${r.leaves > r.checkpointedSize ? ` (${r.leaves - r.checkpointedSize} leaves await the sequencer)` : ''}`,
            `Resource versions: ${r.versions} (${r.erasedVersions} emptied by recorded erasures)`,
            `Cosignatures: ${r.cosignatures} verified${r.uncheckedCosignatures > 0 ? `, ${r.uncheckedCosignatures} of witnesses not given with --witness-vkey (not checked)` : ''}`,
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
  ledger.addCommand(
    new Command('verify-proof')
      .description("check a saved $access-log Bundle offline: the checkpoint's signature under the log's key, each entry's leaf hash, canonical form and inclusion proof, and that each AuditEvent matches its entry; exits 1 naming the first failure")
      .argument('<file>', 'the Bundle as saved (JSON)')
      .option('--vkey <vkey>', "the log's verifier key, as you obtained it from the vault operator or `custodia ledger vkey` (pin it: do not take it from the file)")
      .option('--trust-embedded-vkey', 'use the verifier key written in the Bundle instead (proves only that the Bundle is consistent with itself)', false)
      .option('--earlier <file>', 'a Bundle of the same patient saved before: fail if this one shows an entry that the earlier one withheld while the log signed there was none')
      .option('--json', 'print the result as JSON', false)
      .exitOverride()
      .action((file, o) => {
        let r: AccessLogVerification;
        try {
          const options = { ...(o.vkey === undefined ? {} : { vkey: o.vkey }), trustEmbeddedKey: o.trustEmbeddedVkey };
          r = verifyAccessLogBundle(readBounded(file, MAX_PROOF_BUNDLE_BYTES), options);
          if (o.earlier !== undefined) compareWithEarlier(r, verifyAccessLogBundle(readBounded(o.earlier, MAX_PROOF_BUNDLE_BYTES), options));
        } catch (e) {
          // A bad key or option is the caller's mistake (exit 2); anything wrong with the file is a failed verification.
          if (!isCustodiaError(e, 'ledger-invalid')) throw e;
          process.stdout.write(o.json ? `${JSON.stringify({ ok: false, failure: e.message })}\n` : `FAILED: ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ok: true, ...r }, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          [
            `Patient/${r.patient}${r.since === undefined ? '' : `, events since ${new Date(r.since).toISOString()}`}`,
            `Checkpoint: ${r.origin}, ${r.treeSize} entries, root ${r.rootHash}`,
            r.keyPinned ? `Signed by: ${r.verifierKey}` : `Signed by: ${r.verifierKey} (taken from the file, NOT pinned: this shows only that the file is consistent with itself)`,
            `Verified: ${r.verified} event(s) — entry bytes, leaf hash, inclusion proof and AuditEvent`,
            ...(r.withheld > 0 ? [`Included by hash only: ${r.withheld} entr(ies) that also name other patients or can no longer be read (erased)`] : []),
            ...r.gaps.map((g) => `Not proven: ${g}`),
            r.head === undefined
              ? 'Chain head: none in this file (a v2 proof): events after the last one listed, up to the checkpoint, are not covered.'
              : `Chain head: the log signed that the patient's newest entry among the checkpoint's ${r.treeSize} is ${r.head ?? 'none'}${r.reachesHead ? ', and the run reaches it' : `; this file stops at ${r.indexes[r.indexes.length - 1]}: fetch the next page`}.`,
            ...(o.earlier === undefined ? [] : [`Earlier file: consistent (nothing it withheld appears here).`]),
            r.complete
              ? `OK: every event in the file is in the signed log as shown, and none about this patient is missing between ${r.indexes.length === 0 ? 'the start and the checkpoint' : `the start of the run and ledger index ${r.indexes[r.indexes.length - 1]}`}${r.reachesHead ? ', which is the newest up to the checkpoint (a signed claim: a later file that shows one more is evidence against the log; check with --earlier)' : ''}.`
              : 'OK: every event in the file is in the signed log as shown. Completeness is NOT proven (see above).',
          ].join('\n') + '\n',
        );
      }),
  );
  return ledger;
}

/** Reads at most `max` bytes of `file` (attacker-supplied: its size is checked before it is read). */
function readBounded(file: string, max: number): Buffer {
  let fd: number;
  try {
    // Non-blocking, so that a FIFO cannot hold the command waiting for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    throw new CustodiaError('request-malformed', `Cannot open ${file}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new CustodiaError('request-malformed', `${file} is not a regular file`);
    if (stat.size > max) throw new CustodiaError('ledger-invalid', `The file is larger than ${max} bytes`);
    // One byte more than it claims, to notice a file that grew meanwhile (the parser refuses anything over the limit).
    const buffer = Buffer.alloc(stat.size + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buffer.length; n += r) r = readSync(fd, buffer, n, buffer.length - n, null);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
