/**
 * Growing a random forest (random-forest.ts) as scikit-learn's RandomForestClassifier
 * does by default (L. Breiman 2001): each tree on a bootstrap sample of the rows (n draws
 * with replacement, a row drawn twice counting twice; at most 100,000 draws), grown until its leaves are pure or
 * cannot be split, each split the best by Gini impurity among √d features drawn at random
 * for that node (more are drawn when those are constant in the node, so a split is found
 * whenever one exists).
 *
 * Split finding runs on histograms of binned features, as LightGBM's random-forest mode
 * does (gbdt-bins.ts: at most 255 quantile bins a feature, cut once before training), not
 * on sorted values: a node's candidate thresholds are the bin edges, so a split is
 * learnt on bins and scored on raw values with the same threshold. Per node and feature
 * only the bins the node's rows occupy are scanned.
 *
 * Deterministic for a given `random`: each tree draws its bootstrap and its features from
 * its own seeded stream, in tree order.
 */
import { seededRandom, type Random } from '../kernel/index.js';
import { binMatrix, computeFeatureBins } from './gbdt-bins.js';
import type { DenseMatrix } from './gbdt-matrix.js';
import { RANDOM_FOREST_LIMITS, RandomForest, type RandomForestTree } from './random-forest.js';
import { UniformRandom } from './uniform-random.js';

export interface RandomForestOptions {
  /** Trees (default 100, scikit-learn's). */
  readonly trees?: number;
  /** Features drawn at each split (default ⌊√d⌋, scikit-learn's for classification). */
  readonly featuresPerSplit?: number;
  /** The deepest a leaf may be (default 64: a bound, not a setting; NSL-KDD's trees stay far above it). */
  readonly maxDepth?: number;
  /**
   * The most rows a tree's bootstrap draws (scikit-learn's `max_samples`; default
   * 100,000): a tree costs about rows × √d × depth, so a flow file of millions of rows would
   * otherwise take hours. Inputs up to this size draw as many rows as they have.
   */
  readonly maxSamples?: number;
  readonly random: Random;
}

/** The forests detectors grow: scikit-learn's defaults (100 trees, √d features a split, grown to purity). */
export const DETECTOR_RANDOM_FOREST_OPTIONS = Object.freeze({ trees: 100 });

interface Grown {
  readonly feature: number[];
  readonly threshold: number[];
  readonly left: number[];
  readonly right: number[];
  readonly counts: number[];
}

/**
 * A forest on the rows `rows` of `x`, class `y[r]` in [0, numClasses).
 *
 * @example
 *   const forest = trainRandomForest(denseMatrix(data, 39), y, 5, allRows, { random: seededRandom('rf') });
 */
export function trainRandomForest(x: DenseMatrix, y: ArrayLike<number>, numClasses: number, rows: Uint32Array, o: RandomForestOptions): RandomForest {
  const treeCount = o.trees ?? DETECTOR_RANDOM_FOREST_OPTIONS.trees;
  if (!(Number.isInteger(treeCount) && treeCount >= 1 && treeCount <= RANDOM_FOREST_LIMITS.trees)) throw new RangeError(`a forest has 1 to ${RANDOM_FOREST_LIMITS.trees} trees`);
  if (rows.length < 1) throw new RangeError('a forest needs rows');
  const d = x.features;
  const mtry = Math.min(d, Math.max(1, o.featuresPerSplit ?? Math.floor(Math.sqrt(d))));
  const maxDepth = o.maxDepth ?? 64;
  const draws = Math.min(rows.length, o.maxSamples ?? 100_000);
  if (!(Number.isInteger(draws) && draws >= 1)) throw new RangeError('a bootstrap draws at least one row');
  for (const r of rows) if (!(Number.isInteger(y[r]) && y[r]! >= 0 && y[r]! < numClasses)) throw new RangeError(`row ${r} has no class of the ${numClasses}`);
  const bins = computeFeatureBins(x, rows);
  const binned = binMatrix(x, bins);
  const n = x.rows;
  const key = o.random.bytes(32).toString('hex');
  const trees: RandomForestTree[] = [];
  for (let t = 0; t < treeCount; t++) {
    const rng = new UniformRandom(seededRandom(`${key}:tree-${t}`));
    // The bootstrap: as many draws as rows (at most maxSamples), with replacement; a row's weight is how often it was drawn.
    const weight = new Float64Array(n);
    for (let i = 0; i < draws; i++) weight[rows[rng.below(rows.length)]!]!++;
    const inBag: number[] = [];
    for (const r of rows) if (weight[r]! > 0) inBag.push(r);
    const g = grow(Uint32Array.from(inBag), weight, y, numClasses, binned, n, bins.edges, mtry, maxDepth, rng);
    trees.push({ feature: Int32Array.from(g.feature), threshold: Float64Array.from(g.threshold), left: Int32Array.from(g.left), right: Int32Array.from(g.right), counts: Float64Array.from(g.counts) });
  }
  return new RandomForest(numClasses, d, trees);
}

