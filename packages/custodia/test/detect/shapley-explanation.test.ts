/**
 * Baseline Shapley values by sampled orderings (detect/shapley-explanation.ts), on scoring
 * functions whose Shapley values are known in closed form: an additive score (each
 * feature's own effect, exactly), two features either of which makes the alert (half
 * each, where occlusion gave both nothing), and any score of two features (exact: one
 * antithetic pair is both orderings). For any score: the values add up to s(x) − s(r),
 * a feature at its reference gets 0, and a row gets the same values in any batch, in any
 * position, including batches scored in several calls.
 */
import { describe, expect, it } from 'vitest';
import { fc, test as prop } from '@fast-check/vitest';
import { MAX_SCORED_ROWS, ORDERINGS, shapleyValues, type DetectionScores, type FeatureMatrix } from '../../src/detect/index.js';

type RowScore = (row: Float64Array) => number;

/** A scorer of rows by `f`, counting the rows and calls it is given. */
function scorerOf(f: RowScore) {
  const seen = { rows: 0, calls: 0 };
  return {
    seen,
    async score(m: FeatureMatrix): Promise<DetectionScores> {
      seen.calls++;
      seen.rows += m.rows;
      const score = new Float64Array(m.rows);
      for (let r = 0; r < m.rows; r++) score[r] = f(m.data.slice(r * m.width, (r + 1) * m.width));
      return { rows: m.rows, score, label: new Uint8Array(m.rows), classIndex: new Int32Array(m.rows), detectedBy: new Uint8Array(m.rows), attackProbability: new Float64Array(0), forestScore: new Float64Array(0) };
    },
  };
}

/** The values of every row of `rows` (a list of rows of one width) against `reference`. */
async function valuesOf(f: RowScore, reference: number[], rows: number[][]): Promise<Float64Array[]> {
  const w = reference.length;
  const matrix = { data: Float64Array.from(rows.flat()), rows: rows.length, width: w };
  const ref = Float64Array.from(reference);
  return shapleyValues(scorerOf(f), ref, f(ref), matrix, rows.map((_, i) => i), (r) => f(matrix.data.slice(r * w, (r + 1) * w)));
}

const sum = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0);

describe('Shapley values against a reference row', () => {
  it('gives an additive score each feature’s own effect, exactly', async () => {
    const a = [0.5, -2, 3, 0.25];
    const f: RowScore = (x) => sum(Array.from(x, (v, i) => a[i]! * v));
    const [v] = await valuesOf(f, [1, 1, 1, 1], [[3, 0, 1, 5]]);
    expect(Array.from(v!)).toEqual([1, 2, 0, 1]);
  });

  it('shares an effect that either of two features alone would keep: half each, where putting back one alone changes nothing', async () => {
    const f: RowScore = (x) => (x[0]! > 0 || x[1]! > 0 ? 1 : 0);
    const [v] = await valuesOf(f, [0, 0, 0], [[1, 1, 0]]);
    expect(Array.from(v!)).toEqual([0.5, 0.5, 0]);
    // Occlusion's view of the same row: putting either back leaves the score at 1.
    expect(f(Float64Array.of(0, 1, 0))).toBe(1);
    expect(f(Float64Array.of(1, 0, 0))).toBe(1);
  });

  it('is exact for two features, whatever the score', async () => {
    const f: RowScore = (x) => Math.sin(x[0]! * 1.3) + x[0]! * x[1]! * x[1]! + Math.exp(-x[1]!);
    const [x, r] = [[0.7, 2.1], [-0.4, 0.3]];
    const v = (S: number[]): number => f(Float64Array.from(r.map((ri, i) => (S.includes(i) ? x[i]! : ri))));
    const exact0 = ((v([0]) - v([])) + (v([0, 1]) - v([1]))) / 2;
    const exact1 = ((v([1]) - v([])) + (v([0, 1]) - v([0]))) / 2;
    const [got] = await valuesOf(f, r, [x]);
    expect(got![0]).toBeCloseTo(exact0, 12);
    expect(got![1]).toBeCloseTo(exact1, 12);
  });

  it('scores ORDERINGS walks of d − 1 rows for d features away from the reference, and nothing for a row at the reference', async () => {
    const s = scorerOf((x) => x[0]! * x[1]! + x[2]!);
    const reference = Float64Array.of(0, 0, 0, 0);
    const matrix = { data: Float64Array.of(1, 2, 3, 0, 0, 0, 0, 0), rows: 2, width: 4 };
    const [a, b] = await shapleyValues(s, reference, 0, matrix, [0, 1], (r) => (r === 0 ? 5 : 0));
    expect(s.seen).toEqual({ rows: ORDERINGS * 2, calls: 1 });
    expect(sum(a!)).toBeCloseTo(5, 12);
    expect(Array.from(b!)).toEqual([0, 0, 0, 0]);
  });

  // A score with pairwise interactions over up to 7 features, and rows that differ from the reference in some of them.
  const models = fc.record({
    w: fc.integer({ min: 1, max: 7 }),
    seed: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 64, maxLength: 64 }),
  });
  prop.prop([models, fc.array(fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 7, maxLength: 7 }), { minLength: 1, maxLength: 6 })], { numRuns: 100 })(
    'add up to s(x) − s(r), give 0 to features at the reference, and do not depend on the batch',
    async ({ w, seed }, raw) => {
      const f: RowScore = (x) => {
        let s = 0;
        for (let i = 0; i < w; i++) {
          s += seed[i]! * x[i]!;
          for (let j = i + 1; j < w; j++) s += seed[8 + i * 7 + j]! * Math.tanh(x[i]! * x[j]!);
        }
        return s;
      };
      const reference = Array.from({ length: w }, (_, i) => (i % 2 === 0 ? 0 : 1));
      const rows = raw.map((r) => r.slice(0, w));
      const all = await valuesOf(f, reference, rows);
      const reversed = await valuesOf(f, reference, rows.toReversed());
      rows.forEach((row, i) => {
        const v = all[i]!;
        expect(sum(v)).toBeCloseTo(f(Float64Array.from(row)) - f(Float64Array.from(reference)), 9);
        row.forEach((x, k) => x === reference[k] && expect(v[k]).toBe(0));
        expect(Array.from(reversed[rows.length - 1 - i]!)).toEqual(Array.from(v));
      });
    },
  );

  it('gives the same values when the rows need several score calls', async () => {
    const f: RowScore = (x) => Math.tanh(x[0]! * x[1]!) + x[2]! * x[3]! - x[4]! * x[5]! * x[6]! + x[7]!;
    const w = 8;
    const rows = Array.from({ length: 700 }, (_, i) => Array.from({ length: w }, (_, k) => ((i * 7 + k * 3) % 5) + 1));
    const s = scorerOf(f);
    const matrix = { data: Float64Array.from(rows.flat()), rows: rows.length, width: w };
    const reference = new Float64Array(w);
    const values = await shapleyValues(s, reference, f(reference), matrix, rows.map((_, i) => i), (r) => f(matrix.data.slice(r * w, (r + 1) * w)));
    expect(s.seen.rows).toBe(700 * ORDERINGS * (w - 1));
    expect(s.seen.calls).toBeGreaterThan(1);
    for (const i of [0, 349, 699]) expect(Array.from(values[i]!)).toEqual(Array.from((await valuesOf(f, Array.from(reference), [rows[i]!]))[0]!));
    expect(MAX_SCORED_ROWS).toBeLessThan(700 * ORDERINGS * (w - 1));
  });
});
