/**
 * `custodia detect findings list|decide|export`: detection findings (issue 6 §4) from the
 * command line (app/finding-admin.ts). `export` writes every finding matching the filters
 * as JSON lines, newest first, for a SIEM.
 *
 * `custodia detect train|score|evaluate`: detection models (issue 6 §5), each in its own
 * file (detect-train-command.ts, detect-score-command.ts, detect-evaluate-command.ts);
 * `custodia detect reference`: an imported ONNX model's reference row (detect-reference-command.ts).
 */
import { Command } from '@commander-js/extra-typings';
import { CustodiaError, isFindingStatus, isSeverity, withFindings, type Finding } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { storageConfig } from './storage-config.js';
import { detectInventoryCommand } from './detect-inventory-command.js';
import { detectTrainCommand } from './detect-train-command.js';
import { detectScoreCommand } from './detect-score-command.js';
import { detectEvaluateCommand } from './detect-evaluate-command.js';
import { detectReferenceCommand } from './detect-reference-command.js';

interface FilterFlags {
  readonly status?: string | undefined;
  readonly severity?: string | undefined;
  readonly device?: string | undefined;
  readonly since?: string | undefined;
}

/** Command-line filters, checked as the HTTP query is. */
function filters(o: FilterFlags): { status?: Finding['status']; severity?: Finding['severity']; device?: string; since?: number } {
  if (o.status !== undefined && !isFindingStatus(o.status)) throw new CustodiaError('request-malformed', '--status is one of new, triaged, false-positive, confirmed');
  if (o.severity !== undefined && !isSeverity(o.severity)) throw new CustodiaError('request-malformed', '--severity is one of low, medium, high, critical');
  const since = o.since === undefined ? undefined : Date.parse(o.since);
  if (since !== undefined && !Number.isSafeInteger(since)) throw new CustodiaError('request-malformed', '--since is an ISO 8601 instant');
  return { ...(o.status === undefined ? {} : { status: o.status }), ...(o.severity === undefined ? {} : { severity: o.severity }), ...(o.device === undefined ? {} : { device: o.device }), ...(since === undefined ? {} : { since }) };
}

const line = (f: Finding): string =>
  [new Date(f.lastSeen).toISOString(), f.id, f.status.padEnd(14), f.severity.padEnd(8), f.device, `×${f.count}`, f.explanation.detector, f.summary].join('  ');

/** The storage and filter options that `list` and `export` share. */
function filtered(name: string, description: string) {
  return new Command(name)
    .description(description)
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(schemaOption())
    .option('--status <status>', 'new, triaged, false-positive or confirmed')
    .option('--severity <severity>', 'low, medium, high or critical')
    .option('--device <device>', 'a device, e.g. Device/monitor-2')
    .option('--since <instant>', 'last seen at or after this ISO 8601 instant')
    .exitOverride();
}

export function detectCommand(): Command<[], Record<string, unknown>> {
  const detect = new Command('detect').description('anomaly detection on the device network: models and findings').exitOverride();
  const findings = new Command('findings').description('the findings detectors raised, and the analysts’ decisions').exitOverride();
  findings.addCommand(
    filtered('list', 'the newest findings first')
      .option('--limit <n>', 'at most this many (1–1000)', '50')
      .option('--json', 'one JSON object per line', false)
      .action(async (o) => {
        const q = { ...filters(o), limit: Number(o.limit) };
        const list = await withFindings(storageConfig(o), (svc, op) => svc.list(op, q));
        process.stdout.write(list.map((f) => (o.json ? JSON.stringify(f) : line(f))).join('\n') + (list.length > 0 ? '\n' : ''));
      }),
  );
  findings.addCommand(
    new Command('decide')
      .description('set a finding’s status: triaged, false-positive or confirmed (a closed finding reopens to triaged)')
      .argument('<id>', 'the finding')
      .requiredOption('--status <status>', 'triaged, false-positive or confirmed')
      .option('--note <text>', 'why (kept sealed with the finding)')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .exitOverride()
      .action(async (id, o) => {
        const f = await withFindings(storageConfig(o), (svc, op) => svc.decide(op, id, o.status, o.note));
        process.stdout.write(`${line(f)}\n`);
      }),
  );
  findings.addCommand(
    filtered('export', 'every matching finding as JSON lines on stdout, newest first, for a SIEM').action(async (o) => {
      const q = filters(o);
      await withFindings(storageConfig(o), async (svc, op) => {
        let after: { lastSeen: number; id: string } | undefined;
        for (;;) {
          const page = await svc.list(op, { ...q, ...(after === undefined ? {} : { after }), limit: 1000 });
          if (page.length > 0) process.stdout.write(page.map((f) => JSON.stringify(f)).join('\n') + '\n');
          const last = page.at(-1);
          if (page.length < 1000 || last === undefined) return;
          after = { lastSeen: last.lastSeen, id: last.id };
        }
      });
    }),
  );
  detect.addCommand(findings);
  detect.addCommand(detectInventoryCommand());
  detect.addCommand(detectTrainCommand());
  detect.addCommand(detectScoreCommand());
  detect.addCommand(detectEvaluateCommand());
  detect.addCommand(detectReferenceCommand());
  return detect;
}
