/**
 * Properties of the three readers, through the public surface (readFlows):
 * - whatever the bytes, reading never throws: every line is a record, a skipped line or
 *   a counted bad record, and the result does not depend on where the chunks break;
 * - a valid record, written the way its format writes it, parses back to itself.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  CIC_FEATURES, NSL_KDD_FEATURES, NSL_KDD_FLAGS, NSL_KDD_PROTOCOLS, NSL_KDD_RATES, NSL_KDD_BINARY, NSL_KDD_SERVICES, ZEEK_CONN_STATES, ZEEK_TRANSPORTS,
  type CicFlowRecord, type FlowFormat, type NslKddFlowRecord, type ZeekFlowRecord,
} from '../../src/detect/index.js';
import { readFlows } from '../../src/ingest/index.js';
import { CIC_V4_HEADER, writeCicV4, writeNslKdd, writeZeekJson, writeZeekTsv, ZEEK_TSV_HEADER } from './flow-writers.js';
import { readAll } from './read-all.js';
import { runs } from './seeded.js';

const FORMATS: readonly FlowFormat[] = ['nsl-kdd', 'zeek', 'cicflowmeter'];

/** Splits `bytes` at `cuts` (positions, any order, clamped). */
function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

const NSL_LINE = '0,tcp,http,SF,232,8153,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,5,5,0.20,0.20,0.00,0.00,1.00,0.00,0.00,30,255,1.00,0.00,0.03,0.04,0.03,0.01,0.00,0.01,normal,21';
const ZEEK_ROW = '1591367999.305988\tCazOhH2qDUiJTWMCY\t192.168.4.76\t36844\t192.168.4.1\t53\tudp\tdns\t0.066852\t62\t141\tSF\t-\t-\t0\tDd\t2\t118\t2\t197\t-\t-\t-\t-\t-\t-\t-\t-';
const CIC_ROW = `f,10.0.0.1,1,10.0.0.2,2,6,t,5${',1'.repeat(75)},BENIGN`;

