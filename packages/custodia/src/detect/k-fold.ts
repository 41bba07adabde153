/**
 * Stratified k-fold assignment for cross-validation (Kohavi, "A Study of
 * Cross-Validation and Bootstrap for Accuracy Estimation and Model Selection", IJCAI
 * 1995: stratification lowers the variance of the estimate). Rows of each stratum are
 * shuffled and dealt to the folds in turn, so every fold holds about 1/k of every
 * stratum, rare attack types included. Deterministic for a given `Random`.
 */
import type { Random } from '../kernel/index.js';
import { UniformRandom } from './uniform-random.js';

/**
 * The fold (0 … k−1) of each row, stratified by `strata` (a class or attack type per row).
 *
 * @example
 *   const fold = assignFolds(labels.map((l) => l.type), 5, seededRandom('cv'));
 *   const test = rows.filter((_, i) => fold[i] === 0);
 */
export function assignFolds(strata: readonly (string | number)[], k: number, random: Random): Int32Array {
  if (!Number.isSafeInteger(k) || k < 2) throw new RangeError('k must be an integer ≥ 2');
  const rng = new UniformRandom(random);
  const groups = new Map<string | number, number[]>();
  strata.forEach((s, i) => {
    const g = groups.get(s);
    if (g === undefined) groups.set(s, [i]);
    else g.push(i);
  });
  const fold = new Int32Array(strata.length);
  // Each stratum starts where the previous one stopped, so small strata do not all
  // land in fold 0.
  let next = 0;
  for (const rows of groups.values()) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      const v = rows[i]!;
      rows[i] = rows[j]!;
      rows[j] = v;
    }
    for (const r of rows) {
      fold[r] = next;
      next = (next + 1) % k;
    }
  }
  return fold;
}
