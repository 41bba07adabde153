/** `custodia ledger vkey|verify`: the audit log's verifier key, and a full check of the ledger against storage (app/ledger-admin.ts). */
import { Command } from '@commander-js/extra-typings';
import { ledgerVerifierKey, verifyVaultLedger } from '../app/index.js';
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
  return ledger;
}
