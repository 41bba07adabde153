/**
 * The trees of a model packed into flat typed arrays for scoring, and the scoring loop.
 *
 * Layout: every node of every tree is a record of four int32 (`[slot, left, right, 0]`)
 * plus a float64 threshold; a leaf's children are itself and its value is in `value`.
 * Each tree is walked for exactly its depth in steps of
 *
 *   n = node[4n + 1 + (x[slot] > threshold)]
 *
 * with no branch to mispredict: a row that reaches a leaf early stays there. Eight rows
 * walk the same tree side by side, so the CPU overlaps their eight independent chains of
 * loads (the interleaving of Asadi et al., "Runtime optimizations for tree-based machine
 * learning models", IEEE TKDE 2014, and of Treelite's and QuickScorer's evaluation).
 *
 * Missing values cost no extra test: each row is copied once into two halves, NaN
 * becoming −∞ in the first and +∞ in the second. A node whose missing values go left
 * reads the first half (−∞ is never above a threshold), one whose missing values go right
 * reads the second (+∞ always is). Thresholds are finite, so real infinities are still
 * compared as values, exactly as `x <= threshold` on the raw row would.
 */
import type { DenseMatrix } from './gbdt-matrix.js';
import type { GbdtTree } from './gbdt-tree.js';
import { treeDepth } from './gbdt-tree.js';

export interface PackedForest {
  /** Features per row. */
  readonly width: number;
  /** Four int32 per node: slot (feature, + width if missing goes right), left, right, unused. */
  readonly node: Int32Array;
  readonly threshold: Float64Array;
  /** Leaf values (0 at inner nodes). */
  readonly value: Float64Array;
  /** Per tree: its root node, its depth, and the raw-score output it adds to. */
  readonly roots: Int32Array;
  readonly depth: Int32Array;
  readonly output: Int32Array;
}

/** Packs `trees` of rows `width` wide; tree `t` adds to output `t % outputs`. */
export function packForest(trees: readonly GbdtTree[], outputs: number, width: number): PackedForest {
  const total = trees.reduce((n, t) => n + t.feature.length, 0);
  const node = new Int32Array(4 * total);
  const threshold = new Float64Array(total);
  const value = new Float64Array(total);
  const roots = new Int32Array(trees.length);
  const depth = new Int32Array(trees.length);
  const output = new Int32Array(trees.length);
  let base = 0;
  trees.forEach((t, i) => {
    roots[i] = base;
    depth[i] = treeDepth(t);
    output[i] = i % outputs;
    for (let n = 0; n < t.feature.length; n++) {
      const g = base + n;
      if (t.feature[n]! < 0) {
        node[4 * g + 1] = g;
        node[4 * g + 2] = g;
        value[g] = t.value[n]!;
      } else {
        node[4 * g] = t.feature[n]! + (t.defaultLeft[n] === 1 ? 0 : width);
        node[4 * g + 1] = base + t.left[n]!;
        node[4 * g + 2] = base + t.right[n]!;
        threshold[g] = t.threshold[n]!;
      }
    }
    base += t.feature.length;
  });
  return Object.freeze({ width, node, threshold, value, roots, depth, output });
}

/** Copies row `r` of `data` into `block` at `at`: NaN → −∞ in the first half, +∞ in the second. */
function copyRow(data: Float64Array | Float32Array, r: number, width: number, block: Float64Array, at: number): void {
  for (let f = 0, o = r * width; f < width; f++) {
    const x = data[o + f]!;
    const missing = x !== x;
    block[at + f] = missing ? -Infinity : x;
    block[at + width + f] = missing ? Infinity : x;
  }
}

/**
 * Raw scores of every row of `m` into `out` (row-major, `initScore.length` per row),
 * starting from `initScore`.
 */
export function scoreRaw(forest: PackedForest, initScore: Float64Array, m: DenseMatrix, out: Float64Array): void {
  const k = initScore.length;
  const { node, threshold, value, roots, depth, output } = forest;
  const data = m.data;
  const w = m.features;
  const w2 = 2 * w;
  const trees = roots.length;
  const block = new Float64Array(8 * w2);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < k; c++) out[r * k + c] = initScore[c]!;

  let r = 0;
  for (; r + 8 <= m.rows; r += 8) {
    for (let j = 0; j < 8; j++) copyRow(data, r + j, w, block, j * w2);
    const b1 = w2, b2 = 2 * w2, b3 = 3 * w2, b4 = 4 * w2, b5 = 5 * w2, b6 = 6 * w2, b7 = 7 * w2;
    for (let t = 0; t < trees; t++) {
      const root = roots[t]!;
      let n0 = root, n1 = root, n2 = root, n3 = root, n4 = root, n5 = root, n6 = root, n7 = root;
      for (let d = depth[t]!; d > 0; d--) {
        n0 = node[(n0 << 2) + 1 + +(block[node[n0 << 2]!]! > threshold[n0]!)]!;
        n1 = node[(n1 << 2) + 1 + +(block[b1 + node[n1 << 2]!]! > threshold[n1]!)]!;
        n2 = node[(n2 << 2) + 1 + +(block[b2 + node[n2 << 2]!]! > threshold[n2]!)]!;
        n3 = node[(n3 << 2) + 1 + +(block[b3 + node[n3 << 2]!]! > threshold[n3]!)]!;
        n4 = node[(n4 << 2) + 1 + +(block[b4 + node[n4 << 2]!]! > threshold[n4]!)]!;
        n5 = node[(n5 << 2) + 1 + +(block[b5 + node[n5 << 2]!]! > threshold[n5]!)]!;
        n6 = node[(n6 << 2) + 1 + +(block[b6 + node[n6 << 2]!]! > threshold[n6]!)]!;
        n7 = node[(n7 << 2) + 1 + +(block[b7 + node[n7 << 2]!]! > threshold[n7]!)]!;
      }
      const o = r * k + output[t]!;
      out[o]! += value[n0]!;
      out[o + k]! += value[n1]!;
      out[o + 2 * k]! += value[n2]!;
      out[o + 3 * k]! += value[n3]!;
      out[o + 4 * k]! += value[n4]!;
      out[o + 5 * k]! += value[n5]!;
      out[o + 6 * k]! += value[n6]!;
      out[o + 7 * k]! += value[n7]!;
    }
  }
  for (; r < m.rows; r++) {
    copyRow(data, r, w, block, 0);
    for (let t = 0; t < trees; t++) {
      let n = roots[t]!;
      for (let d = depth[t]!; d > 0; d--) n = node[(n << 2) + 1 + +(block[node[n << 2]!]! > threshold[n]!)]!;
      out[r * k + output[t]!]! += value[n]!;
    }
  }
}
