/**
 * The strict one-line CSV splitter and the field readers: what each accepts, and that
 * each refusal is a RecordRefused with a bounded, escaped excerpt (never the raw input).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { MAX_CSV_FIELDS, splitCsvLine } from '../../src/ingest/csv-line.js';
import { readAddress, readCount, readDecimal, readMac, readPort } from '../../src/ingest/field-values.js';
import { excerpt, RecordRefused } from '../../src/ingest/record-refused.js';
import { runs } from './seeded.js';

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RecordRefused) return e.reason;
    throw e;
  }
  throw new Error('not refused');
}

describe('splitCsvLine', () => {
  it('splits plain and quoted fields', () => {
    expect(splitCsvLine('a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(splitCsvLine('')).toEqual(['']);
    expect(splitCsvLine('a,')).toEqual(['a', '']);
    expect(splitCsvLine('"a,b",c')).toEqual(['a,b', 'c']);
    expect(splitCsvLine('"say ""hi""",x,"",')).toEqual(['say "hi"', 'x', '', '']);
  });

  it('refuses broken quoting and too many fields', () => {
    expect(reason(() => splitCsvLine('a,"b'))).toBe('unterminated quoted field');
    expect(reason(() => splitCsvLine('a,"b""'))).toBe('unterminated quoted field');
    expect(reason(() => splitCsvLine('"a"b,c'))).toBe('text after a closing quote');
    expect(reason(() => splitCsvLine('a"b,"c"'))).toBe('a quote inside an unquoted field');
    expect(reason(() => splitCsvLine(','.repeat(MAX_CSV_FIELDS)))).toBe(`more than ${MAX_CSV_FIELDS} fields`);
    expect(splitCsvLine(','.repeat(MAX_CSV_FIELDS - 1))).toHaveLength(MAX_CSV_FIELDS);
  });

  test.prop([fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 20 })], runs(300))('quoting every field round-trips', (fields) => {
    expect(splitCsvLine(fields.map((f) => `"${f.replaceAll('"', '""')}"`).join(','))).toEqual(fields);
  });
});

describe('field readers', () => {
  it('read one strict spelling of each', () => {
    expect(readDecimal('0.17', 'x')).toBe(0.17);
    expect(readDecimal('-1', 'x')).toBe(-1);
    expect(readDecimal('1.0E7', 'x')).toBe(1e7);
    expect(readCount('381709090', 'x')).toBe(381709090);
    expect(readPort('65535', 'x')).toBe(65535);
    expect(readAddress('fe80::1', 'x')).toBe('fe80::1');
    expect(readMac('00:1A:2b:3c:4d:5e', 'x')).toBe('00:1a:2b:3c:4d:5e');
  });

  it.each([
    [() => readDecimal(' 1', 'duration'), 'duration: not a number: " 1"'],
    [() => readDecimal('0x10', 'duration'), 'duration: not a number: "0x10"'],
    [() => readDecimal('Infinity', 'duration'), 'duration: not a number: "Infinity"'],
    [() => readDecimal('1e999', 'duration'), 'duration: out of range: "1e999"'],
    [() => readDecimal('', 'duration'), 'duration: not a number: ""'],
    [() => readCount('-3', 'orig_bytes'), 'orig_bytes: not a count: "-3"'],
    [() => readCount('1.5', 'orig_bytes'), 'orig_bytes: not a count: "1.5"'],
    [() => readCount('9007199254740993', 'orig_bytes'), 'orig_bytes: count out of range: "9007199254740993"'],
    [() => readPort('65536', 'id.orig_p'), 'id.orig_p: not a port: 65536'],
    [() => readAddress('999.1.1.1', 'id.orig_h'), 'id.orig_h: not an IP address: "999.1.1.1"'],
    [() => readMac('00:1a:2b:3c:4d', 'orig_l2_addr'), 'orig_l2_addr: not a MAC address: "00:1a:2b:3c:4d"'],
  ])('refuses %#', (f, expected) => {
    expect(reason(f)).toBe(expected);
  });

  it('quote at most 24 characters of the input, escaped', () => {
    expect(excerpt('a'.repeat(1000))).toBe(`"${'a'.repeat(24)}…"`);
    expect(excerpt('x\u0000"\\\u00e9\u{1f600}')).toBe('"x\\x00\\x22\\x5c\\xe9\\u{1f600}"');
    expect(reason(() => readCount(`1${'\u0007'.repeat(5000)}`, 'count')).length).toBeLessThan(150);
  });
});
