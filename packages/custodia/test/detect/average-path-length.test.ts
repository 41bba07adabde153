/**
 * c(n) of Liu, Ting, Zhou 2008 (eq. 1) against known values, the summed harmonic numbers
 * and the paper's ln(i) + γ estimate.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { averagePathLength, EULER_GAMMA, harmonic } from '../../src/detect/index.js';
import { runs } from '../ledger/seeded.js';

function summedHarmonic(i: number): number {
  let h = 0;
  for (let k = 1; k <= i; k++) h += 1 / k;
  return h;
}

describe('averagePathLength c(n)', () => {
  it('has the known values', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1); // 2·H(1) − 2·1/2
    expect(averagePathLength(3)).toBeCloseTo(5 / 3, 14); // 2·(1 + 1/2) − 2·2/3
    expect(averagePathLength(256)).toBeGreaterThan(10.24);
    expect(averagePathLength(256)).toBeLessThan(10.25);
    expect(averagePathLength(256)).toBeCloseTo(2 * summedHarmonic(255) - (2 * 255) / 256, 12);
  });

  it('is within 1/(n−1) of the paper estimate 2(ln(n−1) + γ) − 2(n−1)/n', () => {
    for (const n of [3, 10, 64, 65, 256, 1000, 1e6]) {
      const paper = 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
      expect(Math.abs(averagePathLength(n) - paper)).toBeLessThan(1 / (n - 1));
    }
  });

  test.prop([fc.integer({ min: 1, max: 5000 })], runs(200))('uses harmonic numbers equal to their sum', (i) => {
    expect(harmonic(i)).toBeCloseTo(summedHarmonic(i), 12);
  });

  test.prop([fc.integer({ min: 1, max: 100_000 })], runs(200))('grows with n', (n) => {
    expect(averagePathLength(n + 1)).toBeGreaterThan(averagePathLength(n));
  });
});
