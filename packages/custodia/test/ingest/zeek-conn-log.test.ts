/**
 * Zeek conn.log, TSV and JSON: the fixtures (the Zeek documentation's example rows and
 * hand-written ones in the same format) parse into exact records; headers and rows that
 * cannot be conn.log rows are counted as bad records with their line, never thrown.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ZeekFlowRecord } from '../../src/detect/index.js';
import { readFlowStream } from '../../src/ingest/flow-stream.js';
import { isoSeconds } from '../../src/ingest/zeek-json-line.js';
import { ZeekLog } from '../../src/ingest/zeek-log.js';
import { unescapeZeek } from '../../src/ingest/zeek-tsv-values.js';
import { badLines, readAll } from './read-all.js';

const FIXTURES = new URL('../fixtures/flows/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

const zeek = (input: string | Buffer): ReturnType<typeof readAll> =>
  readAll(readFlowStream([typeof input === 'string' ? Buffer.from(input) : input], 'zeek', new ZeekLog()));

const HEADER = [
  '#separator \\x09',
  '#set_separator\t,',
  '#empty_field\t(empty)',
  '#unset_field\t-',
  '#path\tconn',
  '#open\t2020-06-05-14-48-32',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents',
  '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]',
].join('\n');
const ROW = '1591367999.305988\tCazOhH2qDUiJTWMCY\t192.168.4.76\t36844\t192.168.4.1\t53\tudp\tdns\t0.066852\t62\t141\tSF\t-\t-\t0\tDd\t2\t118\t2\t197\t-';
const withColumn = (i: number, value: string): string => ROW.split('\t').map((f, j) => (j === i ? value : f)).join('\t');

/** The documentation's first row, as both formats give it (the JSON one has full precision). */
const DOCS_DNS: ZeekFlowRecord = {
  source: 'zeek',
  line: 9,
  startTime: 1591367999.305988,
  endpoints: { flowId: 'CazOhH2qDUiJTWMCY', origAddr: '192.168.4.76', origPort: 36844, respAddr: '192.168.4.1', respPort: 53 },
  features: { proto: 'udp', service: 'dns', duration: 0.066852, orig_bytes: 62, resp_bytes: 141, conn_state: 'SF', missed_bytes: 0, history: 'Dd', orig_pkts: 2, orig_ip_bytes: 118, resp_pkts: 2, resp_ip_bytes: 197 },
};

