/**
 * Leaf-wise (best-first) growth of one tree (Ke et al., LightGBM, NeurIPS 2017, §5 and
 * Shi, "Best-first decision tree learning", 2007): of all current leaves, the one whose
 * best split gains most is split next, until the tree has `numLeaves` leaves, no split
 * gains more than `minGainToSplit`, or `maxDepth` stops it. Each split builds the
 * histogram of the smaller child from its rows and gets the larger child's by
 * subtraction from the parent's, in the parent's buffer.
 *
 * The rows of the bag live in one array; each leaf owns a contiguous range of it, which a
 * split partitions in place (stably, so sums keep their order and the model its bits).
 */
import type { FeatureBins } from './gbdt-bins.js';
import { buildHistogramSparse, sparseRowBins, subtractHistogram, type HistogramLayout, type SparseRowBins } from './gbdt-histogram.js';
import { findBestSplit, leafOutput, type Split, type SplitParams } from './gbdt-split.js';
import type { GbdtTree } from './gbdt-tree.js';

export interface TreeParams extends SplitParams {
  readonly numLeaves: number;
  /** 0 for no limit. */
  readonly maxDepth: number;
  readonly learningRate: number;
}

/** What stays the same for every tree of a training run. */
export interface TreeContext {
  readonly bins: FeatureBins;
  readonly layout: HistogramLayout;
  /** Column-major bin numbers of all rows, `stride` rows a column (to partition and route rows). */
  readonly binned: Uint8Array;
  readonly stride: number;
  /** Each row's bins other than its features' most frequent ones, to build histograms. */
  readonly sparse: SparseRowBins;
  /** 0 … features − 1: histograms cover every feature, even when a tree may split on only some. */
  readonly allFeatures: Int32Array;
  readonly params: TreeParams;
  /** Histogram buffers, reused across trees: one per leaf at most. */
  readonly pool: Float64Array[];
}

export interface GrownTree {
  readonly tree: GbdtTree;
  /** The split bin of each inner node, to route binned rows (−1 at leaves). */
  readonly bin: Int32Array;
  /** The bag's rows, partitioned: leaf node `leafNodes[i]` owns `rows[leafBegin[i] … leafEnd[i])`. */
  readonly rows: Uint32Array;
  readonly leafNodes: Int32Array;
  readonly leafBegin: Int32Array;
  readonly leafEnd: Int32Array;
}

interface Leaf {
  node: number;
  begin: number;
  end: number;
  depth: number;
  grad: number;
  hess: number;
  hist: Float64Array | null;
  split: Split | null;
}

export function treeContext(bins: FeatureBins, layout: HistogramLayout, binned: Uint8Array, stride: number, params: TreeParams): TreeContext {
  const features = bins.numBins.length;
  return Object.freeze({ bins, layout, binned, stride, sparse: sparseRowBins(binned, stride, bins, layout), allFeatures: Int32Array.from({ length: features }, (_, f) => f), params, pool: [] });
}

/**
 * Grows one tree on the rows `bag` with per-row gradients `grad` and hessians `hess`,
 * splitting only on `features` (sorted).
 */
