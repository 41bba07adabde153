/**
 * The area under the ROC curve, computed as the Mann–Whitney statistic: the probability
 * that a randomly chosen positive scores higher than a randomly chosen negative, ties
 * counting one half (Hanley & McNeil, "The meaning and use of the area under a receiver
 * operating characteristic (ROC) curve", Radiology 143(1), 1982). With midranks for
 * tied scores this equals the trapezoidal area under the empirical ROC curve.
 *
 *     AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ · n₋),  R₊ = the sum of the positives' ranks.
 */

/**
 * AUC of `scores` (higher means "more positive") against `positive` labels.
 * O(n log n). Throws a RangeError when a score is NaN or a class is missing.
 *
 * @example
 *   rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]); // 0.75
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  if (positive.length !== n) throw new RangeError('scores and labels differ in length');
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i]!)) throw new RangeError('a score is NaN');
  order.sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    // The tied run [i, j) shares the mean of ranks i+1 … j.
    let j = i + 1;
    while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
    const midrank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (positive[order[k]!]) {
        positives += 1;
        rankSum += midrank;
      }
    }
    i = j;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('AUC needs at least one positive and one negative');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
