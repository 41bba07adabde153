/**
 * `custodia detect evaluate --model M --input LABELLED_FILE [--format F] [--json]`
 * (issue 6 §5): scores a labelled flow file and prints, overall and per attack class,
 * the AUC, precision, recall, F1 and macro-F1, and the confusion matrices
 * (detect/detection-evaluation.ts for the definitions).
 */
import { Command } from '@commander-js/extra-typings';
import { evaluateFlowFile, formatFor, readDetectorScorer, type DetectionEvaluation, type FlowFormat } from '../app/index.js';
import { detectProgress } from './detect-progress.js';
import { formatOption, reportBadRecords } from './detect-options.js';

const num = (x: number | null): string => (x === null ? '—' : x.toFixed(4));

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ')).join('\n');
}

function text(e: DetectionEvaluation, kind: string, unlabelled: number): string {
  const [[tn, fp], [fn, tp]] = e.binaryConfusion;
  return [
    `${kind} model on ${e.rows} labelled flows (${e.attacks} attacks)${unlabelled > 0 ? `; ${unlabelled} unlabelled flows skipped` : ''}`,
    '',
    `attack vs normal: AUC ${num(e.auc)}  precision ${num(e.precision)}  recall ${num(e.recall)}  F1 ${num(e.f1)}  false-positive rate ${num(e.falsePositiveRate)}`,
    table([['', 'predicted normal', 'predicted attack'], ['normal', String(tn), String(fp)], ['attack', String(fn), String(tp)]]),
    '',
    `by class: macro-F1 ${num(e.macroF1)} (mean over the ${e.perClass.length} classes in the labels)`,
    table([['class', 'rows', 'precision', 'recall', 'F1', 'detected', 'AUC vs normal'], ...e.perClass.map((c) => [c.class, String(c.support), num(c.precision), num(c.recall), num(c.f1), num(c.detectionRate), num(c.auc)])]),
    '',
    'confusion matrix (rows: true class, columns: predicted)',
    table([['', ...e.classes], ...e.confusion.slice(0, e.perClass.length).map((row, t) => [e.classes[t]!, ...row.map(String)])]),
    '',
  ].join('\n');
}

export function detectEvaluateCommand() {
  return new Command('evaluate')
    .description('evaluate a model on a labelled flow file: AUC, precision, recall, macro-F1, confusion matrix, per class')
    .requiredOption('--model <file>', 'a model file from `custodia detect train`, or an ONNX model (*.onnx, with its sidecar *.onnx.json)')
    .requiredOption('--input <file>', 'a labelled flow file')
    .addOption(formatOption(false))
    .option('--json', 'print the figures as one JSON object', false)
    .exitOverride()
    .action(async (o) => {
      const scorer = await readDetectorScorer(o.model);
      let result;
      try {
        const format = formatFor(scorer, o.format as FlowFormat | undefined);
        const progress = detectProgress('reading');
        try {
          result = await evaluateFlowFile({ scorer, input: o.input, format, onProgress: progress.update });
        } finally {
          progress.stop();
        }
      } finally {
        await scorer.close();
      }
      reportBadRecords(result.report);
      process.stdout.write(o.json ? `${JSON.stringify({ model: scorer.kind, unlabelled: result.unlabelled, ...result.evaluation })}\n` : text(result.evaluation, scorer.kind, result.unlabelled));
    });
}
