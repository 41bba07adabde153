/** Uniform numbers from the kernel's byte source: in range, reproducible, unbiased enough to see. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { UniformRandom } from '../../src/detect/index.js';
import { seededRandom } from '../../src/kernel/index.js';
import { runs } from '../ledger/seeded.js';

describe('UniformRandom', () => {
  test.prop([fc.string({ maxLength: 10 }), fc.integer({ min: 1, max: 2 ** 32 })], runs(100))('draws the same numbers from the same seed, inside their ranges', (seed, bound) => {
    const a = new UniformRandom(seededRandom(seed));
    const b = new UniformRandom(seededRandom(seed));
    for (let i = 0; i < 50; i++) {
      const u = a.next();
      expect(u).toBe(b.next());
      expect(u >= 0 && u < 1).toBe(true);
      const k = a.below(bound);
      expect(k).toBe(b.below(bound));
      expect(Number.isInteger(k) && k >= 0 && k < bound).toBe(true);
      expect(a.nextOpen()).toBeGreaterThan(0);
      b.nextOpen();
    }
  });

  it('spreads integers evenly (χ² over 10 bins, 100,000 draws, well below the 0.001 critical value 27.9)', () => {
    const rng = new UniformRandom(seededRandom('chi'));
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) bins[rng.below(10)]! += 1;
    const chi2 = bins.reduce((s, o) => s + (o - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(27.9);
  });

  it('refuses bounds that are not integers in [1, 2^32]', () => {
    const rng = new UniformRandom(seededRandom(0));
    for (const bad of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) expect(() => rng.below(bad)).toThrow(RangeError);
  });
});
