/**
 * Flow files as model rows: read with the ingest adapters (every line hostile input,
 * a bad one counted and skipped, never fatal), each record's features encoded under a
 * schema, its ground-truth class kept beside it. A record whose features do not encode
 * (a negative byte count, a malformed number) is skipped and counted the same way; the
 * encoder's message names the feature, never the value (feature-encoder.ts).
 */
import { stat } from 'node:fs/promises';
import { FeatureEncoder, flowClass, flowFeatureRecord, type BadRecord, type FeatureMatrix, type FeatureSchema, type FlowEndpoints, type FlowFormat } from '../detect/index.js';
import { openFlowFile } from '../ingest/index.js';
import { CustodiaError, isCustodiaError } from '../kernel/index.js';

/** The most rows one call reads (≈ 1.6 GB of doubles at 39 features). */
export const MAX_FLOW_ROWS = 5_000_000;
const BATCH_ROWS = 8192;

export interface FlowReadProgress {
  readonly bytesRead: number;
  readonly totalBytes: number;
  readonly rows: number;
}

export interface FlowRowBatch {
  readonly matrix: FeatureMatrix;
  /** The 1-based input line of each row. */
  readonly lines: readonly number[];
  /** Each row's class (flow-features.ts), undefined when unlabelled. */
  readonly classes: readonly (string | undefined)[];
  /** Each row's endpoints (identifiers, never features): which device a finding is about. */
  readonly endpoints: readonly FlowEndpoints[];
  /** When each flow started (epoch ms), when the format says (Zeek's `ts`). */
  readonly startTimes: readonly (number | undefined)[];
}

export interface FlowReadReport {
  readonly rows: number;
  /** Lines the reader refused plus records whose features would not encode. */
  readonly badRecords: number;
  readonly firstBad: readonly BadRecord[];
}

/**
 * Reads `path` as `format`, encodes under `schema`, and hands over rows in batches of
 * 8192. Returns what was read and refused.
 */
export async function readFlowRows(path: string, format: FlowFormat, schema: FeatureSchema, onBatch: (batch: FlowRowBatch) => void | Promise<void>, onProgress?: (p: FlowReadProgress) => void): Promise<FlowReadReport> {
  let totalBytes: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new CustodiaError('import-failed', 'the flow input is not a file');
    totalBytes = s.size;
  } catch (e) {
    if (isCustodiaError(e)) throw e;
    throw new CustodiaError('import-failed', `cannot read the flow file (${(e as { code?: string }).code ?? 'error'})`, { cause: e });
  }
  const encoder = new FeatureEncoder(schema);
  const width = encoder.width;
  let bytesRead = 0;
  let rows = 0;
  let unencodable = 0;
  const unencodableFirst: BadRecord[] = [];
  const source = openFlowFile(path, format, {}, (n) => {
    bytesRead += n;
    onProgress?.({ bytesRead, totalBytes, rows });
  });
  let data = new Float64Array(BATCH_ROWS * width);
  let lines: number[] = [];
  let classes: (string | undefined)[] = [];
  let endpoints: FlowEndpoints[] = [];
  let startTimes: (number | undefined)[] = [];
  const flush = async (): Promise<void> => {
    if (lines.length === 0) return;
    await onBatch({ matrix: { data: data.subarray(0, lines.length * width), rows: lines.length, width }, lines, classes, endpoints, startTimes });
    data = new Float64Array(BATCH_ROWS * width);
    lines = [];
    classes = [];
    endpoints = [];
    startTimes = [];
  };
  for await (const flow of source) {
    try {
      encoder.encode(flowFeatureRecord(flow), data, lines.length * width);
    } catch (e) {
      if (!isCustodiaError(e)) throw e;
      unencodable++;
      // The reader knows a record's line but not its byte offset once parsed: −1 says so.
      if (unencodableFirst.length < 20) unencodableFirst.push({ line: flow.line, offset: -1, reason: e.message });
      continue;
    }
    if (++rows > MAX_FLOW_ROWS) throw new CustodiaError('import-failed', `the flow file holds more than ${MAX_FLOW_ROWS} records`);
    lines.push(flow.line);
    classes.push(flowClass(flow));
    endpoints.push(flow.endpoints);
    // Zeek's ts is seconds since the epoch (hostile: only a plausible instant is kept).
    startTimes.push(flow.source === 'zeek' && Number.isFinite(flow.startTime) && flow.startTime > 0 && flow.startTime < 1e11 ? Math.round(flow.startTime * 1000) : undefined);
    if (lines.length === BATCH_ROWS) await flush();
  }
  await flush();
  onProgress?.({ bytesRead: totalBytes, totalBytes, rows });
  const report = source.report();
  return { rows, badRecords: report.badRecords + unencodable, firstBad: [...report.firstBad, ...unencodableFirst].slice(0, 20) };
}

/** Every row of a file in one matrix, with lines and classes. */
export async function readAllFlowRows(path: string, format: FlowFormat, schema: FeatureSchema, onProgress?: (p: FlowReadProgress) => void): Promise<FlowRowBatch & { report: FlowReadReport }> {
  const batches: FlowRowBatch[] = [];
  const report = await readFlowRows(path, format, schema, (b) => {
    batches.push(b);
  }, onProgress);
  const width = schema.features.length;
  const data = new Float64Array(report.rows * width);
  let at = 0;
  for (const b of batches) {
    data.set(b.matrix.data, at * width);
    at += b.matrix.rows;
  }
  return {
    matrix: { data, rows: report.rows, width },
    lines: batches.flatMap((b) => b.lines),
    classes: batches.flatMap((b) => b.classes),
    endpoints: batches.flatMap((b) => b.endpoints),
    startTimes: batches.flatMap((b) => b.startTimes),
    report,
  };
}