const TSV_RECORDS: ZeekFlowRecord[] = [
  DOCS_DNS,
  {
    source: 'zeek',
    line: 10,
    startTime: 1591367999.430166,
    endpoints: { flowId: 'CLqEx41jYPOdfHF586', origAddr: '192.168.4.76', origPort: 46378, respAddr: '31.3.245.133', respPort: 80 },
    features: { proto: 'tcp', service: 'http', duration: 0.254115, orig_bytes: 77, resp_bytes: 295, conn_state: 'SF', missed_bytes: 0, history: 'ShADadFf', orig_pkts: 6, orig_ip_bytes: 397, resp_pkts: 4, resp_ip_bytes: 511 },
  },
  {
    source: 'zeek',
    line: 11,
    startTime: 1591368012.118204,
    endpoints: { flowId: 'C3xkHg1mVq9bN2wYd4', origAddr: '10.20.30.41', origPort: 49152, respAddr: '10.20.0.5', respPort: 2575 },
    features: { proto: 'tcp', duration: 1.204331, orig_bytes: 1840, resp_bytes: 96, conn_state: 'SF', local_orig: true, local_resp: true, missed_bytes: 0, history: 'ShADadFf', orig_pkts: 9, orig_ip_bytes: 2320, resp_pkts: 7, resp_ip_bytes: 468 },
  },
  {
    source: 'zeek',
    line: 12,
    startTime: 1591368013.500001,
    endpoints: { flowId: 'CuV8n2bJQe0Yf3kP1a', origAddr: '10.20.30.42', origPort: 51000, respAddr: '10.20.0.9', respPort: 1883 },
    features: { proto: 'tcp', duration: 30.000512, orig_bytes: 412, resp_bytes: 88, conn_state: 'S1', local_orig: true, local_resp: true, missed_bytes: 0, history: 'ShADad', orig_pkts: 12, orig_ip_bytes: 908, resp_pkts: 10, resp_ip_bytes: 616 },
  },
  {
    source: 'zeek',
    line: 13,
    startTime: 1591368014,
    endpoints: { flowId: 'CpL4w7aTz1Yx6cR9e2', origAddr: '10.20.30.41', origPort: 8, respAddr: '10.20.0.1', respPort: 0 },
    features: { proto: 'icmp', duration: 0.000412, orig_bytes: 56, resp_bytes: 56, conn_state: 'OTH', local_orig: true, local_resp: true, missed_bytes: 0, orig_pkts: 1, orig_ip_bytes: 84, resp_pkts: 1, resp_ip_bytes: 84 },
  },
  {
    source: 'zeek',
    line: 14,
    startTime: 1591368015.25,
    endpoints: { flowId: 'CfN0q3sXd8Wb5vE7u6', origAddr: '203.0.113.7', origPort: 51234, respAddr: '10.20.30.41', respPort: 23 },
    features: { proto: 'tcp', conn_state: 'S0', local_orig: false, local_resp: true, missed_bytes: 0, history: 'S', orig_pkts: 1, orig_ip_bytes: 44, resp_pkts: 0, resp_ip_bytes: 0 },
  },
  {
    source: 'zeek',
    line: 15,
    startTime: 1591368016.75,
    endpoints: { flowId: 'C9gR2hKm4Ls7Pq1Zt8', origAddr: 'fe80::1', origPort: 5353, respAddr: 'ff02::fb', respPort: 5353, tunnelParents: [] },
    features: { proto: 'udp', service: 'dns', conn_state: 'S0', local_orig: true, local_resp: false, missed_bytes: 0, history: 'D', orig_pkts: 1, orig_ip_bytes: 109, resp_pkts: 0, resp_ip_bytes: 0 },
  },
  {
    source: 'zeek',
    line: 16,
    startTime: 1591368017.000125,
    endpoints: { flowId: 'CmB6j1Qw8Er3Ty5Ui0', origAddr: '10.20.30.43', origPort: 50443, respAddr: '198.51.100.20', respPort: 443, tunnelParents: ['CtPZjS20MLrsMUOJi2', 'C4J4Th3PJpwUYZZ6gc'] },
    features: { proto: 'tcp', service: 'ssl,http', duration: 2.5, orig_bytes: 1503, resp_bytes: 48211, conn_state: 'SF', local_orig: true, local_resp: false, missed_bytes: 1448, history: 'ShADadgFf', orig_pkts: 18, orig_ip_bytes: 2447, resp_pkts: 40, resp_ip_bytes: 50299 },
  },
];

