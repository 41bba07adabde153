/**
 * Scores and their explanations: probabilities are probabilities, contributions plus
 * bias give back the raw score (both attributions, any row, missing values and
 * infinities included), TreeSHAP equals the Shapley values computed by brute force from
 * their definition, and gain importance finds the features that matter.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { denseMatrix, topContributions, trainGbdt, type GbdtModel, type GbdtTree } from '../../src/detect/index.js';
import { runs } from '../ledger/seeded.js';
import { blobs, xor } from './gbdt-data.js';

const WIDTH = 4;
const multi = trainGbdt(blobs(1500, 4, WIDTH, 31).x, blobs(1500, 4, WIDTH, 31).y, { rounds: 12, numLeaves: 8, featureFraction: 0.75 }).model;
const withNaN = (() => {
  const d = xor(1500, 32, 2);
  const data = d.x.data.map((v, i) => (i % 5 === 1 ? NaN : v));
  return trainGbdt(denseMatrix(data, WIDTH), d.y, { rounds: 12, numLeaves: 8 }).model;
})();

const value = fc.oneof(fc.double({ min: -12, max: 12, noNaN: true }), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0));
const rows = fc.array(fc.array(value, { minLength: WIDTH, maxLength: WIDTH }), { minLength: 1, maxLength: 20 }).map((r) => denseMatrix(Float64Array.from(r.flat()), WIDTH));

describe('scores', () => {
  test.prop([rows], runs(200))('probabilities lie in [0, 1] and each row sums to 1', (x) => {
    for (const model of [multi, withNaN]) {
      const p = model.predictProba(x);
      const k = model.numClasses;
      expect(p).toHaveLength(x.rows * k);
      for (let r = 0; r < x.rows; r++) {
        let sum = 0;
        for (let c = 0; c < k; c++) {
          expect(p[r * k + c]).toBeGreaterThanOrEqual(0);
          expect(p[r * k + c]).toBeLessThanOrEqual(1);
          sum += p[r * k + c]!;
        }
        expect(sum).toBeCloseTo(1, 12);
      }
    }
  });
});

describe('contributions', () => {
  test.prop([rows, fc.constantFrom('tree-shap' as const, 'saabas' as const)], runs(200))('contributions + bias = raw score, per output', (x, attribution) => {
    for (const model of [multi, withNaN]) {
      const raw = model.predictRaw(x);
      const c = model.contributions(x, attribution);
      const k = model.outputs;
      for (let r = 0; r < x.rows; r++) {
        for (let o = 0; o < k; o++) {
          let sum = 0;
          for (let f = 0; f <= WIDTH; f++) sum += c[(r * k + o) * (WIDTH + 1) + f]!;
          expect(sum).toBeCloseTo(raw[r * k + o]!, 9);
        }
      }
    }
  });

  test.prop([rows], runs(60))('TreeSHAP equals Shapley values by brute force over all feature subsets', (x) => {
    for (const model of [multi, withNaN]) {
      const c = model.contributions(x);
      for (let r = 0; r < x.rows; r++) {
        const row = x.data.subarray(r * WIDTH, (r + 1) * WIDTH);
        for (let o = 0; o < model.outputs; o++) {
          const phi = bruteForceShapley(model, o, row);
          for (let f = 0; f < WIDTH; f++) expect(c[(r * model.outputs + o) * (WIDTH + 1) + f]).toBeCloseTo(phi[f]!, 9);
        }
      }
    }
  });

  it('gives nothing to a feature no tree splits on', () => {
    const d = xor(1000, 33, 2);
    const constant = denseMatrix(d.x.data.map((v, i) => (i % 4 === 3 ? 1 : v)), 4); // feature 3 never varies
    const { model } = trainGbdt(constant, d.y, { rounds: 10, numLeaves: 8 });
    expect(model.importance('split')[3]).toBe(0);
    for (const attribution of ['tree-shap', 'saabas'] as const) {
      const c = model.contributions(d.x, attribution); // scored with feature 3 varying
      for (let r = 0; r < 1000; r++) expect(c[r * 5 + 3]).toBe(0);
    }
  });

  it('names the top contributing features of an alert', () => {
    const d = xor(2000, 34, 2);
    const { model } = trainGbdt(d.x, d.y, { rounds: 30, featureNames: ['src_bytes', 'dst_bytes', 'noise_a', 'noise_b'] });
    const row = denseMatrix(Float64Array.of(0.8, -0.7, 0.1, -0.2), 4); // signs differ: class 1
    const top = topContributions(model.contributions(row), 0, 0, 1, 4, 2, model.featureNames);
    expect(top.map((t) => t.name).sort()).toEqual(['dst_bytes', 'src_bytes']);
    expect(top[0]!.contribution).toBeGreaterThanOrEqual(top[1]!.contribution);
  });
});

describe('importance', () => {
  it('ranks the informative features first by gain', () => {
    const d = xor(2000, 35, 3);
    const { model } = trainGbdt(d.x, d.y, { rounds: 30 });
    const gain = model.importance('gain');
    const order = [...gain.keys()].sort((a, b) => gain[b]! - gain[a]!);
    expect(order.slice(0, 2).sort()).toEqual([0, 1]);
    expect(model.importance('split').reduce((a, b) => a + b, 0)).toBe(model.trees.reduce((n, t) => n + t.feature.filter((f) => f >= 0).length, 0));
  });
});

/**
 * Shapley values by their definition (Lundberg et al. 2018, eq. 1 and Algorithm 1):
 * v(S) = the tree's expected output when features outside S follow the training cover.
 */
function bruteForceShapley(model: GbdtModel, output: number, x: ArrayLike<number>): number[] {
  const m = x.length;
  const trees = model.trees.filter((_, i) => i % model.outputs === output);
  const v = (set: number): number => trees.reduce((sum, t) => sum + expectation(t, 0, set, x), 0);
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  const phi = new Array<number>(m).fill(0);
  for (let i = 0; i < m; i++) {
    for (let s = 0; s < 1 << m; s++) {
      if (s & (1 << i)) continue;
      const size = popCount(s);
      const weight = (factorial(size) * factorial(m - size - 1)) / factorial(m);
      phi[i]! += weight * (v(s | (1 << i)) - v(s));
    }
  }
  return phi;
}

function expectation(t: GbdtTree, n: number, set: number, x: ArrayLike<number>): number {
  const f = t.feature[n]!;
  if (f < 0) return t.value[n]!;
  const l = t.left[n]!;
  const r = t.right[n]!;
  if (set & (1 << f)) {
    const v = x[f]!;
    const goLeft = v <= t.threshold[n]! || (Number.isNaN(v) && t.defaultLeft[n] === 1);
    return expectation(t, goLeft ? l : r, set, x);
  }
  return (t.count[l]! * expectation(t, l, set, x) + t.count[r]! * expectation(t, r, set, x)) / t.count[n]!;
}

function popCount(s: number): number {
  let c = 0;
  for (let v = s; v; v &= v - 1) c++;
  return c;
}
