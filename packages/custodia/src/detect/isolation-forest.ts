/**
 * Liu, Ting, Zhou, "Isolation Forest", ICDM 2008: anomalies are few and different, so
 * random axis-parallel splits isolate them in fewer steps than normal points. This file
 * scores; train-isolation-forest.ts grows the trees.
 *
 * - Path length (Algorithm 3): the edges from the root to the external node a row
 *   reaches, plus c(size) for the points that node still holds (average-path-length.ts).
 * - Score (§2, eq. 2): s(x, ψ) = 2^(−E[h(x)] / c(ψ)), in (0, 1); near 1 is anomalous,
 *   well below 0.5 is normal.
 *
 * Layout for speed: all trees live in one set of flat typed arrays, children by absolute
 * index. Each external node points to itself and carries its path value (depth +
 * c(size)), so every walk is exactly l = ceil(log2 ψ) steps of
 * `node = child[2·node + (x[feature[node]] ≥ split[node])]`: no loop exit to predict and
 * no branch on the comparison. scoreBatch walks four rows down the same tree at once,
 * four independent chains of loads the processor overlaps. Scores are identical to the
 * plain recursive definition (the same sums, in the same order).
 */
import { CustodiaError } from '../kernel/index.js';
import { averagePathLength } from './average-path-length.js';
import { checkIsolationTree } from './isolation-tree-check.js';
import type { IsolationTreeArrays } from './isolation-tree.js';

/** What a forest was trained with: kept in the model file. */
export interface IsolationForestParams {
  /** Columns of the rows it scores. */
  readonly width: number;
  readonly subsampleSize: number;
  readonly heightLimit: number;
}

export const FOREST_LIMITS = Object.freeze({ trees: 10_000, subsampleSize: 65_536, width: 4096 });

/**
 * l = ceil(log2 ψ): "the average tree height" at which the paper stops growing.
 *
 * @example
 *   heightLimit(256); // 8
 */
export function heightLimit(subsampleSize: number): number {
  return Math.ceil(Math.log2(subsampleSize));
}

export class IsolationForest {
  readonly params: IsolationForestParams;
  /** The trees as grown (node indexes local to each tree): what a model file stores. */
  readonly trees: readonly IsolationTreeArrays[];
  /** c(ψ): the normaliser of the score. */
  readonly normaliser: number;
  readonly #root: Int32Array;
  /** Split column; 0 for an external node (whose children are itself). */
  readonly #feature: Int32Array;
  readonly #split: Float64Array;
  /** Children of node n at 2n (x < split) and 2n + 1 (x ≥ split). */
  readonly #child: Int32Array;
  /** depth + c(size) of an external node; 0 for an internal one. */
  readonly #leaf: Float64Array;

  /**
   * A forest from its trees. Every tree is checked first (isolation-tree-check.ts), so
   * trees read from a file can never send scoring out of bounds or into a cycle.
   */
  constructor(params: IsolationForestParams, trees: readonly IsolationTreeArrays[]) {
    const { width, subsampleSize } = params;
    if (!Number.isSafeInteger(width) || width < 1 || width > FOREST_LIMITS.width) throw new CustodiaError('model-invalid', 'The row width is out of range');
    if (!Number.isSafeInteger(subsampleSize) || subsampleSize < 2 || subsampleSize > FOREST_LIMITS.subsampleSize) throw new CustodiaError('model-invalid', 'The subsample size is out of range');
    if (params.heightLimit !== heightLimit(subsampleSize)) throw new CustodiaError('model-invalid', 'The height limit is not ceil(log2 ψ)');
    if (trees.length < 1 || trees.length > FOREST_LIMITS.trees) throw new CustodiaError('model-invalid', `A forest has 1 to ${FOREST_LIMITS.trees} trees`);
    this.params = Object.freeze({ width, subsampleSize, heightLimit: params.heightLimit });
    this.trees = Object.freeze([...trees]);
    this.normaliser = averagePathLength(subsampleSize);

    const depths = trees.map((tree, t) => checkIsolationTree(tree, t, this.params));
    const total = trees.reduce((n, t) => n + t.feature.length, 0);
    this.#root = new Int32Array(trees.length);
    this.#feature = new Int32Array(total);
    this.#split = new Float64Array(total);
    this.#child = new Int32Array(2 * total);
    this.#leaf = new Float64Array(total);
    let base = 0;
    trees.forEach((tree, t) => {
      this.#root[t] = base;
      for (let i = 0; i < tree.feature.length; i++) {
        const node = base + i;
        const f = tree.feature[i]!;
        if (f < 0) {
          this.#child[2 * node] = node;
          this.#child[2 * node + 1] = node;
          this.#leaf[node] = depths[t]![i]! + averagePathLength(tree.size[i]!);
        } else {
          this.#feature[node] = f;
          this.#split[node] = tree.split[i]!;
          this.#child[2 * node] = base + tree.left[i]!;
          this.#child[2 * node + 1] = base + tree.right[i]!;
        }
      }
      base += tree.feature.length;
    });
  }