describe('Zeek conn.log (TSV)', () => {
  it('parses the fixture into its exact records', async () => {
    const { records, report } = await zeek(fixture('zeek-conn.log'));
    expect(records).toEqual(TSV_RECORDS);
    expect(report).toEqual({ records: 8, badRecords: 0, firstBad: [], missingValues: 0 });
  });

  it('reads the policy scripts\' columns into the endpoints and keeps unknown ones in extra, typed', async () => {
    const { records, report } = await zeek(fixture('zeek-conn-policy.log'));
    expect(report.badRecords).toBe(0);
    expect(records[0]).toEqual({
      source: 'zeek',
      line: 9,
      startTime: 1700000000.123456,
      endpoints: {
        flowId: 'CAbCdEfGhIjKlMnOp1', origAddr: '10.20.30.41', origPort: 49153, respAddr: '10.20.0.5', respPort: 2575,
        origMac: '00:1a:2b:3c:4d:5e', respMac: '00:50:56:aa:bb:cc', vlan: 20, communityId: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
      },
      features: { proto: 'tcp', duration: 0.5, orig_bytes: 120, resp_bytes: 24, conn_state: 'SF', local_orig: true, local_resp: true, missed_bytes: 0, history: 'ShADadFf', orig_pkts: 6, orig_ip_bytes: 440, resp_pkts: 4, resp_ip_bytes: 232, ip_proto: 6 },
      extra: { device_class: 'pump\tward-3' },
    });
    expect(records[1]).toMatchObject({ endpoints: { origMac: '00:1a:2b:3c:4d:5f', respMac: 'ff:ff:ff:ff:ff:ff', vlan: 20, innerVlan: 100 }, features: { service: 'dhcp', ip_proto: 17 }, extra: { device_class: '' } });
  });

  it('handles CRLF, a BOM, a missing last newline and an empty file', async () => {
    const crlf = `\ufeff${HEADER}\n${ROW}`.replaceAll('\n', '\r\n');
    const { records, report } = await zeek(crlf);
    expect(report.badRecords).toBe(0);
    expect(records).toEqual([DOCS_DNS]);
    expect(await zeek('')).toEqual({ records: [], report: { records: 0, badRecords: 0, firstBad: [], missingValues: 0 } });
  });

  it('reads a #separator other than TAB, and unset and empty markers of the header', async () => {
    const text = [HEADER.split('\n')[0]!.replace('\\x09', '\\x7c'), ...HEADER.split('\n').slice(1).map((l) => l.replaceAll('\t', '|').replace('(empty)', 'EMPTY').replace('|-', '|NONE')), ROW.replaceAll('\t', '|').replaceAll('|-', '|NONE')].join('\n');
    const { records, report } = await zeek(text);
    expect(badLines(report)).toEqual([]);
    expect(records).toEqual([DOCS_DNS]);
  });

  it('starts over at a new header when logs are concatenated', async () => {
    const { records, report } = await zeek(`${HEADER}\n${ROW}\n#close\t2020\n${HEADER}\n${ROW}\n`);
    expect(badLines(report)).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([9, 19]);
  });

  it.each([
    ['data before any header', ROW, ['1: no #fields header before the data']],
    ['no #fields', `${HEADER.split('\n').filter((l) => !l.startsWith('#fields')).join('\n')}\n${ROW}`, ['7: #types before #fields', '8: no usable header (#types before #fields)']],
    ['no #types', `${HEADER.split('\n').slice(0, 7).join('\n')}\n${ROW}`, ['8: no #types header before the data']],
    ['#types of another length', `${HEADER}\tcount\n${ROW}`, ['8: #fields names 21 columns, #types 22', '9: no usable header (#fields names 21 columns, #types 22)']],
    ['a field named twice', `${HEADER.replace('\tresp_bytes\t', '\torig_bytes\t')}\n${ROW}`, ['8: #fields: "orig_bytes" twice', '9: no usable header (#fields: "orig_bytes" twice)']],
    ['no id.orig_h column', `${HEADER.replace('id.orig_h', 'orig_host')}\n${ROW}`, ['8: #fields: no id.orig_h column, not a conn log', '9: no usable header (#fields: no id.orig_h column, not a conn log)']],
    ['a dns.log', `${HEADER.replace('#path\tconn', '#path\tdns')}\n${ROW}`, ['5: #path is "dns", not a conn log', '8: no usable header (#path is "dns", not a conn log)', '9: no usable header (#path is "dns", not a conn log)']],
    ['a malformed type', `${HEADER.replace('set[string]', 'set[string')}\n${ROW}`, ['8: #types: not a type: "set[string"', '9: no usable header (#types: not a type: "set[string")']],
    ['data after #close', `${HEADER}\n#close\t2020\n${ROW}`, ['10: data after #close, before a new header']],
  ])('counts %s as bad records', async (_what, text, expected) => {
    const { records, report } = await zeek(text);
    expect(records).toEqual([]);
    expect(badLines(report)).toEqual(expected);
  });

  it.each([
    ['a row with too few fields', ROW.split('\t').slice(0, 20).join('\t'), '20 fields, the header declares 21'],
    ['a row with too many fields', `${ROW}\tx\ty`, 'more than 21 fields, the header declares 21'],
    ['a non-numeric count', withColumn(9, 'many'), 'orig_bytes: not a count: "many"'],
    ['a negative count', withColumn(9, '-62'), 'orig_bytes: not a count: "-62"'],
    ['a negative duration', withColumn(8, '-0.5'), 'duration: negative: -0.5'],
    ['a port out of range', withColumn(3, '70000'), 'id.orig_p: not a port: 70000'],
    ['a bad address', withColumn(2, '192.168.4'), 'id.orig_h: not an IP address: "192.168.4"'],
    ['an unset address', withColumn(2, '-'), 'id.orig_h: missing'],
    ['an unknown transport', withColumn(6, 'sctp'), 'proto: not a transport protocol: "sctp"'],
    ['a bool that is not T or F', withColumn(12, 'yes'), 'local_orig: not T or F: "yes"'],
    ['a time that is not a number', withColumn(0, '2020-06-05'), 'ts: not a number: "2020-06-05"'],
    ['a uid with odd characters', withColumn(1, 'C<script>'), 'uid: not a valid value: "C<script>"'],
  ])('counts %s as a bad record and reads on', async (_what, row, reason) => {
    const { records, report } = await zeek(`${HEADER}\n${row}\n${ROW}\n`);
    expect(badLines(report)).toEqual([`9: ${reason}`]);
    expect(records.map((r) => r.line)).toEqual([10]);
  });

  it('undoes Zeek\'s \\xHH escapes, as UTF-8', () => {
    expect(unescapeZeek('a\\x09b')).toBe('a\tb');
    expect(unescapeZeek('caf\\xc3\\xa9')).toBe('café');
    expect(unescapeZeek('\\x2d')).toBe('-');
    expect(unescapeZeek('\\xzz\\x4')).toBe('\\xzz\\x4');
  });
});

