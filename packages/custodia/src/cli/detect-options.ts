/** Flags the `custodia detect` model subcommands share. */
import { Option } from '@commander-js/extra-typings';
import { FLOW_FORMATS, type FlowReadReport } from '../app/index.js';

export function formatOption(required: boolean) {
  const o = new Option('--format <format>', `the input's format: ${FLOW_FORMATS.join(', ')}${required ? '' : " (default: the model's)"}`).choices(FLOW_FORMATS);
  return required ? o.makeOptionMandatory() : o;
}

/** Bad records go to stderr: counted and skipped, never fatal (issue 6 §1). */
export function reportBadRecords(report: FlowReadReport): void {
  if (report.badRecords === 0) return;
  process.stderr.write(`custodia: ${report.badRecords} bad records skipped\n`);
  for (const b of report.firstBad.slice(0, 5)) process.stderr.write(`  line ${b.line}: ${b.reason}\n`);
}
