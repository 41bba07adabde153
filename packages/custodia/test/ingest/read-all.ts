/** Reads a whole input through a FlowSource, for tests: the records and the report. */
import type { FlowRecord, FlowSource, FlowSourceReport } from '../../src/detect/index.js';

export async function readAll(source: FlowSource): Promise<{ records: FlowRecord[]; report: FlowSourceReport }> {
  const records: FlowRecord[] = [];
  for await (const r of source) records.push(r);
  return { records, report: source.report() };
}

/** The bad records of a report as `line: reason`, for readable expectations. */
export function badLines(report: FlowSourceReport): string[] {
  return report.firstBad.map((b) => `${b.line}: ${b.reason}`);
}