export function growTree(ctx: TreeContext, grad: Float64Array, hess: Float64Array, bag: Uint32Array, features: Int32Array): GrownTree {
  const { params: p, bins, layout, binned, stride } = ctx;
  const rows = Uint32Array.from(bag);
  const scratch = new Uint32Array(rows.length);
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const defaultLeft: number[] = [];
  const value: number[] = [];
  const count: number[] = [];
  const gain: number[] = [];
  const splitBin: number[] = [];
  // A new node starts as a leaf; splitting it fills in its split fields.
  const addNode = (g: number, h: number, n: number): number => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    defaultLeft.push(0);
    gain.push(0);
    splitBin.push(-1);
    value.push(p.learningRate * leafOutput(g, h, p.lambda));
    count.push(n);
    return feature.length - 1;
  };
  const acquire = (): Float64Array => ctx.pool.pop() ?? new Float64Array(layout.length);
  const canSplit = (l: Leaf): boolean => (p.maxDepth <= 0 || l.depth < p.maxDepth) && l.end - l.begin >= 2 * p.minChildSamples;
  const histogramOf = (l: Leaf, hist: Float64Array): void => {
    buildHistogramSparse(hist, layout, bins, ctx.sparse, rows, l.begin, l.end, grad, hess);
  };

  let g0 = 0;
  let h0 = 0;
  for (let i = 0; i < rows.length; i++) {
    g0 += grad[rows[i]!]!;
    h0 += hess[rows[i]!]!;
  }
  const root: Leaf = { node: addNode(g0, h0, rows.length), begin: 0, end: rows.length, depth: 0, grad: g0, hess: h0, hist: null, split: null };
  if (canSplit(root) && p.numLeaves > 1) {
    root.hist = acquire();
    histogramOf(root, root.hist);
    root.split = findBestSplit(root.hist, layout, bins, features, g0, h0, rows.length, p);
  }
  const leaves: Leaf[] = [root];

  while (leaves.length < p.numLeaves) {
    let bestIndex = -1;
    for (let i = 0; i < leaves.length; i++) {
      const s = leaves[i]!.split;
      if (s !== null && (bestIndex < 0 || s.gain > leaves[bestIndex]!.split!.gain)) bestIndex = i;
    }
    if (bestIndex < 0) break;
    const parent = leaves[bestIndex]!;
    const s = parent.split!;

    // Partition the parent's rows: left ones to the front in order, right ones after, in order.
    const missingBin = bins.numBins[s.feature]!;
    let nLeft = 0;
    let nRight = 0;
    const column = s.feature * stride;
    for (let i = parent.begin; i < parent.end; i++) {
      const r = rows[i]!;
      const b = binned[column + r]!;
      if (b === missingBin ? s.defaultLeft : b <= s.bin) rows[parent.begin + nLeft++] = r;
      else scratch[nRight++] = r;
    }
    rows.set(scratch.subarray(0, nRight), parent.begin + nLeft);

    const mid = parent.begin + nLeft;
    const lg = s.leftGrad;
    const lh = s.leftHess;
    const rg = parent.grad - lg;
    const rh = parent.hess - lh;
    const n = parent.node;
    const l: Leaf = { node: addNode(lg, lh, nLeft), begin: parent.begin, end: mid, depth: parent.depth + 1, grad: lg, hess: lh, hist: null, split: null };
    const r: Leaf = { node: addNode(rg, rh, nRight), begin: mid, end: parent.end, depth: parent.depth + 1, grad: rg, hess: rh, hist: null, split: null };
    feature[n] = s.feature;
    threshold[n] = bins.edges[s.feature]![s.bin]!;
    left[n] = l.node;
    right[n] = r.node;
    defaultLeft[n] = s.defaultLeft ? 1 : 0;
    gain[n] = s.gain;
    splitBin[n] = s.bin;

    const parentHist = parent.hist!;
    parent.hist = null;
    if (leaves.length + 1 < p.numLeaves && (canSplit(l) || canSplit(r))) {
      const [small, large] = nLeft <= nRight ? [l, r] : [r, l];
      small.hist = acquire();
      histogramOf(small, small.hist);
      subtractHistogram(parentHist, small.hist, layout, bins, ctx.allFeatures);
      large.hist = parentHist;
      for (const c of [l, r]) {
        if (canSplit(c)) c.split = findBestSplit(c.hist!, layout, bins, features, c.grad, c.hess, c.end - c.begin, p);
        if (c.split === null) {
          ctx.pool.push(c.hist!);
          c.hist = null;
        }
      }
    } else ctx.pool.push(parentHist);
    leaves[bestIndex] = l;
    leaves.push(r);
  }
  for (const leaf of leaves) if (leaf.hist !== null) ctx.pool.push(leaf.hist);

  const tree: GbdtTree = Object.freeze({
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    defaultLeft: Uint8Array.from(defaultLeft),
    value: Float64Array.from(value),
    count: Float64Array.from(count),
    gain: Float64Array.from(gain),
  });
  return {
    tree,
    bin: Int32Array.from(splitBin),
    rows,
    leafNodes: Int32Array.from(leaves, (x) => x.node),
    leafBegin: Int32Array.from(leaves, (x) => x.begin),
    leafEnd: Int32Array.from(leaves, (x) => x.end),
  };
}

/** The leaf binned row `row` reaches (rows outside the bag, and validation rows, are routed this way). */
export function binnedLeafOf(grown: GrownTree, missingBins: Uint16Array, binned: Uint8Array, stride: number, row: number): number {
  const { feature, left, right, defaultLeft } = grown.tree;
  const bin = grown.bin;
  let n = 0;
  while (feature[n]! >= 0) {
    const f = feature[n]!;
    const b = binned[f * stride + row]!;
    n = (b === missingBins[f] ? defaultLeft[n] === 1 : b <= bin[n]!) ? left[n]! : right[n]!;
  }
  return n;
}
