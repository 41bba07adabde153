/**
 * Trees packed into flat typed arrays for scoring, and the scoring loop: the boosted trees'
 * (gbdt-model.ts, one value a leaf added to one output) and the random forest's
 * (random-forest.ts, a leaf's class shares added to every output).
 *
 * Layout: every node of every tree is a record of four int32 (`[slot, left, right, 0]`)
 * plus a float64 threshold; a leaf's children are itself and its `leafWidth` values are
 * in `value`. Each tree is walked for exactly its depth in steps of
 *
 *   n = node[4n + 1 + (x[slot] > threshold)]
 *
 * with no branch to mispredict: a row that reaches a leaf early stays there. Eight rows
 * walk the same tree side by side, so the CPU overlaps their eight independent chains of
 * loads (the interleaving of Asadi et al., "Runtime optimizations for tree-based machine
 * learning models", IEEE TKDE 2014, and of Treelite's and QuickScorer's evaluation).
 * Rows go in blocks of {@link BLOCK_ROWS}, tree after tree within a block, so a tree's
 * nodes come from memory once a block and then from the core's first-level cache.
 *
 * Missing values cost no extra test: each row is copied once into two halves, NaN
 * becoming −∞ in the first and +∞ in the second. A node whose missing values go left
 * reads the first half (−∞ is never above a threshold), one whose missing values go right
 * reads the second (+∞ always is). Thresholds are finite, so real infinities are still
 * compared as values, exactly as `x <= threshold` on the raw row would. A property test
 * holds the loop to the plain walk of each tree.
 *
 * Tried and not kept (2026-12-02, NSL-KDD, one process, alternating runs): thresholds as
 * ranks among their feature's thresholds and rows coded to match (one int32 record a
 * node) — no faster for the boosted trees, and the random forest a third slower for the
 * binary searches that code a row; stopping a group of eight once all have reached their
 * leaves — a tenth slower (one of eight rows nearly always goes deep).
 */
import type { DenseMatrix } from './gbdt-matrix.js';
import type { GbdtTree } from './gbdt-tree.js';
import { treeDepth } from './gbdt-tree.js';

export interface PackedTrees {
  /** Features per row. */
  readonly width: number;
  /** Four int32 per node: slot (feature, + width if missing goes right), left, right, unused. */
  readonly node: Int32Array;
  readonly threshold: Float64Array;
  /** Values a leaf adds to a row's outputs. */
  readonly leafWidth: number;
  /** `leafWidth` values per node (0 at inner nodes). */
  readonly value: Float64Array;
  /** Per tree: its root node, its depth, and the first output its leaves add to. */
  readonly roots: Int32Array;
  readonly depth: Int32Array;
  readonly output: Int32Array;
}

/** What packing reads of a tree: its links, and per node where a missing value goes and what a leaf adds. */
interface TreeShape {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
}

function packTrees<T extends TreeShape>(trees: readonly T[], width: number, leafWidth: number, output: (t: number) => number, missingLeft: (tree: T, n: number) => boolean, leaf: (t: number, n: number, into: Float64Array, at: number) => void): PackedTrees {
  const total = trees.reduce((n, t) => n + t.feature.length, 0);
  const node = new Int32Array(4 * total);
  const threshold = new Float64Array(total);
  const value = new Float64Array(total * leafWidth);
  const roots = new Int32Array(trees.length);
  const depth = new Int32Array(trees.length);
  const outputs = new Int32Array(trees.length);
  let base = 0;
  trees.forEach((t, i) => {
    roots[i] = base;
    depth[i] = treeDepth(t);
    outputs[i] = output(i);
    for (let n = 0; n < t.feature.length; n++) {
      const g = base + n;
      if (t.feature[n]! < 0) {
        node[4 * g + 1] = g;
        node[4 * g + 2] = g;
        leaf(i, n, value, g * leafWidth);
      } else {
        node[4 * g] = t.feature[n]! + (missingLeft(t, n) ? 0 : width);
        node[4 * g + 1] = base + t.left[n]!;
        node[4 * g + 2] = base + t.right[n]!;
        threshold[g] = t.threshold[n]!;
      }
    }
    base += t.feature.length;
  });
  return Object.freeze({ width, node, threshold, leafWidth, value, roots, depth, output: outputs });
}

/** Boosted trees on rows `width` wide: tree `t` adds its leaf's value to output `t % outputs`; missing values go to each node's learnt side. */
export function packForest(trees: readonly GbdtTree[], outputs: number, width: number): PackedTrees {
  return packTrees(trees, width, 1, (t) => t % outputs, (tree, n) => tree.defaultLeft[n] === 1, (t, n, into, at) => {
    into[at] = trees[t]!.value[n]!;
  });
}

/**
 * Classification trees on rows `width` wide: every leaf adds its `classes` values
 * (`leafValues[t]`, `classes` per node of tree `t`) to outputs 0 … classes − 1; missing
 * values go right.
 */