/** One tree, depth first (a node's children are numbered after it, as the loader requires). */
function grow(idx: Uint32Array, weight: Float64Array, y: ArrayLike<number>, k: number, binned: Uint8Array, n: number, edges: readonly Float64Array[], mtry: number, maxDepth: number, rng: UniformRandom): Grown {
  const d = edges.length;
  const out: Grown = { feature: [], threshold: [], left: [], right: [], counts: [] };
  const hist = new Float64Array(256 * k);
  const order = Int32Array.from({ length: d }, (_, f) => f);
  const add = (): number => {
    out.feature.push(-1);
    out.threshold.push(0);
    out.left.push(-1);
    out.right.push(-1);
    return out.feature.length - 1;
  };
  /** Each leaf's class counts, by node: written out in node order at the end. */
  const leaves = new Map<number, Float64Array>();
  // The root's class counts; a child's come from its parent's split.
  const rootTotal = new Float64Array(k);
  for (const r of idx) rootTotal[y[r]!]! += weight[r]!;
  // Depth first, left child first: an explicit stack of [node, start, end, depth, class counts].
  const stack: [number, number, number, number, Float64Array][] = [[add(), 0, idx.length, 0, rootTotal]];
  while (stack.length > 0) {
    const [node, start, end, depth, total] = stack.pop()!;
    let weightSum = 0;
    let classesPresent = 0;
    for (let c = 0; c < k; c++) {
      weightSum += total[c]!;
      if (total[c]! > 0) classesPresent++;
    }
    if (classesPresent <= 1 || end - start < 2 || depth >= maxDepth || out.feature.length + 2 > RANDOM_FOREST_LIMITS.nodesPerTree) {
      leaves.set(node, total);
      continue;
    }
    // Gini: the split maximising Σ_children Σ_c n_c² / n_child (the weighted impurity
    // decrease, up to terms the node fixes). As scikit-learn, the best valid split is taken
    // even when it gains nothing: only a node with no valid split at all is a leaf.
    let best = -Infinity;
    let bestFeature = -1;
    let bestBin = -1;
    const bestLeft = new Float64Array(k);
    let visited = 0;
    let drawn = 0;
    while (drawn < d && (visited < mtry || bestFeature < 0)) {
      // A partial Fisher–Yates shuffle: the next feature drawn without replacement.
      const j = drawn + rng.below(d - drawn);
      const f = order[j]!;
      order[j] = order[drawn]!;
      order[drawn] = f;
      drawn++;
      const column = f * n;
      const lastEdge = edges[f]!.length - 1;
      let lo = 255;
      let hi = 0;
      for (let i = start; i < end; i++) {
        const r = idx[i]!;
        const b = binned[column + r]!;
        hist[b * k + y[r]!]! += weight[r]!;
        if (b < lo) lo = b;
        if (b > hi) hi = b;
      }
      // Constant in this node (one bin): it does not count against the features to visit.
      if (lo !== hi) {
        visited++;
        const left = new Float64Array(k);
        let leftN = 0;
        // "bin <= b" is "value <= edges[b]"; the last value bin has no upper edge, and
        // missing values (the bin after it) always go right.
        const top = Math.min(hi, lastEdge);
        for (let b = lo; b <= top; b++) {
          for (let c = 0; c < k; c++) {
            left[c]! += hist[b * k + c]!;
            leftN += hist[b * k + c]!;
          }
          if (leftN <= 0 || leftN >= weightSum) continue;
          let ls = 0;
          let rs = 0;
          for (let c = 0; c < k; c++) {
            const l = left[c]!;
            const r = total[c]! - l;
            ls += l * l;
            rs += r * r;
          }
          const score = ls / leftN + rs / (weightSum - leftN);
          if (score > best) {
            best = score;
            bestFeature = f;
            bestBin = b;
            bestLeft.set(left);
          }
        }
      }
      for (let b = lo; b <= hi; b++) for (let c = 0; c < k; c++) hist[b * k + c] = 0;
    }
    if (bestFeature < 0) {
      leaves.set(node, total);
      continue;
    }
    // Partition the node's rows: bins up to bestBin left, the rest (and missing values) right.
    const column = bestFeature * n;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if (binned[column + idx[i]!]! <= bestBin) i++;
      else {
        const v = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = v;
        j--;
      }
    }
    out.feature[node] = bestFeature;
    out.threshold[node] = edges[bestFeature]![bestBin]!;
    const l = add();
    const r = add();
    out.left[node] = l;
    out.right[node] = r;
    const rightTotal = Float64Array.from(total, (t, c) => t - bestLeft[c]!);
    // Right pushed first so the left subtree is grown (and numbered) first.
    stack.push([r, i, end, depth + 1, rightTotal], [l, start, i, depth + 1, bestLeft]);
  }
  for (let node = 0; node < out.feature.length; node++) {
    const c = leaves.get(node);
    if (c !== undefined) out.counts.push(...c);
  }
  return out;
}
