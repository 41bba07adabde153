/**
 * One regression tree of the ensemble, as flat typed arrays indexed by node number. Node
 * 0 is the root; children are always numbered after their parent (the loader checks
 * this, which rules out cycles). Internal nodes send `x[feature] <= threshold` left,
 * greater values right, and a missing value (NaN) to its learnt default side.
 */
export interface GbdtTree {
  /** The split feature of each node; −1 marks a leaf. */
  readonly feature: Int32Array;
  /** Values `<=` this go left (0 at leaves). */
  readonly threshold: Float64Array;
  /** Left and right child of each node (−1 at leaves). */
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** 1 where a missing value goes left. */
  readonly defaultLeft: Uint8Array;
  /**
   * The output of each node, shrinkage included: at a leaf what the tree adds to the raw
   * score, at an inner node what it would have added had it stayed a leaf (Saabas's
   * path attribution walks these).
   */
  readonly value: Float64Array;
  /** Training rows (of the bag) that reached each node: the "cover" TreeSHAP weighs by. */
  readonly count: Float64Array;
  /** The split gain of each inner node (0 at leaves): global gain importance sums these. */
  readonly gain: Float64Array;
}

/** The leaf that row `x` (features from `offset` in `data`) reaches. */
export function leafOf(tree: GbdtTree, data: ArrayLike<number>, offset: number): number {
  let n = 0;
  while (tree.feature[n]! >= 0) n = childOf(tree, n, data[offset + tree.feature[n]!]!);
  return n;
}

/** The child of inner node `n` that value `x` goes to. */
export function childOf(tree: GbdtTree, n: number, x: number): number {
  if (x <= tree.threshold[n]!) return tree.left[n]!;
  if (x !== x && tree.defaultLeft[n] === 1) return tree.left[n]!;
  return tree.right[n]!;
}

/** Depth of the deepest leaf (a lone root has depth 0). */
export function treeDepth(tree: Pick<GbdtTree, 'feature' | 'left' | 'right'>): number {
  const depth = new Int32Array(tree.feature.length);
  let max = 0;
  for (let n = 0; n < tree.feature.length; n++) {
    if (tree.feature[n]! < 0) continue;
    const d = depth[n]! + 1;
    depth[tree.left[n]!] = d;
    depth[tree.right[n]!] = d;
    if (d > max) max = d;
  }
  return max;
}