export function packClassTrees(trees: readonly TreeShape[], leafValues: readonly Float64Array[], classes: number, width: number): PackedTrees {
  return packTrees(trees, width, classes, () => 0, () => false, (t, n, into, at) => {
    into.set(leafValues[t]!.subarray(n * classes, (n + 1) * classes), at);
  });
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

/** Rows scored together, a multiple of 8: their copies (about 80 KB for NSL-KDD's 39 features) stay in the core's second-level cache. */
const BLOCK_ROWS = 128;

/** Adds leaf `n`'s `width` values to `out` at `o`. */
function addLeaf(out: Float64Array, o: number, value: Float64Array, n: number, width: number): void {
  for (let c = 0, at = n * width; c < width; c++) out[o + c]! += value[at + c]!;
}

/**
 * Adds every tree's leaf values to the rows of `m`: `out` is row-major, `outputs` a row,
 * and holds the starting values (the boosted trees' initial scores, the forest's zeros).
 * Each row's sums are taken tree after tree in order, so the result does not depend on
 * the blocking.
 */
export function scoreRaw(forest: PackedTrees, m: DenseMatrix, out: Float64Array, outputs: number): void {
  const k = outputs;
  const { node, threshold, value, roots, depth, output, leafWidth } = forest;
  const data = m.data;
  const w = m.features;
  if (w !== forest.width) throw new RangeError(`the trees take rows of ${forest.width} features`);
  const w2 = 2 * w;
  const trees = roots.length;
  const block = new Float64Array(BLOCK_ROWS * w2);
  for (let r0 = 0; r0 < m.rows; r0 += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, m.rows - r0);
    for (let j = 0; j < rows; j++) copyRow(data, r0 + j, w, block, j * w2);
    for (let t = 0; t < trees; t++) {
      const root = roots[t]!;
      const steps = depth[t]!;
      let o = r0 * k + output[t]!;
      let j = 0;
      for (; j + 8 <= rows; j += 8, o += 8 * k) {
        const b0 = j * w2, b1 = b0 + w2, b2 = b1 + w2, b3 = b2 + w2, b4 = b3 + w2, b5 = b4 + w2, b6 = b5 + w2, b7 = b6 + w2;
        let n0 = root, n1 = root, n2 = root, n3 = root, n4 = root, n5 = root, n6 = root, n7 = root;
        for (let d = steps; d > 0; d--) {
          n0 = node[(n0 << 2) + 1 + +(block[b0 + node[n0 << 2]!]! > threshold[n0]!)]!;
          n1 = node[(n1 << 2) + 1 + +(block[b1 + node[n1 << 2]!]! > threshold[n1]!)]!;
          n2 = node[(n2 << 2) + 1 + +(block[b2 + node[n2 << 2]!]! > threshold[n2]!)]!;
          n3 = node[(n3 << 2) + 1 + +(block[b3 + node[n3 << 2]!]! > threshold[n3]!)]!;
          n4 = node[(n4 << 2) + 1 + +(block[b4 + node[n4 << 2]!]! > threshold[n4]!)]!;
          n5 = node[(n5 << 2) + 1 + +(block[b5 + node[n5 << 2]!]! > threshold[n5]!)]!;
          n6 = node[(n6 << 2) + 1 + +(block[b6 + node[n6 << 2]!]! > threshold[n6]!)]!;
          n7 = node[(n7 << 2) + 1 + +(block[b7 + node[n7 << 2]!]! > threshold[n7]!)]!;
        }
        if (leafWidth === 1) {
          out[o]! += value[n0]!;
          out[o + k]! += value[n1]!;
          out[o + 2 * k]! += value[n2]!;
          out[o + 3 * k]! += value[n3]!;
          out[o + 4 * k]! += value[n4]!;
          out[o + 5 * k]! += value[n5]!;
          out[o + 6 * k]! += value[n6]!;
          out[o + 7 * k]! += value[n7]!;
        } else {
          addLeaf(out, o, value, n0, leafWidth);
          addLeaf(out, o + k, value, n1, leafWidth);
          addLeaf(out, o + 2 * k, value, n2, leafWidth);
          addLeaf(out, o + 3 * k, value, n3, leafWidth);
          addLeaf(out, o + 4 * k, value, n4, leafWidth);
          addLeaf(out, o + 5 * k, value, n5, leafWidth);
          addLeaf(out, o + 6 * k, value, n6, leafWidth);
          addLeaf(out, o + 7 * k, value, n7, leafWidth);
        }
      }
      for (; j < rows; j++, o += k) {
        const b = j * w2;
        let n = root;
        for (let d = steps; d > 0; d--) n = node[(n << 2) + 1 + +(block[b + node[n << 2]!]! > threshold[n]!)]!;
        addLeaf(out, o, value, n, leafWidth);
      }
    }
  }
}
