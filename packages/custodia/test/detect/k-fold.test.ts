/** Stratified k-fold assignment: every row in one fold, every stratum spread evenly, reproducible. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { assignFolds } from '../../src/detect/index.js';
import { seededRandom } from '../../src/kernel/index.js';
import { runs } from '../ledger/seeded.js';

describe('assignFolds', () => {
  test.prop([fc.array(fc.constantFrom('normal', 'neptune', 'smurf', 'imap', 'spy'), { maxLength: 300 }), fc.integer({ min: 2, max: 10 })], runs(100))(
    'puts each stratum’s rows in the k folds as evenly as possible, the same way for the same seed',
    (strata, k) => {
      const fold = assignFolds(strata, k, seededRandom('folds'));
      expect(fold).toHaveLength(strata.length);
      for (const f of fold) expect(f >= 0 && f < k).toBe(true);
      for (const s of new Set(strata)) {
        const counts = Array.from({ length: k }, (_, f) => strata.filter((x, i) => x === s && fold[i] === f).length);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }
      expect(assignFolds(strata, k, seededRandom('folds'))).toEqual(fold);
    },
  );

  test.prop([fc.integer({ min: -3, max: 1 })], runs(5))('refuses k below 2', (k) => {
    expect(() => assignFolds(['a', 'b'], k, seededRandom(0))).toThrow(RangeError);
  });
});
