import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  approximateRange,
  decimalOfRange,
  formatDateRange,
  formatDecimal,
  impliedRange,
  normalizeString,
  parseDateRange,
  parseDecimal,
} from '../../../src/fhir/search/index.js';
import { nextDown } from '../../../src/fhir/search/number-range.js';
import { indexedPrefix, MAX_INDEXED_STRING } from '../../../src/fhir/search/normalize.js';

describe('parseDateRange (R4 search.html §3.1.1.4.3: the value covers its whole precision)', () => {
  it.each([
    ['2020', '2020-01-01T00:00:00.000Z', '2020-12-31T23:59:59.999Z', 'year'],
    ['2020-02', '2020-02-01T00:00:00.000Z', '2020-02-29T23:59:59.999Z', 'month'],
    ['2021-02', '2021-02-01T00:00:00.000Z', '2021-02-28T23:59:59.999Z', 'month'],
    ['2020-03-04', '2020-03-04T00:00:00.000Z', '2020-03-04T23:59:59.999Z', 'day'],
    ['2020-03-04T10:00', '2020-03-04T10:00:00.000Z', '2020-03-04T10:00:59.999Z', 'minute'],
    ['2020-03-04T10:00:05Z', '2020-03-04T10:00:05.000Z', '2020-03-04T10:00:05.999Z', 'second'],
    ['2020-03-04T10:00:05+02:00', '2020-03-04T08:00:05.000Z', '2020-03-04T08:00:05.999Z', 'second'],
    ['2020-03-04T10:00:05-05:30', '2020-03-04T15:30:05.000Z', '2020-03-04T15:30:05.999Z', 'second'],
    ['2020-03-04T10:00:05.1Z', '2020-03-04T10:00:05.100Z', '2020-03-04T10:00:05.199Z', 'millisecond'],
    ['2020-03-04T10:00:05.12Z', '2020-03-04T10:00:05.120Z', '2020-03-04T10:00:05.129Z', 'millisecond'],
    ['2020-03-04T10:00:05.123456Z', '2020-03-04T10:00:05.123Z', '2020-03-04T10:00:05.123Z', 'millisecond'],
    ['0001', '0001-01-01T00:00:00.000Z', '0001-12-31T23:59:59.999Z', 'year'],
    ['0099-06', '0099-06-01T00:00:00.000Z', '0099-06-30T23:59:59.999Z', 'month'],
  ])('%s → [%s, %s]', (text, lo, hi, precision) => {
    expect(parseDateRange(text)).toEqual({ lo: Date.parse(lo), hi: Date.parse(hi), precision });
  });

  it('takes values without an offset as UTC', () => {
    expect(parseDateRange('2020-03-04T10:00:05')?.lo).toBe(Date.UTC(2020, 2, 4, 10, 0, 5));
  });

  it.each(['', '20', '2020-13', '2020-02-30', '2021-02-29', '2020-1-01', '2020-01-01T24:00', '2020-01-01T10', '0000', '2020-01-01T10:00+15:00', 'x2020', '2020-01-01 10:00', '2020-01-01T10:00:00.1234567890123Z'])(
    'rejects %j',
    (text) => {
      expect(parseDateRange(text)).toBeUndefined();
    },
  );

  test.prop([fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), fc.constantFrom(4, 7, 10, 16, 19, 21, 22, 23)])(
    'gives lo <= hi around the instant it was parsed from',
    (date, length) => {
      const iso = date.toISOString();
      const text = length >= 16 ? `${iso.slice(0, length)}Z` : iso.slice(0, length);
      const r = parseDateRange(text);
      expect(r).toBeDefined();
      expect(r!.lo).toBeLessThanOrEqual(r!.hi);
      expect(r!.lo).toBeLessThanOrEqual(date.getTime());
      expect(r!.hi).toBeGreaterThanOrEqual(date.getTime());
      expect(parseDateRange(formatDateRange(r!)!)).toEqual(r);
    },
  );
});

describe('search numbers (R4 search.html §3.1.1.4.1: implied precision)', () => {
  it.each([
    ['100', 99.5, 100.5],
    ['100.00', 99.995, 100.005],
    ['1e2', 50, 150],
    ['-5', -5.5, -4.5],
    ['0.0', -0.05, 0.05],
    ['0', -0.5, 0.5],
  ])('%s → [%d, %d)', (text, lo, hiExclusive) => {
    const r = impliedRange(parseDecimal(text)!);
    expect(r.lo).toBe(lo);
    expect(r.hi).toBe(nextDown(hiExclusive));
    expect(r.hi).toBeLessThan(hiExclusive);
  });

  it('widens ap by 10% of the value', () => {
    expect(approximateRange(parseDecimal('100')!)).toEqual({ lo: 90, hi: 110 });
    expect(approximateRange(parseDecimal('0')!)).toEqual(impliedRange(parseDecimal('0')!));
  });

  it.each(['', '.5', '1.', '1e', '--1', '1,0', 'NaN', 'Infinity', '1e400', '0x10', ' 1'])('rejects %j', (text) => {
    expect(parseDecimal(text)).toBeUndefined();
  });

  it('rounds beyond 15 significant digits', () => {
    expect(parseDecimal('1.23456789012345678')).toMatchObject({ digits: 123456789012346n, exponent: -14 });
  });

  test.prop([fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }))])('inverts its implied range', (n) => {
    const d = parseDecimal(String(n));
    if (d === undefined) return; // exponent forms like 1e-7 are fine too; String() may give 'e-' forms that parse
    const back = decimalOfRange(impliedRange(d));
    expect(back).toBeDefined();
    expect(formatDecimal(back!.digits, back!.exponent)).toBe(formatDecimal(d.digits, d.exponent));
  });
});

describe('normalizeString', () => {
  it('lower-cases, strips accents and collapses whitespace', () => {
    expect(normalizeString('  Zoë   Ångström ')).toBe('zoe angstrom');
    expect(normalizeString('MÜLLER\tJosé')).toBe('muller jose');
    expect(normalizeString('İstanbul')).toBe('istanbul');
    expect(normalizeString('Chalmers')).toBe('chalmers');
  });

  test.prop([fc.string({ unit: 'binary' })])('is idempotent', (s) => {
    const once = normalizeString(s);
    expect(normalizeString(once)).toBe(once);
  });

  test.prop([fc.string({ unit: 'grapheme' })])('is idempotent on text', (s) => {
    const once = normalizeString(s);
    expect(normalizeString(once)).toBe(once);
  });
});

describe('indexedPrefix (what the string index keeps)', () => {
  it('keeps the first MAX_INDEXED_STRING code units, never half a surrogate pair', () => {
    expect(indexedPrefix('chalmers')).toBe('chalmers');
    expect(indexedPrefix('a'.repeat(5_000))).toBe('a'.repeat(MAX_INDEXED_STRING));
    const pair = `${'a'.repeat(MAX_INDEXED_STRING - 1)}😀b`;
    expect(indexedPrefix(pair)).toBe('a'.repeat(MAX_INDEXED_STRING - 1));
  });

  test.prop([fc.string({ unit: 'grapheme', maxLength: 1_200 })])('is a prefix, well formed, at most MAX_INDEXED_STRING long, and idempotent', (s) => {
    const p = indexedPrefix(s);
    expect(s.startsWith(p)).toBe(true);
    expect(p.length).toBeLessThanOrEqual(MAX_INDEXED_STRING);
    expect(/\p{Cs}/u.test(p)).toBe(false);
    expect(indexedPrefix(p)).toBe(p);
  });
});
