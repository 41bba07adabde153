/**
 * CICFlowMeter-style CSV in its three header dialects (CIC-IDS2017, CSE-CIC-IDS2018,
 * CICFlowMeter-V4): every column lands on its canonical feature, the fixtures parse into
 * exact records, Infinity/NaN become missing values, and what cannot be a flow is
 * counted as a bad record.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CIC_FEATURES, type CicFlowRecord } from '../../src/detect/index.js';
import { CicFlowCsv } from '../../src/ingest/cicflowmeter-csv.js';
import { readFlowStream } from '../../src/ingest/flow-stream.js';
import { badLines, readAll } from './read-all.js';

const FIXTURES = new URL('../fixtures/flows/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
const headerOf = (name: string): string => fixture(name).toString('latin1').split(/\r?\n/)[0]!;

const cic = async (input: string | Buffer): Promise<{ records: CicFlowRecord[]; report: Awaited<ReturnType<typeof readAll>>['report'] }> => {
  const { records, report } = await readAll(readFlowStream([typeof input === 'string' ? Buffer.from(input) : input], 'cicflowmeter', new CicFlowCsv(), { invalidUtf8: 'replace' }));
  return { records: records as CicFlowRecord[], report };
};

/** All three dialects list the 76 statistics in the tool's order; only what comes before differs. */
const STATISTICS = CIC_FEATURES.filter((f) => f !== 'protocol');

/** What each dialect's columns hold, in order, written out independently of the reader's table. */
const LAYOUTS = {
  'cic-ids2017-style.csv': ['respPort', ...STATISTICS.slice(0, 54), 'duplicate', ...STATISTICS.slice(54), 'label'],
  'cse-cic-ids2018-style.csv': ['respPort', 'protocol', 'timestamp', ...STATISTICS, 'label'],
  'cicflowmeter-v4.csv': ['flowId', 'origAddr', 'origPort', 'respAddr', 'respPort', 'protocol', 'timestamp', ...STATISTICS, 'label'],
} as const;

describe('CICFlowMeter CSV headers', () => {
  it.each(Object.entries(LAYOUTS))('%s: every column lands on its canonical feature', async (file, layout) => {
    const header = headerOf(file);
    expect(header.split(',')).toHaveLength(layout.length);
    // A probe row: each statistic holds its column number plus a half, so a misplaced column shows.
    const row = layout.map((what, i) => (what === 'respPort' || what === 'origPort' ? '8080' : what === 'origAddr' || what === 'respAddr' ? '10.0.0.1' : what === 'protocol' ? '17' : what === 'flowId' || what === 'timestamp' || what === 'label' ? 'x' : `${i}.5`));
    const { records, report } = await cic(`${header}\n${row.join(',')}\n`);
    expect(badLines(report)).toEqual([]);
    const expected = Object.fromEntries(layout.flatMap((what, i) => (STATISTICS.includes(what as never) ? [[what, i + 0.5]] : [])));
    expect(records[0]!.features).toEqual({ ...expected, ...(layout.includes('protocol' as never) ? { protocol: 17 } : {}) });
    expect(Object.keys(records[0]!.features)).toHaveLength(layout.includes('protocol' as never) ? 77 : 76);
  });

  it('compare names without case, spaces and punctuation, and ignore unknown columns', async () => {
    const { records, report } = await cic('flow_duration,tot_fwd_pkts,FLOW BYTS/S,Extra Column,,src_ip,label\n10,2,5.5,whatever,,10.0.0.9,BENIGN\n');
    expect(badLines(report)).toEqual([]);
    expect(records).toEqual([{ source: 'cicflowmeter', line: 2, endpoints: { origAddr: '10.0.0.9' }, features: { flow_duration: 10, total_fwd_packets: 2, flow_bytes_per_s: 5.5 }, truth: { label: 'BENIGN' } }]);
  });
});

