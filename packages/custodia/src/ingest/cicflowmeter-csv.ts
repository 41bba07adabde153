/**
 * A CICFlowMeter-style CSV: a header row, then one flow per row. The header decides
 * what each column holds (cicflowmeter-columns.ts); unknown extra columns are ignored,
 * a missing feature column leaves that feature absent. Every file must have at least a
 * "Flow Duration" column.
 *
 * Rows are attacker-controlled, and the published data sets are untidy, so each oddity
 * has one decision:
 * - `Infinity`, `-Infinity`, `NaN` (also `inf`, `nan`) and empty values are missing
 *   values: the feature is left absent, the row kept, and the report counts them.
 *   CICFlowMeter writes them for rates divided by a zero duration
 *   (`Flow Bytes/s`, `Flow Packets/s`), which happens on real, often attacking, flows;
 *   dropping those rows would bias any evaluation.
 * - A value that is not a number at all refuses the row, and so does a negative
 *   `Flow Duration` (CSE-CIC-IDS2018 has some: the clock went backwards, so the row's
 *   timings mean nothing). Other negatives are kept as written (-1 is the tool's "no
 *   window seen" for the initial window sizes).
 * - A repeat of the header row (CSE-CIC-IDS2018 files have them mid-file) is a bad
 *   record: it is counted, not read as a flow.
 * - A column named twice refuses the header, except CIC-IDS2017's second
 *   "Fwd Header Length", which is ignored.
 * - An empty identifier, timestamp or label is absent (an unlabelled row).
 * - Bytes that are not UTF-8 are read as U+FFFD (CIC-IDS2017's "Web Attack – …" labels
 *   carry a Windows-1252 dash), not refused.
 */
import type { CicFeatureName, CicFlowFeatures, CicFlowRecord, FlowEndpoints } from '../detect/index.js';
import { cicColumn, KNOWN_DUPLICATE, normaliseColumnName, PANDAS_DUPLICATE, type CicColumn } from './cicflowmeter-columns.js';
import { splitCsvLine } from './csv-line.js';
import type { FlowLineParser } from './flow-stream.js';
import { readAddress, readDecimal, readPort, readToken } from './field-values.js';
import { excerpt, refuse } from './record-refused.js';

const MISSING = /^(?:[+-]?(?:inf|infinity)|nan|)$/i;

interface Header {
  readonly text: string;
  readonly columns: readonly (CicColumn | undefined)[];
}

function readHeader(text: string, fields: readonly string[]): Header {
  const features = new Set<CicFeatureName>();
  const others = new Set<string>();
  const columns = fields.map((name): CicColumn | undefined => {
    const column = cicColumn(name);
    if (column === undefined) return undefined;
    if (column.kind === 'feature') {
      if (features.has(column.name)) {
        if (column.name === KNOWN_DUPLICATE) return undefined;
        refuse(`header: ${excerpt(name.trim())} twice`);
      }
      features.add(column.name);
    } else {
      if (others.has(column.kind)) refuse(`header: ${excerpt(name.trim())} twice`);
      others.add(column.kind);
    }
    return column;
  });
  if (!features.has('flow_duration')) refuse('header: no "Flow Duration" column, not a CICFlowMeter CSV');
  if (fields.some((f) => normaliseColumnName(f) === PANDAS_DUPLICATE) && !features.has(KNOWN_DUPLICATE)) refuse('header: a copy of a missing column');
  return { text, columns };
}

export class CicFlowCsv implements FlowLineParser {
  missingValues = 0;
  private header: Header | undefined;
  private headerProblem: string | undefined;

  parse(text: string, line: number): CicFlowRecord | undefined {
    if (text === '') return undefined;
    if (this.headerProblem !== undefined) refuse(`no usable header (${this.headerProblem})`);
    if (this.header === undefined) {
      try {
        // Hostile input: the header decides what every column means; names are matched, never executed or interpolated.
        this.header = readHeader(text, splitCsvLine(text));
      } catch (e) {
        this.headerProblem = e instanceof Error ? e.message : 'header unreadable';
        throw e;
      }
      return undefined;
    }
    if (text === this.header.text) refuse('a repeated header row');
    // Hostile input: a bounded line from an untrusted file; the header typed each column, each value is checked.
    return this.row(this.header, splitCsvLine(text), line);
  }

  private row(header: Header, fields: readonly string[], line: number): CicFlowRecord {
    if (fields.length !== header.columns.length) refuse(`${fields.length} fields, the header has ${header.columns.length}`);
    const features: { -readonly [K in CicFeatureName]?: number } = {};
    const endpoints: { -readonly [K in keyof FlowEndpoints]: FlowEndpoints[K] } = {};
    let timestamp: string | undefined;
    let label: string | undefined;
    let missing = 0;
    for (let i = 0; i < fields.length; i++) {
      const column = header.columns[i];
      if (column === undefined) continue;
      const value = fields[i]!;
      if (value === '' && column.kind !== 'feature') continue; // an empty id, address, time or label: absent
      switch (column.kind) {
        case 'feature':
          if (MISSING.test(value)) missing++;
          else features[column.name] = readDecimal(value, column.name);
          break;
        case 'flowId':
          endpoints.flowId = readToken(value, 'Flow ID');
          break;
        case 'origAddr':
          endpoints.origAddr = readAddress(value, 'Src IP');
          break;
        case 'respAddr':
          endpoints.respAddr = readAddress(value, 'Dst IP');
          break;
        case 'origPort':
          endpoints.origPort = readPort(value, 'Src Port');
          break;
        case 'respPort':
          endpoints.respPort = readPort(value, 'Dst Port');
          break;
        case 'timestamp':
          timestamp = readToken(value, 'Timestamp', 64);
          break;
        case 'label':
          label = readToken(value.trim(), 'Label', 64);
          break;
      }
    }
    checkFeatures(features);
    this.missingValues += missing;
    const record: CicFlowRecord = { source: 'cicflowmeter', line, endpoints, features: features as CicFlowFeatures };
    return {
      ...record,
      ...(timestamp === undefined ? {} : { timestamp }),
      ...(label === undefined ? {} : { truth: { label } }),
    };
  }
}

function checkFeatures(features: { readonly [K in CicFeatureName]?: number }): void {
  const duration = features.flow_duration;
  if (duration !== undefined && duration < 0) refuse(`flow_duration: negative: ${duration}`);
  const protocol = features.protocol;
  if (protocol !== undefined && (!Number.isInteger(protocol) || protocol < 0 || protocol > 255)) refuse(`protocol: not an IP protocol number: ${protocol}`);
}
