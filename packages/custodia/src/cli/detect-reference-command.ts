/**
 * `custodia detect reference --model M.onnx --input FILE [--format F] [--all-normal]`:
 * computes an imported ONNX model's reference row from normal traffic and writes it into
 * the model's sidecar (app/onnx-reference.ts), so that `detect score --explain` and
 * `--raise-findings` can explain its alerts. A labelled file gives its `normal` rows; an
 * unlabelled one is used whole only with `--all-normal`. Refusals are one line on stderr
 * and exit 2; bad records are counted and skipped.
 */
import { Command } from '@commander-js/extra-typings';
import { writeOnnxReference } from '../app/index.js';
import { formatOption, reportBadRecords } from './detect-options.js';

export function detectReferenceCommand() {
  return new Command('reference')
    .description("compute an imported ONNX model's reference row (what its alerts are explained against) from normal traffic, into its sidecar")
    .requiredOption('--model <file>', 'the ONNX model (its sidecar <model>.json is rewritten)')
    .requiredOption('--input <file>', 'flows: a labelled file (its normal rows are used), or an unlabelled one of normal traffic with --all-normal')
    .addOption(formatOption(false))
    .option('--all-normal', 'the input is unlabelled and every row of it is normal traffic', false)
    .exitOverride()
    .action(async (o) => {
      const r = await writeOnnxReference(o.model, o.input, { ...(o.format === undefined ? {} : { format: o.format }), allNormal: o.allNormal });
      reportBadRecords(r.report);
      process.stderr.write(`Reference row from ${r.rows} normal flows written to ${r.sidecar}.\n`);
    });
}
