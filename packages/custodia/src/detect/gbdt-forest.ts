/**
 * The trees of a model packed into one set of flat typed arrays for scoring, and the
 * scoring loop. Only inner nodes are stored as nodes; a child pointer `c >= 0` is an
 * inner node, `c < 0` the leaf `~c` of one shared leaf-value array. A row walks each tree
 * in a few dependent loads and one compare per level, with no allocation.
 *
 * Rows are scored in blocks, tree by tree within a block, so one tree's nodes stay in
 * the L1 cache while the block's rows stream past (the "tree-major over row blocks" order
 * of Treelite and of Asadi et al., "Runtime optimizations for tree-based machine learning
 * models", IEEE TKDE 2014).
 */
import type { DenseMatrix } from './gbdt-matrix.js';
import type { GbdtTree } from './gbdt-tree.js';

export interface PackedForest {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  /** Left then right child of each inner node: an inner node index, or `~leaf`. */
  readonly children: Int32Array;
  readonly defaultLeft: Uint8Array;
  readonly leafValue: Float64Array;
  /** Per tree, its root pointer (an inner node, or `~leaf` for a one-leaf tree). */
  readonly roots: Int32Array;
  /** Per tree, the raw-score output it adds to. */
  readonly output: Int32Array;
}

/** Packs `trees`; tree `t` adds to output `t % outputs`. */
export function packForest(trees: readonly GbdtTree[], outputs: number): PackedForest {
  let inner = 0;
  let leaves = 0;
  for (const t of trees) for (let n = 0; n < t.feature.length; n++) t.feature[n]! >= 0 ? inner++ : leaves++;
  const feature = new Int32Array(inner);
  const threshold = new Float64Array(inner);
  const children = new Int32Array(2 * inner);
  const defaultLeft = new Uint8Array(inner);
  const leafValue = new Float64Array(leaves);
  const roots = new Int32Array(trees.length);
  const output = new Int32Array(trees.length);
  let nextInner = 0;
  let nextLeaf = 0;
  trees.forEach((t, i) => {
    // Pointers to this tree's nodes, numbered in node order (a child's number is always after its parent's).
    const pointer = new Int32Array(t.feature.length);
    for (let n = 0; n < t.feature.length; n++) {
      if (t.feature[n]! >= 0) pointer[n] = nextInner++;
      else {
        leafValue[nextLeaf] = t.value[n]!;
        pointer[n] = ~nextLeaf++;
      }
    }
    for (let n = 0; n < t.feature.length; n++) {
      if (t.feature[n]! < 0) continue;
      const p = pointer[n]!;
      feature[p] = t.feature[n]!;
      threshold[p] = t.threshold[n]!;
      defaultLeft[p] = t.defaultLeft[n]!;
      children[2 * p] = pointer[t.left[n]!]!;
      children[2 * p + 1] = pointer[t.right[n]!]!;
    }
    roots[i] = pointer[0]!;
    output[i] = i % outputs;
  });
  return Object.freeze({ feature, threshold, children, defaultLeft, leafValue, roots, output });
}

const BLOCK = 64;

/**
 * Raw scores of every row of `m` into `out` (row-major, `outputs` per row), starting from
 * `initScore`. The first `trees` trees are used (all by default).
 */
export function scoreRaw(forest: PackedForest, initScore: Float64Array, m: DenseMatrix, out: Float64Array, trees: number = forest.roots.length): void {
  const k = initScore.length;
  const { feature, threshold, children, defaultLeft, leafValue, roots, output } = forest;
  const data = m.data;
  const width = m.features;
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < k; c++) out[r * k + c] = initScore[c]!;
  for (let start = 0; start < m.rows; start += BLOCK) {
    const end = Math.min(m.rows, start + BLOCK);
    for (let t = 0; t < trees; t++) {
      const root = roots[t]!;
      const o = output[t]!;
      if (root < 0) {
        const v = leafValue[~root]!;
        for (let r = start; r < end; r++) out[r * k + o]! += v;
        continue;
      }
      for (let r = start; r < end; r++) {
        const base = r * width;
        let n = root;
        while (n >= 0) {
          const x = data[base + feature[n]!]!;
          n = x <= threshold[n]! || (x !== x && defaultLeft[n] === 1) ? children[2 * n]! : children[2 * n + 1]!;
        }
        out[r * k + o]! += leafValue[~n]!;
      }
    }
  }
}
