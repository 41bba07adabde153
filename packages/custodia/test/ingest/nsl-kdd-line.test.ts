/**
 * NSL-KDD / KDD'99 lines: the fixture excerpt of KDDTrain+_20Percent.txt parses into the
 * records an independent reading of the ARFF header predicts; 41, 42 and 43 fields; and
 * every field that leaves its ARFF domain refuses the line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NSL_KDD_FEATURES, NSL_KDD_SERVICES, type NslKddFlowRecord } from '../../src/detect/index.js';
import { parseNslKddLine } from '../../src/ingest/nsl-kdd-line.js';
import { RecordRefused } from '../../src/ingest/record-refused.js';

const FIXTURES = new URL('../fixtures/flows/', import.meta.url);
const excerptLines = readFileSync(new URL('nsl-kdd-excerpt.txt', FIXTURES), 'utf8').trimEnd().split('\n');
const arff = readFileSync(new URL('nsl-kdd-columns.arff.txt', FIXTURES), 'utf8');

/** `@attribute 'name' type` lines of the ARFF header, without the class. */
const attributes = [...arff.matchAll(/^@attribute '([a-z_]+)' (.*)$/gm)].map((m) => ({ name: m[1]!, type: m[2]!.trim() })).filter((a) => a.name !== 'class');

function reason(text: string): string {
  try {
    parseNslKddLine(text, 1);
  } catch (e) {
    if (e instanceof RecordRefused) return e.reason;
    throw e;
  }
  throw new Error('not refused');
}

/** The record the ARFF header predicts for a line: symbols as text, everything else Number(). */
function predicted(text: string, line: number): NslKddFlowRecord {
  const fields = text.split(',');
  const features = Object.fromEntries(attributes.map((a, i) => [a.name, a.type === 'real' || a.type === "{'0', '1'}" ? Number(fields[i]) : fields[i]]));
  return { source: 'nsl-kdd', line, endpoints: {}, features, truth: { label: fields[41]!, difficulty: Number(fields[42]) } } as NslKddFlowRecord;
}

const first = excerptLines[0]!;

describe('NSL-KDD lines', () => {
  it('name the 41 features and the services as the ARFF header declares them', () => {
    expect(NSL_KDD_FEATURES).toEqual(attributes.map((a) => a.name));
    const services = /^@attribute 'service' \{(.*)\}/m.exec(arff)![1]!.split(',').map((s) => s.trim().replaceAll("'", ''));
    expect([...NSL_KDD_SERVICES].sort()).toEqual(services.sort());
  });

  it('parse the first fixture row into its exact record', () => {
    expect(parseNslKddLine(first, 1)).toEqual({
      source: 'nsl-kdd',
      line: 1,
      endpoints: {},
      features: {
        duration: 0, protocol_type: 'tcp', service: 'ftp_data', flag: 'SF', src_bytes: 491, dst_bytes: 0, land: 0, wrong_fragment: 0,
        urgent: 0, hot: 0, num_failed_logins: 0, logged_in: 0, num_compromised: 0, root_shell: 0, su_attempted: 0, num_root: 0,
        num_file_creations: 0, num_shells: 0, num_access_files: 0, num_outbound_cmds: 0, is_host_login: 0, is_guest_login: 0,
        count: 2, srv_count: 2, serror_rate: 0, srv_serror_rate: 0, rerror_rate: 0, srv_rerror_rate: 0, same_srv_rate: 1,
        diff_srv_rate: 0, srv_diff_host_rate: 0, dst_host_count: 150, dst_host_srv_count: 25, dst_host_same_srv_rate: 0.17,
        dst_host_diff_srv_rate: 0.03, dst_host_same_src_port_rate: 0.17, dst_host_srv_diff_host_rate: 0, dst_host_serror_rate: 0,
        dst_host_srv_serror_rate: 0, dst_host_rerror_rate: 0.05, dst_host_srv_rerror_rate: 0,
      },
      truth: { label: 'normal', difficulty: 20 },
    });
  });

  it('parse all 60 fixture rows into the records the ARFF header predicts', () => {
    const records = excerptLines.map((l, i) => parseNslKddLine(l, i + 1));
    expect(records).toEqual(excerptLines.map((l, i) => predicted(l, i + 1)));
    const labels = new Map<string, number>();
    for (const r of records) labels.set(r!.truth!.label, (labels.get(r!.truth!.label) ?? 0) + 1);
    expect(labels.get('normal')).toBe(24);
    expect(labels.size).toBe(18);
  });

  it('take 41, 42 or 43 fields; the label and difficulty are optional', () => {
    const fields = first.split(',');
    expect(parseNslKddLine(fields.slice(0, 41).join(','), 1)!.truth).toBeUndefined();
    expect(parseNslKddLine(fields.slice(0, 42).join(','), 1)!.truth).toEqual({ label: 'normal' });
    expect(parseNslKddLine([...fields.slice(0, 41), 'normal.'].join(','), 1)!.truth).toEqual({ label: 'normal' }); // KDD'99
    expect(parseNslKddLine([...fields.slice(0, 41), 'anomaly'].join(','), 1)!.truth).toEqual({ label: 'anomaly' }); // the ARFF class
  });

  it('skip blank lines and a header naming the columns', () => {
    expect(parseNslKddLine('', 1)).toBeUndefined();
    expect(parseNslKddLine([...NSL_KDD_FEATURES, 'label', 'difficulty'].join(','), 1)).toBeUndefined();
  });

  const replace = (i: number, value: string): string => first.split(',').map((f, j) => (j === i ? value : f)).join(',');

  it.each([
    ['40 fields, not 41 to 43', first.split(',').slice(0, 40).join(',')],
    ['44 fields, not 41 to 43', `${first},x`],
    ['duration: not a count: "-1"', replace(0, '-1')],
    ['duration: not a count: "1.5"', replace(0, '1.5')],
    ['src_bytes: not a count: "lots"', replace(4, 'lots')],
    ['src_bytes: not a count: ""', replace(4, '')],
    ['protocol_type: not in the data set\'s domain: "sctp"', replace(1, 'sctp')],
    ['service: not in the data set\'s domain: "gopher2"', replace(2, 'gopher2')],
    ['flag: not in the data set\'s domain: "sf"', replace(3, 'sf')],
    ['land: not 0 or 1: "2"', replace(6, '2')],
    ['serror_rate: not a rate in [0, 1]: "1.01"', replace(24, '1.01')],
    ['serror_rate: not a number: "NaN"', replace(24, 'NaN')],
    ['label: not a class name: "not normal"', replace(41, 'not normal')],
    ['difficulty: above 21: 22', replace(42, '22')],
    ['difficulty: not a count: "x"', replace(42, 'x')],
    ['unterminated quoted field', '0,"tcp,ftp_data,SF'],
  ])('refuse a line: %s', (expected, text) => {
    expect(reason(text)).toBe(expected);
  });
});
