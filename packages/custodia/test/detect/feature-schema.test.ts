/**
 * Feature schemas: hostile schemas (as found in model files) are refused with
 * `model-invalid`; the encoder is strict about numbers, total on categories, and writes
 * exactly the row the schema describes.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { FeatureEncoder, parseFeatureSchema, sameFeatureSchema, SCHEMA_LIMITS, type FeatureSchema } from '../../src/detect/index.js';
import { runs } from '../ledger/seeded.js';

const modelInvalid = expect.objectContaining({ code: 'model-invalid' });
const importFailed = expect.objectContaining({ code: 'import-failed' });

const DEMO: FeatureSchema = parseFeatureSchema({
  id: 'demo',
  version: 2,
  features: [
    { name: 'bytes', kind: 'numeric', transform: 'log1p' },
    { name: 'proto', kind: 'categorical', vocabulary: ['tcp', 'udp'] },
    { name: 'rate', kind: 'numeric' },
  ],
});

describe('parseFeatureSchema', () => {
  it('freezes a valid schema', () => {
    expect(Object.isFrozen(DEMO)).toBe(true);
    expect(Object.isFrozen(DEMO.features)).toBe(true);
    expect(DEMO.features.map((f) => f.name)).toEqual(['bytes', 'proto', 'rate']);
  });

  const bad: [string, unknown][] = [
    ['not an object', [1, 2]],
    ['null', null],
    ['an unknown member', { ...DEMO, extra: 1 }],
    ['a version of 0', { ...DEMO, version: 0 }],
    ['a fractional version', { ...DEMO, version: 1.5 }],
    ['an id that is not a name', { ...DEMO, id: '../etc' }],
    ['no features', { ...DEMO, features: [] }],
    ['a feature that is not an object', { ...DEMO, features: ['bytes'] }],
    ['an unknown kind', { ...DEMO, features: [{ name: 'x', kind: 'ordinal' }] }],
    ['an unknown transform', { ...DEMO, features: [{ name: 'x', kind: 'numeric', transform: 'exp' }] }],
    ['an unknown member in a feature', { ...DEMO, features: [{ name: 'x', kind: 'numeric', scale: 2 }] }],
    ['two features with one name', { ...DEMO, features: [{ name: 'x', kind: 'numeric' }, { name: 'x', kind: 'numeric' }] }],
    ['an empty vocabulary', { ...DEMO, features: [{ name: 'x', kind: 'categorical', vocabulary: [] }] }],
    ['a repeated category', { ...DEMO, features: [{ name: 'x', kind: 'categorical', vocabulary: ['a', 'a'] }] }],
    ['a category that is not a string', { ...DEMO, features: [{ name: 'x', kind: 'categorical', vocabulary: [1] }] }],
    ['too many features', { ...DEMO, features: Array.from({ length: SCHEMA_LIMITS.features + 1 }, (_, i) => ({ name: `f${i}`, kind: 'numeric' })) }],
    ['too many categories', { ...DEMO, features: [{ name: 'x', kind: 'categorical', vocabulary: Array.from({ length: SCHEMA_LIMITS.vocabulary + 1 }, (_, i) => `c${i}`) }] }],
  ];
  it.each(bad)('refuses %s', (_, value) => {
    expect(() => parseFeatureSchema(value)).toThrow(modelInvalid);
  });

  it('tells schemas apart by id, version, order, transform and vocabulary', () => {
    const same = parseFeatureSchema(JSON.parse(JSON.stringify(DEMO)));
    expect(sameFeatureSchema(DEMO, same)).toBe(true);
    const variants = [
      { ...DEMO, id: 'other' },
      { ...DEMO, version: 3 },
      { ...DEMO, features: [...DEMO.features].reverse() },
      { ...DEMO, features: [{ name: 'bytes', kind: 'numeric' }, ...DEMO.features.slice(1)] },
      { ...DEMO, features: [DEMO.features[0], { name: 'proto', kind: 'categorical', vocabulary: ['udp', 'tcp'] }, DEMO.features[2]] },
    ];
    for (const v of variants) expect(sameFeatureSchema(DEMO, parseFeatureSchema(v))).toBe(false);
  });
});

describe('FeatureEncoder', () => {
  const encoder = new FeatureEncoder(DEMO);

  it('writes numbers, log1p of counts and category indexes in schema order', () => {
    expect([...encoder.encode({ bytes: '1000', proto: 'udp', rate: '0.25' })]).toEqual([Math.log1p(1000), 1, 0.25]);
    expect([...encoder.encode({ bytes: 0, proto: 'tcp', rate: -3 })]).toEqual([0, 0, -3]);
  });

  it('gives every unknown category the one code past the vocabulary, including prototype names', () => {
    for (const proto of ['icmp', '__proto__', 'constructor', 'toString', 'TCP', '']) {
      expect(encoder.encode({ bytes: '1', proto, rate: '0' })[1]).toBe(2);
    }
  });

  it('writes into a row of a larger array, as Float32 too', () => {
    const out = new Float32Array(9);
    encoder.encode({ bytes: '0', proto: 'udp', rate: '0.5' }, out, 3);
    expect([...out]).toEqual([0, 0, 0, 0, 1, 0.5, 0, 0, 0]);
    expect(() => encoder.encode({ bytes: '0', proto: 'udp', rate: '0.5' }, out, 7)).toThrow(RangeError);
  });

  it.each(['', ' 1', '0x10', '1_000', 'Infinity', 'NaN', '1e999', '--1', '1.2.3', '١', '9'.repeat(65)])('refuses the numeric field %j', (rate) => {
    expect(() => encoder.encode({ bytes: '1', proto: 'tcp', rate })).toThrow(importFailed);
  });

  it('refuses missing fields, non-finite numbers and negative counts, leaving the row untouched', () => {
    const out = new Float64Array([7, 7, 7]);
    expect(() => encoder.encode({ bytes: '1', proto: 'tcp' }, out)).toThrow(importFailed);
    expect(() => encoder.encode({ bytes: '1', rate: '1' }, out)).toThrow(importFailed);
    expect(() => encoder.encode({ bytes: Number.NaN, proto: 'tcp', rate: '1' }, out)).toThrow(importFailed);
    expect(() => encoder.encode({ bytes: '-1', proto: 'tcp', rate: '1' }, out)).toThrow(importFailed);
    expect([...out]).toEqual([7, 7, 7]);
  });

  test.prop([fc.double({ noNaN: true, noDefaultInfinity: true })], runs(300))('reads back every finite double from its decimal text', (x) => {
    // String(-0) is "0": compare with ===, under which -0 and 0 are one number.
    expect(encoder.encode({ bytes: '0', proto: 'tcp', rate: String(x) })[2] === x).toBe(true);
  });

  it('encodes many records row-major', () => {
    const m = encoder.encodeAll([
      { bytes: '0', proto: 'tcp', rate: '1' },
      { bytes: '0', proto: 'udp', rate: '2' },
    ]);
    expect(m).toMatchObject({ rows: 2, width: 3 });
    expect([...m.data]).toEqual([0, 0, 1, 0, 1, 2]);
  });
});
