/**
 * Feature binning (LightGBM §2): quantile edges from a sample, at most 255 value bins and
 * a missing bin, and the one property everything else rests on: a row is in bin ≤ b
 * exactly when its value is ≤ edges[b], so thresholds learnt on bins hold on raw values.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { binMatrix, binOf, computeFeatureBins, MAX_BINS } from '../../src/detect/gbdt-bins.js';
import { denseMatrix } from '../../src/detect/index.js';
import { runs } from '../ledger/seeded.js';

const allRows = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);

describe('feature bins', () => {
  it('gives each distinct value its own bin when there are few, edges halfway between', () => {
    const m = denseMatrix(Float64Array.of(3, 1, 2, 2, NaN, 1), 1);
    const bins = computeFeatureBins(m, allRows(6));
    expect([...bins.edges[0]!]).toEqual([1.5, 2.5]);
    expect(bins.numBins[0]).toBe(3);
    expect([...binMatrix(m, bins)]).toEqual([2, 0, 1, 1, 3, 0]); // NaN → the missing bin, numBins
  });

  it('cuts many distinct values into at most 255 bins of about equal count', () => {
    const n = 100_000;
    const m = denseMatrix(Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1000), 1);
    const bins = computeFeatureBins(m, allRows(n));
    expect(bins.numBins[0]).toBeLessThanOrEqual(MAX_BINS);
    expect(bins.numBins[0]).toBeGreaterThan(250);
    const counts = new Array<number>(bins.numBins[0]!).fill(0);
    for (const b of binMatrix(m, bins)) counts[b]!++;
    expect(Math.max(...counts)).toBeLessThan((3 * n) / 255);
  });

  it('keeps a heavy value in one bin of its own', () => {
    const n = 10_000;
    const values = Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0 : i)); // half the rows are 0
    const m = denseMatrix(values, 1);
    const bins = computeFeatureBins(m, allRows(n), 16);
    const binned = binMatrix(m, bins);
    const zeroBin = binned[0]!;
    for (let i = 0; i < n; i++) expect(binned[i] === zeroBin).toBe(values[i] === 0);
  });

  it('a feature with one value (or only missing ones) has a single bin', () => {
    const m = denseMatrix(Float64Array.of(7, NaN, 7, NaN, NaN, NaN), 2);
    const bins = computeFeatureBins(m, allRows(3));
    expect([...bins.numBins]).toEqual([1, 1]);
    expect([...binMatrix(m, bins)]).toEqual([0, 0, 1, 1, 1, 1]); // column-major: feature 0's rows, then feature 1's
  });

  it('keeps edges finite around infinities', () => {
    const m = denseMatrix(Float64Array.of(-Infinity, 0, 1, Infinity), 1);
    const bins = computeFeatureBins(m, allRows(4));
    expect([...bins.edges[0]!].every(Number.isFinite)).toBe(true);
    expect([...binMatrix(m, bins)]).toEqual([0, 1, 2, 3]);
  });

  test.prop([fc.array(fc.oneof(fc.double({ noNaN: true }), fc.integer({ min: -5, max: 5 })), { minLength: 1, maxLength: 400 }), fc.integer({ min: 2, max: 255 })], runs(200))(
    'bin(v) <= b exactly when v <= edges[b]; edges strictly increase',
    (values, maxBins) => {
      const m = denseMatrix(Float64Array.from(values), 1);
      const { edges, numBins } = computeFeatureBins(m, allRows(values.length), maxBins);
      const e = edges[0]!;
      expect(numBins[0]).toBeLessThanOrEqual(maxBins);
      for (let i = 1; i < e.length; i++) expect(e[i]!).toBeGreaterThan(e[i - 1]!);
      for (const v of values) {
        const bin = binOf(e, v);
        for (let b = 0; b < e.length; b++) expect(bin <= b).toBe(v <= e[b]!);
      }
    },
  );
});
