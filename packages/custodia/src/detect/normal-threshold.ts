/**
 * Thresholds set on normal traffic only. An unsupervised score has no natural cut: the
 * forest's s(x) runs from about 0.35 for ordinary rows to 0.7+ for odd ones, and where
 * "odd" starts depends on the data. So the cut is a false-positive budget: the
 * q-quantile of the scores of normal rows the model did not train on (q = 0.99 lets
 * about 1% of normal rows alert). Attacks play no part in it, which is the point: the
 * threshold must hold for attack types nobody has seen yet.
 *
 * The same holds for the hybrid's trees: their probability of an attack has a natural cut
 * (0.5) for the attacks they were shown, but an attack of a kind they never saw tends to
 * get a small probability, above what normal traffic gets yet below 0.5. Their cut is
 * therefore also a false-positive budget: a quantile of the probabilities of normal rows
 * they did not fit (train-detector.ts), never above 0.5.
 *
 * The hybrid's score puts each part on one scale with a monotone piecewise-linear map that
 * sends the part's threshold to 0.5:
 *
 *     level(s) = 0.5 · s / τ                     for s ≤ τ
 *              = 0.5 + 0.5 · (s − τ) / (1 − τ)   for s > τ
 *
 * so `level(s) > 0.5` exactly when `s > τ`, and the order of each part's scores is kept.
 */

/**
 * The cut that keeps a false-positive budget 1 − q on fresh normal rows, set on `scores`:
 * the scores of n normal rows the model did not train on. It is the order statistic at
 * rank k = ⌈q·(n + 1)⌉, as split conformal prediction takes it (V. Vovk, A. Gammerman,
 * G. Shafer, "Algorithmic Learning in a Random World", 2005; J. Lei et al., "Distribution-
 * free predictive inference for regression", JASA 113, 2018, §2.2): if a fresh normal row
 * and these are exchangeable, it scores above the k-th smallest with probability at most
 * (n + 1 − k)/(n + 1) ≤ 1 − q. The plain empirical quantile, rank ⌈q·n⌉, promises that
 * only of the rows themselves, and runs over budget when n is small.
 *
 * With fewer than {@link calibrationRowsFor}(q) rows, k > n and no cut set on them keeps
 * the budget: the largest score is taken, which a fresh normal row passes with
 * probability 1/(n + 1). Callers report that (the CLI says so when it trains).
 *
 * @example
 *   normalQuantile(Float64Array.of(0.3, 0.4, 0.5, 0.9), 0.6); // 0.5: rank ⌈0.6 · 5⌉ = 3
 */
export function normalQuantile(scores: ArrayLike<number>, q: number): number {
  if (!(q > 0 && q < 1)) throw new RangeError('q must be in (0, 1)');
  if (scores.length === 0) throw new RangeError('a quantile needs at least one score');
  const sorted = Float64Array.from(scores).sort();
  if (Number.isNaN(sorted[sorted.length - 1]!)) throw new RangeError('a score is NaN');
  return sorted[Math.min(sorted.length, conformalRank(sorted.length, q)) - 1]!;
}

/** ⌈q·(n + 1)⌉, where a product that should be a whole number is not pushed up by rounding (0.995 · 200 = 199.00000000000003). */
function conformalRank(n: number, q: number): number {
  return Math.ceil(q * (n + 1) - 1e-9);
}

/**
 * The fewest normal rows a cut at the q quantile must be set on to keep its budget
 * (normalQuantile): the least n with ⌈q·(n + 1)⌉ ≤ n, about q/(1 − q) — 99 for q = 0.99,
 * 199 for 0.995.
 */
export function calibrationRowsFor(q: number): number {
  if (!(q > 0 && q < 1)) throw new RangeError('q must be in (0, 1)');
  let n = Math.max(1, Math.floor(q / (1 - q)) - 2);
  while (conformalRank(n, q) > n) n++;
  return n;
}

/**
 * A score `s` in [0, 1] (the forest's s(x), the trees' attack probability) on the hybrid's
 * scale, where the part's threshold `tau` (in (0, 1]) lands at 0.5.
 *
 * @example
 *   thresholdLevel(0.6, 0.6); // 0.5
 */
export function thresholdLevel(s: number, tau: number): number {
  // Divided first: s / tau ≤ 1 then, and halving it cannot round above 0.5 (halving s first
  // can, where s is subnormal).
  if (s <= tau) return 0.5 * (s / tau);
  // Above the threshold the level is above 0.5 even where the formula rounds to 0.5 (s a
  // hair above tau, or a tiny tau): a row is an attack exactly when its score is above 0.5.
  return tau >= 1 ? 1 : Math.min(1, Math.max(ABOVE_HALF, 0.5 + (0.5 * (s - tau)) / (1 - tau)));
}

/** The least double above 0.5 (doubles in [0.5, 1) are 2⁻⁵³ apart). */
const ABOVE_HALF = 0.5 + 2 ** -53;
