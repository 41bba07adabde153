/**
 * The FlowSource port (issue 6 §1): where flow records come from. The detectors own it;
 * adapters in ingest/ implement it for files (and later MQTT and NATS).
 *
 * A source reads hostile input. A record it cannot read is a bad record: counted,
 * reported by position with a reason, and skipped. It never ends the iteration. The
 * report names where and why, never the record's content beyond a short quoted token,
 * so a report of a hostile file stays small and safe to log.
 */
import type { FlowFormat, FlowRecord } from './flow-record.js';

/** Where a bad record was, and why it was refused. */
export interface BadRecord {
  /** 1-based line number. */
  readonly line: number;
  /** Byte offset in the input where the line starts (a byte order mark counts). */
  readonly offset: number;
  /** A fixed description, at most a short escaped excerpt of a name or value. */
  readonly reason: string;
}

/** The running report of a source: read it during or after the iteration. */
export interface FlowSourceReport {
  /** Records yielded so far. */
  readonly records: number;
  /** Bad records counted and skipped so far. */
  readonly badRecords: number;
  /** The first bad records (at most the source's limit, 20 by default). */
  readonly firstBad: readonly BadRecord[];
  /** Values read as missing rather than refused (CICFlowMeter's `Infinity` and `NaN`). */
  readonly missingValues: number;
}

/**
 * An async iterable of flow records, read once, with a running report.
 *
 * @example
 *   const source = openFlowFile('conn.log', 'zeek');
 *   for await (const flow of source) score(flow);
 *   const { records, badRecords, firstBad } = source.report();
 */
export interface FlowSource extends AsyncIterable<FlowRecord> {
  readonly format: FlowFormat;
  report(): FlowSourceReport;
}