/** Lines that reach deep into the parsers: valid ones, mutations of them, headers, junk. */
const line = fc.oneof(
  { arbitrary: fc.constantFrom(NSL_LINE, ZEEK_ROW, CIC_ROW), weight: 4 },
  { arbitrary: fc.constantFrom(...ZEEK_TSV_HEADER.split('\n'), CIC_V4_HEADER, '#close\t2026', '{"ts":1}', ''), weight: 1 },
  {
    arbitrary: fc.tuple(fc.constantFrom(NSL_LINE, ZEEK_ROW, CIC_ROW, CIC_V4_HEADER), fc.nat(), fc.string({ maxLength: 6, unit: 'binary' }))
      .map(([l, at, s]) => l.slice(0, at % (l.length + 1)) + s + l.slice((at % (l.length + 1)) + 1)),
    weight: 3,
  },
  { arbitrary: fc.string({ maxLength: 40, unit: 'binary' }), weight: 1 },
);
/** Lines joined by LF or CRLF, after a valid header (or none) so that rows get past it. */
const soup = fc
  .tuple(fc.constantFrom('', ZEEK_TSV_HEADER, CIC_V4_HEADER), fc.array(line, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'))
  .map(([header, lines, eol]) => Buffer.from([...(header === '' ? [] : header.split('\n')), ...lines].join(eol), 'utf8'));
const input = fc.oneof(fc.uint8Array({ maxLength: 3000 }), soup);

describe('reading arbitrary input', () => {
  test.prop([input, fc.array(fc.nat({ max: 3000 }), { maxLength: 6 })], runs(300))('never throws, counts every bad line, and ignores chunk boundaries', async (bytes, cuts) => {
    for (const format of FORMATS) {
      const whole = await readAll(readFlows([bytes], format, { maxLineBytes: 2048 }));
      const pieces = await readAll(readFlows(chunked(bytes, cuts), format, { maxLineBytes: 2048 }));
      expect(pieces).toEqual(whole);
      const { records, report } = whole;
      expect(report.records).toBe(records.length);
      const lines = bytes.length === 0 ? 0 : bytes.filter((b) => b === 0x0a).length + 1;
      expect(report.records + report.badRecords).toBeLessThanOrEqual(lines);
      expect(report.firstBad.length).toBe(Math.min(report.badRecords, 20));
      for (const bad of report.firstBad) {
        expect(bad.line).toBeGreaterThanOrEqual(1);
        expect(bad.line).toBeLessThanOrEqual(lines);
        expect(bad.reason.length).toBeLessThanOrEqual(200);
      }
    }
  });
});

const nz = (x: number): number => x + 0; // -0 → 0: the text "0" reads back as +0

const nslRecord: fc.Arbitrary<NslKddFlowRecord> = fc
  .tuple(
    fc.tuple(...NSL_KDD_FEATURES.map((f) =>
      f === 'protocol_type' ? fc.constantFrom(...NSL_KDD_PROTOCOLS)
        : f === 'flag' ? fc.constantFrom(...NSL_KDD_FLAGS)
          : f === 'service' ? fc.constantFrom(...NSL_KDD_SERVICES)
            : NSL_KDD_BINARY.includes(f) ? fc.constantFrom(0, 1)
              : NSL_KDD_RATES.includes(f) ? fc.double({ min: 0, max: 1, noNaN: true }).map(nz)
                : fc.oneof(fc.nat({ max: 600 }), fc.maxSafeNat()))),
    fc.option(fc.record({ label: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/), difficulty: fc.option(fc.integer({ min: 0, max: 21 }), { nil: undefined }) }), { nil: undefined }),
  )
  .map(([values, truth]) => {
    const features = Object.fromEntries(NSL_KDD_FEATURES.map((f, i) => [f, values[i]])) as NslKddFlowRecord['features'];
    const t = truth === undefined ? undefined : truth.difficulty === undefined ? { label: truth.label } : { label: truth.label, difficulty: truth.difficulty };
    return { source: 'nsl-kdd', line: 1, endpoints: {}, features, ...(t === undefined ? {} : { truth: t }) } as NslKddFlowRecord;
  });

/** Drops the keys whose value is undefined (records never carry them). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const count = fc.oneof(fc.nat({ max: 100_000 }), fc.maxSafeNat());
const uid = fc.stringMatching(/^C[A-Za-z0-9]{1,17}$/);
const mac = fc.stringMatching(/^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/);
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

const zeekRecord = (extraString: fc.Arbitrary<string>): fc.Arbitrary<ZeekFlowRecord> =>
  fc
    .record({
      startTime: fc.double({ min: 0, max: 4e9, noNaN: true }).map(nz),
      endpoints: fc.record({
        flowId: uid, origAddr: fc.oneof(fc.ipV4(), fc.ipV6()), origPort: fc.integer({ min: 0, max: 65535 }),
        respAddr: fc.oneof(fc.ipV4(), fc.ipV6()), respPort: fc.integer({ min: 0, max: 65535 }),
        origMac: opt(mac), respMac: opt(mac),
        vlan: opt(fc.integer({ min: 0, max: 4095 })), innerVlan: opt(fc.integer({ min: 0, max: 4095 })),
        communityId: opt(fc.stringMatching(/^1:[A-Za-z0-9+/]{27}=$/)), tunnelParents: opt(fc.array(uid, { maxLength: 3 })),
      }),
      features: fc.record({
        proto: fc.constantFrom(...ZEEK_TRANSPORTS), service: opt(fc.stringMatching(/^[a-z0-9_,-]{1,16}$/)),
        duration: opt(fc.double({ min: 0, max: 1e7, noNaN: true }).map(nz)), orig_bytes: opt(count), resp_bytes: opt(count),
        conn_state: opt(fc.constantFrom(...ZEEK_CONN_STATES)), local_orig: opt(fc.boolean()), local_resp: opt(fc.boolean()),
        missed_bytes: opt(count), history: opt(fc.stringMatching(/^[ShADadFfRrCcGgTtWwIiQq^]{1,12}$/)), orig_pkts: opt(count),
        orig_ip_bytes: opt(count), resp_pkts: opt(count), resp_ip_bytes: opt(count), ip_proto: opt(fc.integer({ min: 0, max: 255 })),
      }),
      note: opt(extraString),
    })
    .map(({ startTime, endpoints, features, note }) => ({
      source: 'zeek', line: 9, startTime, endpoints: defined(endpoints), features: defined(features), ...(note === undefined ? {} : { extra: { note } }),
    }) as ZeekFlowRecord);

const STATISTICS = CIC_FEATURES.filter((f) => f !== 'protocol');
const cicRecord: fc.Arbitrary<CicFlowRecord> = fc
  .record({
    endpoints: fc.record({
      flowId: opt(fc.stringMatching(/^[A-Za-z0-9.:,"-]{1,40}$/)), origAddr: opt(fc.ipV4()), origPort: opt(fc.integer({ min: 0, max: 65535 })),
      respAddr: opt(fc.ipV6()), respPort: opt(fc.integer({ min: 0, max: 65535 })),
    }),
    timestamp: opt(fc.stringMatching(/^[0-9]{2}\/[0-9]{2}\/[0-9]{4} [0-9:]{8}( [AP]M)?$/)),
    protocol: opt(fc.integer({ min: 0, max: 255 })),
    duration: opt(fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }).map(nz)),
    statistics: fc.array(opt(fc.double({ noNaN: true, noDefaultInfinity: true }).map(nz)), { minLength: STATISTICS.length - 1, maxLength: STATISTICS.length - 1 }),
    label: opt(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,_-]{0,20}[A-Za-z0-9]$/)),
  })
  .map(({ endpoints, timestamp, protocol, duration, statistics, label }) => {
    const features = defined({ protocol, flow_duration: duration, ...Object.fromEntries(STATISTICS.slice(1).map((s, i) => [s, statistics[i]])) });
    return {
      source: 'cicflowmeter', line: 2, endpoints: defined(endpoints), features,
      ...(timestamp === undefined ? {} : { timestamp }), ...(label === undefined ? {} : { truth: { label } }),
    } as CicFlowRecord;
  });

async function parsed(text: string, format: FlowFormat): Promise<unknown[]> {
  const { records, report } = await readAll(readFlows([Buffer.from(text, 'utf8')], format));
  expect(report.firstBad).toEqual([]);
  return records;
}

describe('round trips', () => {
  test.prop([nslRecord], runs(300))('NSL-KDD: a record written as a line parses back to itself', async (r) => {
    expect(await parsed(writeNslKdd(r), 'nsl-kdd')).toEqual([r]);
  });

  test.prop([zeekRecord(fc.string({ maxLength: 20, unit: 'grapheme' }))], runs(300))('Zeek TSV: a record written as Zeek writes it parses back to itself', async (r) => {
    expect(await parsed(`${ZEEK_TSV_HEADER}\n${writeZeekTsv(r)}\n`, 'zeek')).toEqual([r]);
  });

  test.prop([zeekRecord(fc.stringMatching(/^[^\u0000-\u001f\u007f-\u009f]{0,20}$/))], runs(300))('Zeek JSON: a record written as Zeek writes it parses back to itself', async (r) => {
    expect(await parsed(writeZeekJson(r), 'zeek')).toEqual([{ ...r, line: 1 }]);
  });

  test.prop([cicRecord], runs(300))('CICFlowMeter: a record written under the tool\'s header parses back to itself', async (r) => {
    expect(await parsed(`${CIC_V4_HEADER}\n${writeCicV4(r, STATISTICS)}\n`, 'cicflowmeter')).toEqual([r]);
  });
});
