/**
 * RFC 8785 serialisation (ledger/canonical-json.ts): the examples of RFC 8785 §3.2.2 and
 * §3.2.3, and agreement with the `canonicalize` package (the reference implementation
 * by the RFC's author) on arbitrary JSON values, including those it refuses.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import canonicalize from 'canonicalize';
import { runs } from './seeded.js';
import { canonicalJson } from '../../src/ledger/canonical-json.js';

describe('canonicalJson', () => {
  it('serialises the RFC 8785 §3.2.2 example: numbers, escapes, literals', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts members by UTF-16 code units, the RFC 8785 §3.2.3 example (an array-index name among them)', () => {
    const input = JSON.parse('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}');
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('refuses what JCS cannot represent', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow();
    expect(() => canonicalJson({ a: 'x\ud800' })).toThrow();
    expect(() => canonicalJson({ ['\udc00']: 1 })).toThrow();
  });

  it('leaves out undefined members and writes undefined array items as null, as JSON.stringify does', () => {
    expect(canonicalJson({ b: undefined, a: [undefined, 1] })).toBe('{"a":[null,1]}');
  });

  const same = (v: unknown): void => {
    let expected: string | undefined;
    try {
      expected = canonicalize(v);
    } catch {
      expect(() => canonicalJson(v)).toThrow();
      return;
    }
    expect(canonicalJson(v)).toBe(expected);
  };

  test.prop([fc.jsonValue({ maxDepth: 4 })], runs(500))('agrees with the reference implementation on JSON values', (v) => same(v));
  test.prop([fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' })], runs(500))('agrees on any UTF-16 strings, lone surrogates included', (v) => same(v));
  test.prop([fc.dictionary(fc.oneof(fc.string(), fc.nat().map(String)), fc.oneof(fc.double(), fc.string(), fc.constant(null)))], runs(300))(
    'agrees on objects with array-index names and any numbers',
    (v) => same(v),
  );
});