describe('Zeek conn.log (JSON)', () => {
  it('parses the fixture into its exact records', async () => {
    const { records, report } = await zeek(fixture('zeek-conn.json.log'));
    expect(report).toEqual({ records: 6, badRecords: 0, firstBad: [], missingValues: 0 });
    expect(records).toEqual([
      {
        ...DOCS_DNS,
        line: 1,
        endpoints: { ...DOCS_DNS.endpoints, flowId: 'CMdzit1AMNsmfAIiQc' },
        features: { ...DOCS_DNS.features, duration: 0.06685185432434082 },
      },
      { ...TSV_RECORDS[1]!, line: 2, endpoints: { ...TSV_RECORDS[1]!.endpoints, flowId: 'C5bLoe2Mvxqhawzqqd' }, features: { ...TSV_RECORDS[1]!.features, duration: 0.25411510467529297 } },
      { ...TSV_RECORDS[2]!, line: 3 },
      { ...TSV_RECORDS[5]!, line: 4 },
      { ...TSV_RECORDS[6]!, line: 5 },
      {
        ...TSV_RECORDS[7]!,
        line: 6,
        endpoints: { ...TSV_RECORDS[7]!.endpoints, origMac: '00:1a:2b:3c:4d:5e' },
        features: { ...TSV_RECORDS[7]!.features, ip_proto: 6 },
        extra: { device_class: 'pump' },
      },
    ]);
  });

  it('reads ISO 8601 timestamps to the microsecond', () => {
    expect(isoSeconds('2020-06-05T14:39:59.305988Z')).toBeCloseTo(1591367999.305988, 6);
    expect(isoSeconds('1970-01-01T00:00:00Z')).toBe(0);
  });

  const json = (o: Record<string, unknown>): string => JSON.stringify({ ts: 1, uid: 'C1', 'id.orig_h': '10.0.0.1', 'id.orig_p': 1, 'id.resp_h': '10.0.0.2', 'id.resp_p': 2, proto: 'tcp', ...o });

  it.each([
    ['not JSON', '{"ts":1,', 'not valid JSON'],
    ['a JSON array', '[1,2]', 'not a JSON object'],
    ['a TSV row', ROW, 'not a JSON object'],
    ['a string count', json({ orig_bytes: '62' }), 'orig_bytes: not a number'],
    ['a fractional count', json({ orig_bytes: 6.2 }), 'orig_bytes: not a count: 6.2'],
    ['a huge count', json({ orig_bytes: 1e300 }), 'orig_bytes: not a count: 1e+300'],
    ['a negative duration', json({ duration: -1 }), 'duration: negative: -1'],
    ['a missing ts', json({ ts: undefined }), 'ts: missing'],
    ['a bad ISO time', json({ ts: '2020-02-30T00:00:00Z' }), 'ts: not a time: "2020-02-30T00:00:00Z"'],
    ['a nested object as a count', json({ resp_pkts: { n: 1 } }), 'resp_pkts: not a number'],
    ['tunnel_parents that are not a set', json({ tunnel_parents: 'C1' }), 'tunnel_parents: not a set'],
    ['another log', json({ _path: 'dns' }), '_path is not a conn log'],
    ['an address with a NUL', json({ 'id.orig_h': '10.0.0.1\u0000' }), 'id.orig_h: not an IP address: "10.0.0.1\\x00"'],
  ])('counts %s as a bad record', async (_what, line, reason) => {
    const { records, report } = await zeek(`${json({})}\n${line}\n${json({})}`);
    expect(badLines(report)).toEqual([`2: ${reason}`]);
    expect(records).toHaveLength(2);
  });

  it('keeps unknown scalar columns in extra and drops the rest', async () => {
    const line = json({ device: 'pump', n: 3, ok: true, tags: ['a', 'b'], nested: { a: 1 }, _write_ts: 2, bad: 'a\u0000b', big: 1e999 });
    const { records } = await zeek(line.replace('"big":null', '"big":1e999'));
    expect((records[0] as ZeekFlowRecord).extra).toEqual({ device: 'pump', n: 3, ok: true, tags: ['a', 'b'] });
  });
});