  /**
   * E[h(x)]: the mean path length of the row at `offset` in `rows` over all trees.
   *
   * @example
   *   forest.pathLength(row); // about log2 ψ for a typical point, less for an outlier
   */
  pathLength(rows: ArrayLike<number>, offset = 0): number {
    this.#checkRow(rows.length, offset);
    return this.#pathSum(rows, offset) / this.#root.length;
  }

  /**
   * s(x, ψ) = 2^(−E[h(x)] / c(ψ)), in (0, 1): higher is more anomalous. Equal, to the
   * bit, to the same row's score from {@link scoreBatch}.
   *
   * @example
   *   forest.score(encoder.encode(record)); // 0.38 for an ordinary flow, 0.7+ for an odd one
   */
  score(rows: ArrayLike<number>, offset = 0): number {
    this.#checkRow(rows.length, offset);
    return 2 ** (this.#pathSum(rows, offset) * this.#scale());
  }

  /**
   * The scores of every row of a row-major matrix, `width` columns each (default: the
   * forest's); columns past the forest's width are ignored. Rows must not hold NaN (the
   * encoder never writes one): a NaN compares as "less than" every split.
   *
   * @example
   *   const scores = forest.scoreBatch(matrix.data, matrix.width);
   */
  scoreBatch(rows: Float64Array | Float32Array, width = this.params.width, out = new Float64Array(width > 0 ? Math.floor(rows.length / width) : 0)): Float64Array {
    if (!Number.isSafeInteger(width) || width < this.params.width || rows.length % width !== 0) throw new RangeError(`rows must be a whole number of rows of at least ${this.params.width} columns`);
    const n = rows.length / width;
    if (out.length < n) throw new RangeError('out is too short');
    const scale = this.#scale();
    const root = this.#root;
    const feature = this.#feature;
    const split = this.#split;
    const child = this.#child;
    const leaf = this.#leaf;
    const trees = root.length;
    const steps = this.params.heightLimit;
    let r = 0;
    for (; r + 4 <= n; r += 4) {
      const o0 = r * width;
      const o1 = o0 + width;
      const o2 = o1 + width;
      const o3 = o2 + width;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = 0; t < trees; t++) {
        let a = root[t]!;
        let b = a;
        let c = a;
        let d = a;
        for (let k = 0; k < steps; k++) {
          a = child[2 * a + +(rows[o0 + feature[a]!]! >= split[a]!)]!;
          b = child[2 * b + +(rows[o1 + feature[b]!]! >= split[b]!)]!;
          c = child[2 * c + +(rows[o2 + feature[c]!]! >= split[c]!)]!;
          d = child[2 * d + +(rows[o3 + feature[d]!]! >= split[d]!)]!;
        }
        s0 += leaf[a]!;
        s1 += leaf[b]!;
        s2 += leaf[c]!;
        s3 += leaf[d]!;
      }
      out[r] = 2 ** (s0 * scale);
      out[r + 1] = 2 ** (s1 * scale);
      out[r + 2] = 2 ** (s2 * scale);
      out[r + 3] = 2 ** (s3 * scale);
    }
    for (; r < n; r++) out[r] = 2 ** (this.#pathSum(rows, r * width) * scale);
    return out;
  }

  /** −1 / (t · c(ψ)): turns a sum of path lengths into the exponent of the score. */
  #scale(): number {
    return -1 / (this.#root.length * this.normaliser);
  }

  #checkRow(length: number, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + this.params.width > length) throw new RangeError(`a row has ${this.params.width} columns`);
  }

  /** Σ over trees of h(x) for one row, in tree order (as scoreBatch sums). */
  #pathSum(rows: ArrayLike<number>, offset: number): number {
    const root = this.#root;
    const feature = this.#feature;
    const split = this.#split;
    const child = this.#child;
    const leaf = this.#leaf;
    const steps = this.params.heightLimit;
    const trees = root.length;
    let sum = 0;
    let t = 0;
    // Four trees at once: four independent chains of loads in flight. The sum is still
    // taken tree by tree, in order, so it equals scoreBatch's to the bit.
    for (; t + 4 <= trees; t += 4) {
      let a = root[t]!;
      let b = root[t + 1]!;
      let c = root[t + 2]!;
      let d = root[t + 3]!;
      for (let k = 0; k < steps; k++) {
        a = child[2 * a + +(rows[offset + feature[a]!]! >= split[a]!)]!;
        b = child[2 * b + +(rows[offset + feature[b]!]! >= split[b]!)]!;
        c = child[2 * c + +(rows[offset + feature[c]!]! >= split[c]!)]!;
        d = child[2 * d + +(rows[offset + feature[d]!]! >= split[d]!)]!;
      }
      sum += leaf[a]!;
      sum += leaf[b]!;
      sum += leaf[c]!;
      sum += leaf[d]!;
    }
    for (; t < trees; t++) {
      let node = root[t]!;
      for (let k = 0; k < steps; k++) node = child[2 * node + +(rows[offset + feature[node]!]! >= split[node]!)]!;
      sum += leaf[node]!;
    }
    return sum;
  }
}