describe('CICFlowMeter CSV fixtures', () => {
  /** The record a fixture line should give: statistics by position, as in LAYOUTS. */
  function predicted(file: keyof typeof LAYOUTS, fields: readonly string[], line: number): Omit<CicFlowRecord, 'endpoints'> {
    const features: Record<string, number> = {};
    let truth: string | undefined;
    let timestamp: string | undefined;
    LAYOUTS[file].forEach((what, i) => {
      const v = fields[i]!;
      if (what === 'label') truth = v;
      else if (what === 'timestamp') timestamp = v;
      else if ((STATISTICS.includes(what as never) || what === 'protocol') && !['Infinity', 'NaN'].includes(v)) features[what] = Number(v);
    });
    return { source: 'cicflowmeter', line, features, truth: { label: truth! }, ...(timestamp === undefined ? {} : { timestamp }) };
  }

  it('CIC-IDS2017: leading spaces, a duplicate column, CRLF, Infinity/NaN and a Windows-1252 label', async () => {
    const { records, report } = await cic(fixture('cic-ids2017-style.csv'));
    expect(report).toEqual({ records: 4, badRecords: 0, firstBad: [], missingValues: 4 }); // PortScan's zero duration: four rates
    const lines = fixture('cic-ids2017-style.csv').toString('latin1').split('\r\n').slice(1, 5);
    expect(records).toEqual(lines.map((l, i) => ({ ...predicted('cic-ids2017-style.csv', l.split(','), i + 2), endpoints: { respPort: Number(l.split(',')[0]) } })).map((r, i) => (i === 3 ? { ...r, truth: { label: 'Web Attack \ufffd Brute Force' } } : r)));
    expect(records.map((r) => r.truth?.label)).toEqual(['BENIGN', 'DoS Hulk', 'PortScan', 'Web Attack \ufffd Brute Force']);
    expect(records[2]!.features).not.toHaveProperty('flow_bytes_per_s');
    expect(records[2]!.features).not.toHaveProperty('flow_packets_per_s');
    expect(records[2]!.features.flow_duration).toBe(0);
    expect(records[3]!.features.init_bwd_win_bytes).toBe(-1);
  });

  it('CSE-CIC-IDS2018: abbreviations, and a repeated header row counted as bad', async () => {
    const { records, report } = await cic(fixture('cse-cic-ids2018-style.csv'));
    expect(badLines(report)).toEqual(['4: a repeated header row']);
    const lines = fixture('cse-cic-ids2018-style.csv').toString('utf8').trimEnd().split('\n');
    expect(records).toEqual([2, 3, 5, 6].map((n) => ({ ...predicted('cse-cic-ids2018-style.csv', lines[n - 1]!.split(','), n), endpoints: { respPort: Number(lines[n - 1]!.split(',')[0]) } })));
    expect(records.map((r) => [r.timestamp, r.features.protocol, r.truth?.label])).toEqual([
      ['14/02/2018 08:31:01', 6, 'Benign'],
      ['14/02/2018 10:16:56', 6, 'SSH-Bruteforce'],
      ['20/02/2018 10:12:38', 17, 'DDOS attack-LOIC-UDP'],
      ['14/02/2018 08:33:50', 17, 'Benign'],
    ]);
  });

  it('CICFlowMeter-V4: the tool\'s own header, with flow ids and addresses, no final newline', async () => {
    const { records, report } = await cic(fixture('cicflowmeter-v4.csv'));
    expect(badLines(report)).toEqual([]);
    const lines = fixture('cicflowmeter-v4.csv').toString('utf8').split('\n');
    expect(records).toEqual([2, 3, 4].map((n) => {
      const f = lines[n - 1]!.split(',');
      return { ...predicted('cicflowmeter-v4.csv', f, n), endpoints: { flowId: f[0], origAddr: f[1], origPort: Number(f[2]), respAddr: f[3], respPort: Number(f[4]) } };
    }));
    expect(records[2]!.endpoints).toEqual({ flowId: 'fe80::1-ff02::fb-5353-5353-17', origAddr: 'fe80::1', origPort: 5353, respAddr: 'ff02::fb', respPort: 5353 });
    expect(records[0]!.truth).toEqual({ label: 'NeedManualLabel' });
  });
});

describe('CICFlowMeter CSV refusals', () => {
  const HEADER = 'Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Flow Duration,Tot Fwd Pkts,Flow Byts/s,Label';
  const ROW = 'f1,10.0.0.1,5000,10.0.0.2,443,6,1000,3,7.5,Benign';
  const withColumn = (i: number, value: string): string => ROW.split(',').map((f, j) => (j === i ? value : f)).join(',');

  it.each([
    ['a non-numeric value', withColumn(7, 'three'), 'total_fwd_packets: not a number: "three"'],
    ['a negative Flow Duration', withColumn(6, '-5'), 'flow_duration: negative: -5'],
    ['a protocol that is not an IP protocol number', withColumn(5, '300'), 'protocol: not an IP protocol number: 300'],
    ['too few fields', ROW.split(',').slice(0, 9).join(','), '9 fields, the header has 10'],
    ['too many fields', `${ROW},x`, '11 fields, the header has 10'],
    ['a bad address', withColumn(1, '10.0.0'), 'Src IP: not an IP address: "10.0.0"'],
    ['a port out of range', withColumn(4, '65536'), 'Dst Port: not a port: 65536'],
    ['an unterminated quote', withColumn(9, '"Benign'), 'unterminated quoted field'],
    ['a NUL byte', withColumn(9, 'Ben\u0000ign'), 'a NUL or other control character'],
  ])('counts %s as a bad record and reads on', async (_what, row, reason) => {
    const { records, report } = await cic(`${HEADER}\n${row}\n${ROW}\n`);
    expect(badLines(report)).toEqual([`2: ${reason}`]);
    expect(records.map((r) => r.line)).toEqual([3]);
  });

  it('reads Infinity, NaN, inf and empty values as missing and counts them', async () => {
    const { records, report } = await cic(`${HEADER}\n${withColumn(8, 'Infinity')}\n${withColumn(8, '-inf')}\n${withColumn(8, 'NaN')}\n${withColumn(7, '')}\n`);
    expect(report.badRecords).toBe(0);
    expect(report.missingValues).toBe(4);
    expect(records.map((r) => r.features.flow_bytes_per_s)).toEqual([undefined, undefined, undefined, 7.5]);
  });

  it.each([
    ['no Flow Duration column', 'Src IP,Dst IP,Label', 'header: no "Flow Duration" column, not a CICFlowMeter CSV'],
    ['a column named twice', 'Flow Duration,Tot Fwd Pkts,Total Fwd Packets', 'header: "Total Fwd Packets" twice'],
    ['an identifier named twice', 'Flow Duration,Src IP,Source IP', 'header: "Source IP" twice'],
    ['an unterminated quote', '"Flow Duration,Label', 'unterminated quoted field'],
  ])('refuses a header with %s, and every row under it', async (_what, header, reason) => {
    const { records, report } = await cic(`${header}\n1,2,3\n4,5,6\n`);
    expect(records).toEqual([]);
    expect(badLines(report)).toEqual([`1: ${reason}`, `2: no usable header (${reason})`, `3: no usable header (${reason})`]);
  });

  it('ignores the copy of "Fwd Header Length" a pandas round trip names "Fwd Header Length.1"', async () => {
    const { records, report } = await cic('Flow Duration,Fwd Header Length,Fwd Header Length.1\n5,40,40\n');
    expect(badLines(report)).toEqual([]);
    expect(records[0]!.features).toEqual({ flow_duration: 5, fwd_header_length: 40 });
  });
});
