/**
 * `custodia detect score --model M --input FILE [--format F] --output scores.csv
 * [--explain N]` (issue 6 §5): one CSV row per input flow, in input order:
 *
 *     line,score,label,class,detected_by[,explanation]
 *
 * `score` in [0, 1], higher is more anomalous; `label` 1 for an attack, 0 for normal;
 * `class` the model's class (`unknown` for a forest-only alert); `detected_by` `trees`,
 * `forest`, `trees+forest` or empty. With `--explain N`, attack rows also get their top N
 * features per model part (TreeSHAP and forest path shares), as `name=value (source
 * contribution)` separated by `; `; an imported ONNX model's by Shapley values against its
 * sidecar's reference row, as `name=value vs reference (shapley contribution)`.
 * TreeSHAP costs about 3 ms a row: explain what you will read.
 *
 * With `--raise-findings`, every attack row also becomes an explained finding in the vault
 * of `--data-dir` / `--database` (app/flow-findings.ts): about the FHIR Device its
 * originator names, else the unknown talker (inventoried), with dedup and rate limits, as
 * `/detect/findings` and `custodia detect findings list` then show.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { CustodiaError, displayScore, FLOW_FINDING_FEATURES, formatFor, readDetectorScorer, scoreFlowFile, withFlowAlerts, type DetectionExplanation, type FlowAlerts, type FlowFormat, type ScoredBatch, type Scorer } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { storageConfig } from './storage-config.js';
import { detectProgress } from './detect-progress.js';
import { formatOption, reportBadRecords } from './detect-options.js';

/** A CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

const BY = ['', 'trees', 'forest', 'trees+forest'];

function explanationText(e: DetectionExplanation | undefined): string {
  if (e === undefined) return '';
  return e.features.map((f) => `${f.feature}=${f.value}${f.reference === undefined ? '' : ` vs ${f.reference}`} (${f.source} ${f.contribution >= 0 ? '+' : ''}${f.contribution.toPrecision(3)})`).join('; ');
}

function csvRows(b: ScoredBatch, showExplanations: boolean): string {
  let out = '';
  for (let r = 0; r < b.lines.length; r++) {
    const fields = [String(b.lines[r]), displayScore(b.scores.score[r]!).toFixed(6), String(b.scores.label[r]), csvField(b.classNames[r]!), BY[b.scores.detectedBy[r]!]!];
    if (showExplanations) fields.push(csvField(explanationText(b.explanations?.[r])));
    out += `${fields.join(',')}\n`;
  }
  return out;
}

export function detectScoreCommand() {
  return new Command('score')
    .description('score every flow of a file with a model: a CSV of score (higher: more anomalous) and label (1 attack)')
    .requiredOption('--model <file>', 'a model file from `custodia detect train`, or an ONNX model (*.onnx, with its sidecar *.onnx.json)')
    .requiredOption('--input <file>', 'the flow file')
    .addOption(formatOption(false))
    .requiredOption('--output <file>', 'the CSV to write (- for stdout)')
    .option('--explain <n>', 'name the top n features of each attack row (slower)')
    .option('--raise-findings', 'also raise an explained finding in the vault for every attack row', false)
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(schemaOption())
    .exitOverride()
    .action(async (o) => {
      const explain = o.explain === undefined ? undefined : Number(o.explain);
      if (explain !== undefined && !(Number.isInteger(explain) && explain >= 1 && explain <= 20)) throw new CustodiaError('request-malformed', '--explain is an integer from 1 to 20');
      const scorer = await readDetectorScorer(o.model);
      try {
        if (o.raiseFindings) {
          if (scorer.explain === undefined) throw new CustodiaError('request-malformed', `--raise-findings needs a model that explains its alerts: a Custodia model, or an ONNX sidecar with a reference row`);
          const alerts = await withFlowAlerts(storageConfig(o), o.input, async (a) => {
            await score(o, scorer, explain ?? FLOW_FINDING_FEATURES, explain !== undefined, a);
            return a;
          });
          process.stderr.write(`Raised ${alerts.raised} alert(s) as ${alerts.findings} finding(s) (repeats fold into one by deduplication and rate limits).\n`);
          return;
        }
        await score(o, scorer, explain, explain !== undefined);
      } finally {
        await scorer.close();
      }
    });
}

/** Scores the file into the CSV (explanations in it when `showExplanations`), raising findings through `alerts` when given. */
async function score(o: { input: string; output: string; format?: string | undefined }, scorer: Scorer, explain: number | undefined, showExplanations: boolean, alerts?: FlowAlerts): Promise<void> {
  const format = formatFor(scorer, o.format as FlowFormat | undefined);
  // The output is opened at the first scored batch, so that a refused input leaves no file behind.
  let fd: number | undefined;
  const write = (text: string): void => {
    if (fd === undefined) {
      fd = o.output === '-' ? 1 : openSync(o.output, 'w');
      writeSync(fd, `line,score,label,class,detected_by${showExplanations ? ',explanation' : ''}\n`);
    }
    writeSync(fd, text);
  };
  const progress = detectProgress('scoring');
  let flagged = 0;
  let report;
  try {
    report = await scoreFlowFile({
      scorer, input: o.input, format, ...(explain === undefined ? {} : { explain }), onProgress: progress.update,
      onBatch: async (b) => {
        for (const l of b.scores.label) flagged += l;
        write(csvRows(b, showExplanations));
        await alerts?.raise(b);
      },
    });
    write('');
  } finally {
    progress.stop();
    if (fd !== undefined && fd !== 1) closeSync(fd);
  }
  reportBadRecords(report);
  process.stderr.write(`Scored ${report.rows} flows with ${/^[aeiou]/.test(scorer.kind) ? "an" : "a"} ${scorer.kind} model: ${flagged} labelled attack.\n`);
}
