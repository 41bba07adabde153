import { Command } from '@commander-js/extra-typings';
import cliProgress from 'cli-progress';
import { CustodiaError, createVault, importAsOperator, importFiles, remoteImportTarget, resolveConfig, type ImportProgress } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';

const MAX_LISTED_FAILURES = 50;

export function importCommand(): Command<[string[]], Record<string, unknown>> {
  return new Command('import')
    .description('load FHIR NDJSON files and Bundle JSON files (optionally .gz); directories are walked')
    .argument('<paths...>', 'files or directories')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(schemaOption())
    .option('--server <url>', 'import through a running server (its FHIR base URL) instead of into --data-dir')
    .option('--token <token>', 'bearer token for --server')
    .action(async (paths, o) => {
      if (o.server !== undefined && o.token === undefined) throw new CustodiaError('request-malformed', '--server needs --token');
      const started = Date.now();
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'importing [{bar}] {percentage}% | {resources} resources | {rate}/s | ETA {eta_formatted} | {failures} failed', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
      const onProgress = (p: ImportProgress): void => {
        if (bar === undefined) return;
        const secs = Math.max((Date.now() - started) / 1000, 0.001);
        bar.setTotal(Math.max(p.bytesTotal, 1));
        bar.update(Math.min(p.bytesRead, p.bytesTotal), { resources: p.resources, failures: p.failures, rate: Math.round(p.resources / secs) });
      };
      bar?.start(1, 0, { resources: 0, failures: 0, rate: 0 });
      let report;
      if (o.server !== undefined) {
        report = await importFiles(remoteImportTarget(o.server, o.token!), paths, onProgress);
      } else {
        const config = resolveConfig({
          dataDir: o.dataDir,
          ...(o.database === undefined ? {} : { database: o.database }),
          ...(o.schema === undefined ? {} : { postgresSchema: o.schema }),
        }, process.env);
        const vault = await createVault(config);
        try {
          report = await importAsOperator(vault, paths, onProgress);
        } finally {
          await vault.close();
        }
      }
      bar?.stop();
      const secs = (Date.now() - started) / 1000;
      for (const f of report.failures.slice(0, MAX_LISTED_FAILURES)) process.stderr.write(`${f.source}: ${f.reason}\n`);
      if (report.failures.length > MAX_LISTED_FAILURES) process.stderr.write(`… and ${report.failures.length - MAX_LISTED_FAILURES} more failures\n`);
      process.stdout.write(
        `Imported ${report.resources} resources (${report.bundles} bundles) from ${report.files} files in ${secs.toFixed(1)} s (${Math.round(report.resources / Math.max(secs, 0.001))}/s); ${report.failures.length} failed.\n`,
      );
      if (report.failures.length > 0) process.exitCode = 1;
    });
}
