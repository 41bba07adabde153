/**
 * ROC AUC as the Mann–Whitney statistic: known values, the pairwise definition with ties
 * counting one half, and its symmetries.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/detect/index.js';
import { runs } from '../ledger/seeded.js';

/** P(score of a positive > score of a negative) + ½ P(tie), over all pairs. */
function pairwiseAuc(scores: readonly number[], positive: readonly boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (!positive[i]) return;
    scores.forEach((q, j) => {
      if (positive[j]) return;
      pairs += 1;
      wins += p > q ? 1 : p === q ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

const labelled = fc
  .array(fc.record({ score: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: -1, max: 1, noNaN: true })), positive: fc.boolean() }), { minLength: 2, maxLength: 80 })
  .filter((xs) => xs.some((x) => x.positive) && xs.some((x) => !x.positive));

describe('rocAuc', () => {
  it('has the known values', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([1, 2, 3, 4], [false, false, true, true])).toBe(1);
    expect(rocAuc([1, 2, 3, 4], [true, true, false, false])).toBe(0);
    expect(rocAuc([5, 5, 5, 5], [true, false, true, false])).toBe(0.5);
  });

  test.prop([labelled], runs(200))('equals the pairwise definition, ties counting one half', (xs) => {
    const scores = xs.map((x) => x.score);
    const positive = xs.map((x) => x.positive);
    expect(rocAuc(scores, positive)).toBeCloseTo(pairwiseAuc(scores, positive), 12);
  });

  test.prop([labelled], runs(100))('is 1 − AUC for negated scores, and unchanged by a monotone transform', (xs) => {
    const scores = xs.map((x) => x.score);
    const positive = xs.map((x) => x.positive);
    const auc = rocAuc(scores, positive);
    expect(rocAuc(scores.map((s) => -s), positive)).toBeCloseTo(1 - auc, 12);
    expect(rocAuc(scores.map((s) => s * 4), positive)).toBeCloseTo(auc, 12); // a power of two: exact, so no new ties
  });

  it('refuses NaN scores, a missing class and mismatched lengths', () => {
    expect(() => rocAuc([0, Number.NaN], [true, false])).toThrow(RangeError);
    expect(() => rocAuc([0, 1], [true, true])).toThrow(RangeError);
    expect(() => rocAuc([0, 1], [true])).toThrow(RangeError);
  });
});
