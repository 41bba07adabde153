/**
 * Histograms and split finding against brute force: the subtraction trick gives the
 * histogram a direct scan gives, and the best split found from histograms is the best
 * of all (feature, threshold, missing side) candidates scored by XGBoost's eq. 7 from the
 * rows themselves.
 */
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { binMatrix, computeFeatureBins } from '../../src/detect/gbdt-bins.js';
import { buildHistogram, buildHistogramSparse, histogramLayout, sparseRowBins, subtractHistogram } from '../../src/detect/gbdt-histogram.js';
import { findBestSplit, type SplitParams } from '../../src/detect/gbdt-split.js';
import { denseMatrix } from '../../src/detect/index.js';
import { runs } from '../ledger/seeded.js';

const cell = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(Number.NaN));
const rowsArb = fc.array(fc.tuple(cell, cell, cell, fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true })), { minLength: 2, maxLength: 60 });

function setUp(rows: [number, number, number, number, number][]) {
  const width = 3;
  const m = denseMatrix(Float64Array.from(rows.flatMap((r) => r.slice(0, 3))), width);
  const all = Uint32Array.from(rows, (_, i) => i);
  const bins = computeFeatureBins(m, all);
  const layout = histogramLayout(bins);
  const binned = binMatrix(m, bins);
  const grad = Float64Array.from(rows, (r) => r[3]);
  const hess = Float64Array.from(rows, (r) => r[4]);
  const features = Int32Array.of(0, 1, 2);
  return { m, all, bins, layout, binned, grad, hess, features, stride: rows.length, ordered: new Float64Array(2 * rows.length) };
}

test.prop([rowsArb, fc.integer({ min: 1, max: 59 })], runs(200))('parent − one child = the other child, bin for bin', (rows, cut) => {
  const s = setUp(rows);
  const k = Math.min(cut, rows.length - 1);
  const parent = new Float64Array(s.layout.length);
  const left = new Float64Array(s.layout.length);
  const right = new Float64Array(s.layout.length);
  buildHistogram(parent, s.layout, s.bins, s.features, s.binned, s.stride, s.all, 0, rows.length, s.grad, s.hess, s.ordered);
  buildHistogram(left, s.layout, s.bins, s.features, s.binned, s.stride, s.all, 0, k, s.grad, s.hess, s.ordered);
  buildHistogram(right, s.layout, s.bins, s.features, s.binned, s.stride, s.all, k, rows.length, s.grad, s.hess, s.ordered);
  subtractHistogram(parent, left, s.layout, s.bins, s.features);
  for (let i = 0; i < parent.length; i++) expect(parent[i]).toBeCloseTo(right[i]!, 9);
});

test.prop([rowsArb, fc.integer({ min: 0, max: 59 })], runs(200))(
  'the sparse histogram (most frequent bins by difference) is the column-wise one: counts exactly, sums to rounding',
  (rows, cut) => {
    const s = setUp(rows);
    const order = Uint32Array.from(s.all).reverse();
    const begin = Math.min(cut, rows.length - 1);
    const column = new Float64Array(s.layout.length);
    const sparse = new Float64Array(s.layout.length).fill(7); // stale values from an earlier leaf must not survive
    buildHistogram(column, s.layout, s.bins, s.features, s.binned, s.stride, order, begin, rows.length, s.grad, s.hess, s.ordered);
    buildHistogramSparse(sparse, s.layout, s.bins, sparseRowBins(s.binned, rows.length, s.bins, s.layout), order, begin, rows.length, s.grad, s.hess);
    for (let i = 0; i < column.length; i++) {
      if (i % 3 === 2) expect(sparse[i]).toBe(column[i]);
      else expect(sparse[i]).toBeCloseTo(column[i]!, 9);
    }
  },
);

test.prop([rowsArb, fc.double({ min: 0, max: 2, noNaN: true }), fc.integer({ min: 1, max: 5 })], runs(200))(
  'the histogram split is the brute-force best split',
  (rows, lambda, minChildSamples) => {
    const s = setUp(rows);
    const p: SplitParams = { lambda, minChildSamples, minChildWeight: 1e-3, minGainToSplit: 0 };
    const hist = new Float64Array(s.layout.length);
    buildHistogram(hist, s.layout, s.bins, s.features, s.binned, s.stride, s.all, 0, rows.length, s.grad, s.hess, s.ordered);
    const G = s.grad.reduce((a, b) => a + b, 0);
    const H = s.hess.reduce((a, b) => a + b, 0);
    const split = findBestSplit(hist, s.layout, s.bins, s.features, G, H, rows.length, p);

    // Brute force over raw values: every threshold between distinct values, missing both ways.
    let bestGain = 0;
    for (let f = 0; f < 3; f++) {
      const values = [...new Set(rows.map((r) => r[f]!).filter((v) => !Number.isNaN(v)))].sort((a, b) => a - b);
      for (let i = 0; i + 1 < values.length; i++) {
        for (const missingLeft of [false, true]) {
          let gl = 0, hl = 0, cl = 0;
          rows.forEach((r, j) => {
            const v = r[f]!;
            if (Number.isNaN(v) ? missingLeft : v <= values[i]!) (gl += s.grad[j]!), (hl += s.hess[j]!), cl++;
          });
          const cr = rows.length - cl;
          const hr = H - hl;
          if (cl < minChildSamples || cr < minChildSamples || hl < 1e-3 || hr < 1e-3) continue;
          const gain = (gl * gl) / (hl + lambda) + ((G - gl) * (G - gl)) / (hr + lambda) - (G * G) / (H + lambda);
          bestGain = Math.max(bestGain, gain);
        }
      }
    }
    if (bestGain <= 1e-9) expect(split === null || split.gain <= 1e-9).toBe(true);
    else {
      expect(split).not.toBeNull();
      expect(split!.gain).toBeCloseTo(bestGain, 9);
    }
  },
);

test('the sparse histogram holds bin indices past 16 bits (300 features of 255 bins)', () => {
  const rows = 300;
  const width = 300;
  const x = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let f = 0; f < width; f++) x[r * width + f] = (r * 7 + f) % rows; // all distinct per feature
  const m = denseMatrix(x, width);
  const all = Uint32Array.from({ length: rows }, (_, i) => i);
  const bins = computeFeatureBins(m, all);
  const layout = histogramLayout(bins);
  expect(layout.length / 3).toBeGreaterThan(0x10000);
  const binned = binMatrix(m, bins);
  const grad = Float64Array.from(all, (r) => Math.sin(r));
  const hess = Float64Array.from(all, (r) => 1 + (r % 3));
  const features = Int32Array.from({ length: width }, (_, f) => f);
  const column = new Float64Array(layout.length);
  const sparse = new Float64Array(layout.length);
  buildHistogram(column, layout, bins, features, binned, rows, all, 10, rows, grad, hess, new Float64Array(2 * rows));
  const sparseBins = sparseRowBins(binned, rows, bins, layout);
  expect(sparseBins.slot).toBeInstanceOf(Uint32Array);
  buildHistogramSparse(sparse, layout, bins, sparseBins, all, 10, rows, grad, hess);
  for (let i = 0; i < column.length; i++) expect(sparse[i]).toBeCloseTo(column[i]!, 9);
});
