/**
 * Liu, Ting, Zhou, "Isolation Forest", ICDM 2008, Algorithm 1 (iForest): t trees, each
 * grown (isolation-tree.ts) on a subsample of ψ rows drawn without replacement, to the
 * height limit l = ceil(log2 ψ). Defaults are the paper's: t = 100, ψ = 256 (§4: "path
 * lengths usually converge well before t = 100"; ψ = 256 "is enough to perform anomaly
 * detection across a wide range of data"). Deterministic for a given `Random`: seed it
 * with the kernel's `seededRandom`.
 */
import type { Random } from '../kernel/index.js';
import type { FeatureMatrix } from './feature-encoder.js';
import { FOREST_LIMITS, heightLimit, IsolationForest } from './isolation-forest.js';
import { growIsolationTree, type IsolationTreeArrays } from './isolation-tree.js';
import { UniformRandom } from './uniform-random.js';

export interface IsolationForestOptions {
  /** The number of trees t (default 100). */
  readonly trees?: number;
  /** The subsample size ψ (default 256); capped at the number of rows. */
  readonly subsampleSize?: number;
  /** The source of randomness; the same seed grows the same forest. */
  readonly random: Random;
}

function resolveOptions(options: IsolationForestOptions, rows: number): { trees: number; subsampleSize: number } {
  const trees = options.trees ?? 100;
  const wanted = options.subsampleSize ?? 256;
  if (!Number.isSafeInteger(trees) || trees < 1 || trees > FOREST_LIMITS.trees) throw new RangeError(`trees must be an integer in [1, ${FOREST_LIMITS.trees}]`);
  if (!Number.isSafeInteger(wanted) || wanted < 2 || wanted > FOREST_LIMITS.subsampleSize) throw new RangeError(`subsampleSize must be an integer in [2, ${FOREST_LIMITS.subsampleSize}]`);
  if (rows < 2) throw new RangeError('an isolation forest needs at least 2 rows');
  return { trees, subsampleSize: Math.min(wanted, rows) };
}

/**
 * Grows a forest on the rows of `matrix` (for unsupervised training on labelled data,
 * pass only the rows labelled normal).
 *
 * @example
 *   const forest = trainIsolationForest(encoder.encodeAll(normalRecords), { random: seededRandom(42) });
 *   forest.score(encoder.encode(flow));
 */
export function trainIsolationForest(matrix: FeatureMatrix, options: IsolationForestOptions): IsolationForest {
  const { data, rows, width } = matrix;
  if (!Number.isSafeInteger(width) || width < 1 || width > FOREST_LIMITS.width || data.length !== rows * width) throw new RangeError('the matrix is not rows × width');
  const { trees, subsampleSize } = resolveOptions(options, rows);
  const limit = heightLimit(subsampleSize);
  const rng = new UniformRandom(options.random);
  // A permutation of the row indexes, partially reshuffled per tree: the first ψ entries
  // after a partial Fisher–Yates are a uniform sample without replacement whatever
  // order the permutation was left in.
  const perm = Int32Array.from({ length: rows }, (_, i) => i);
  const grown: IsolationTreeArrays[] = [];
  for (let t = 0; t < trees; t++) {
    for (let k = 0; k < subsampleSize; k++) {
      const j = k + rng.below(rows - k);
      const v = perm[j]!;
      perm[j] = perm[k]!;
      perm[k] = v;
    }
    grown.push(growIsolationTree(data, width, perm.slice(0, subsampleSize), limit, rng));
  }
  return new IsolationForest({ width, subsampleSize, heightLimit: limit }, grown);
}
