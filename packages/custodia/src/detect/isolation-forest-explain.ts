/**
 * Why the isolation forest found a row odd: which features isolated it. A simplified
 * local DIFFI (Carletti, Terzi, Susto, "Interpretable Anomaly Detection with DIFFI:
 * Depth-based Feature Importance of Isolation Forest", Eng. Appl. of AI 119, 2023): in
 * each tree, every split on the row's path credits its feature with 1 / h_t(x), the
 * row's path length in that tree (depth + c(size), as scored), so splits that isolate the
 * row quickly weigh most; credits are summed over the trees and normalised to shares that
 * add up to 1. (DIFFI proper also weights each split by how unevenly it divides the
 * in-bag points; the trees do not keep those counts per side in a form that would make
 * this cheaper, and the ranking is what an alert needs.)
 */
import { averagePathLength } from './average-path-length.js';
import type { IsolationForest } from './isolation-forest.js';

/**
 * Each feature's share of the row's isolation, `forest.params.width` numbers summing to 1.
 * Walks the trees as grown (not the packed arrays): meant for the few rows that alert.
 *
 * @example
 *   const share = forestContributions(forest, row);  // share[f] of feature f
 */
export function forestContributions(forest: IsolationForest, row: ArrayLike<number>, offset = 0): Float64Array {
  const width = forest.params.width;
  if (offset < 0 || offset + width > row.length) throw new RangeError(`a row has ${width} columns`);
  const credit = new Float64Array(width);
  const path: number[] = [];
  for (const tree of forest.trees) {
    path.length = 0;
    let n = 0;
    while (tree.feature[n]! >= 0) {
      const f = tree.feature[n]!;
      path.push(f);
      n = row[offset + f]! >= tree.split[n]! ? tree.right[n]! : tree.left[n]!;
    }
    const h = path.length + averagePathLength(tree.size[n]!);
    for (const f of path) credit[f]! += 1 / h;
  }
  const total = credit.reduce((a, b) => a + b, 0);
  if (total > 0) for (let f = 0; f < width; f++) credit[f]! /= total;
  return credit;
}
