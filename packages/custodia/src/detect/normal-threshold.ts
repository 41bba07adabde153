/**
 * Thresholds set on normal traffic only. An unsupervised score has no natural cut: the
 * forest's s(x) runs from about 0.35 for ordinary rows to 0.7+ for odd ones, and where
 * "odd" starts depends on the data. So the cut is a false-positive budget: the
 * q-quantile of the scores of normal rows the model did not train on (q = 0.99 lets
 * about 1% of normal rows alert). Attacks play no part in it, which is the point: the
 * threshold must hold for attack types nobody has seen yet.
 *
 * The hybrid's score puts the forest on the scale of the supervised probability with a
 * monotone piecewise-linear map that sends the threshold to 0.5:
 *
 *     level(s) = 0.5 · s / τ                     for s ≤ τ
 *              = 0.5 + 0.5 · (s − τ) / (1 − τ)   for s > τ
 *
 * so `level(s) > 0.5` exactly when `s > τ`, and the order of forest scores is kept.
 */

/**
 * The q-quantile of `scores` as the order statistic at rank ⌈q·n⌉ (the smallest value
 * with at least a q share of the scores at or below it): at most a (1 − q) share of
 * `scores` lies strictly above it.
 *
 * @example
 *   normalQuantile(Float64Array.of(0.3, 0.4, 0.5, 0.9), 0.75); // 0.5
 */
export function normalQuantile(scores: ArrayLike<number>, q: number): number {
  if (!(q > 0 && q < 1)) throw new RangeError('q must be in (0, 1)');
  if (scores.length === 0) throw new RangeError('a quantile needs at least one score');
  const sorted = Float64Array.from(scores).sort();
  if (Number.isNaN(sorted[sorted.length - 1]!)) throw new RangeError('a score is NaN');
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * The forest score `s` in (0, 1) on the hybrid's scale, where its threshold `tau` lands at 0.5.
 *
 * @example
 *   forestLevel(0.6, 0.6); // 0.5
 */
export function forestLevel(s: number, tau: number): number {
  if (s <= tau) return (0.5 * s) / tau;
  return tau >= 1 ? 1 : Math.min(1, 0.5 + (0.5 * (s - tau)) / (1 - tau));
}
