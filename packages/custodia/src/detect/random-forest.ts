/**
 * A random forest of classification trees (L. Breiman, "Random Forests", Machine Learning
 * 45, 2001): each tree grown on a bootstrap sample of the rows, each split chosen among
 * a random subset of the features (train-random-forest.ts), and a row's class
 * probabilities the mean over the trees of its leaf's class shares — scikit-learn's
 * `predict_proba` (soft voting), not Breiman's majority vote.
 *
 * The hybrid detector averages these probabilities with its boosted trees'
 * (detection-scores.ts, docs/detect.md "Random forest"): the two err on different rows,
 * and the mean ranks attacks above normal traffic better than either alone.
 *
 * Trees are flat arrays by node number, as the boosted trees are (gbdt-tree.ts): node 0
 * the root, children numbered after their parent, `x[feature] <= threshold` left, greater
 * and missing (NaN) values right. A leaf holds the (bootstrap-weighted) training rows of
 * each class that reached it. The constructor checks every tree's structure, so a forest
 * read from a file (random-forest-json.ts, hostile input) is sound before anything scores
 * with it, and packs the trees for the boosted trees' scoring loop (packed-trees.ts:
 * eight rows a tree side by side, branch-free), each leaf adding its class shares.
 */
import { CustodiaError } from '../kernel/index.js';
import { denseMatrix } from './gbdt-matrix.js';
import { packClassTrees, scoreRaw, type PackedTrees } from './packed-trees.js';
import { checkTreeLinks } from './tree-links.js';

/** One tree: parallel arrays by node; `counts` holds `numClasses` numbers per leaf, leaves in node order. */
export interface RandomForestTree {
  /** The split feature of each node; −1 marks a leaf. */
  readonly feature: Int32Array;
  /** Values `<=` this go left (0 at leaves). */
  readonly threshold: Float64Array;
  /** Children (−1 at leaves). */
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Training rows of each class at each leaf (bootstrap counts), leaf after leaf in node order. */
  readonly counts: Float64Array;
}

/** Limits on what a forest may hold (a file asks us to allocate it). */
export const RANDOM_FOREST_LIMITS = Object.freeze({ trees: 1000, nodesPerTree: 2 * 65_536 - 1, classes: 256 });

function invalid(where: string, problem: string): CustodiaError {
  return new CustodiaError('model-invalid', `The random forest is invalid: ${where} ${problem}`);
}

/** Per node: the class counts of the rows that reached it (inner nodes: the sum of their leaves). Checks the structure. */
function nodeCounts(tree: RandomForestTree, t: number, numClasses: number, numFeatures: number): Float64Array {
  const n = tree.feature.length;
  const where = `tree ${t}`;
  if (n < 1 || n > RANDOM_FOREST_LIMITS.nodesPerTree) throw invalid(where, `must have 1 to ${RANDOM_FOREST_LIMITS.nodesPerTree} nodes`);
  if (tree.threshold.length !== n || tree.left.length !== n || tree.right.length !== n) throw invalid(where, 'has arrays of different lengths');
  let leaves = 0;
  for (let i = 0; i < n; i++) {
    const f = tree.feature[i]!;
    if (f < 0) {
      if (f !== -1 || tree.left[i] !== -1 || tree.right[i] !== -1 || tree.threshold[i] !== 0) throw invalid(`${where} node ${i}`, 'is a leaf with children or a threshold');
      leaves++;
    } else if (f >= numFeatures) throw invalid(`${where} node ${i}`, 'splits on a feature the forest does not take');
    else if (!Number.isFinite(tree.threshold[i]!)) throw invalid(`${where} node ${i}`, 'has a threshold that is not finite');
  }
  checkTreeLinks(tree.feature, tree.left, tree.right, (i, problem) => invalid(`${where} node ${i}`, problem));
  if (tree.counts.length !== leaves * numClasses) throw invalid(where, `must hold ${numClasses} counts per leaf`);
  const out = new Float64Array(n * numClasses);
  for (let i = 0, leaf = 0; i < n; i++) {
    if (tree.feature[i]! >= 0) continue;
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      const v = tree.counts[leaf * numClasses + c]!;
      if (!(Number.isSafeInteger(v) && v >= 0)) throw invalid(`${where} leaf ${leaf}`, 'has a count that is not a whole number of rows');
      out[i * numClasses + c] = v;
      sum += v;
    }
    if (sum < 1 || !Number.isSafeInteger(sum)) throw invalid(`${where} leaf ${leaf}`, 'holds no rows');
    leaf++;
  }
  // Children after parents: a walk backwards has both children's sums before their parent.
  for (let i = n - 1; i >= 0; i--) {
    if (tree.feature[i]! < 0) continue;
    for (let c = 0; c < numClasses; c++) out[i * numClasses + c] = out[tree.left[i]! * numClasses + c]! + out[tree.right[i]! * numClasses + c]!;
  }
  return out;
}

export class RandomForest {
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly trees: readonly RandomForestTree[];
  /** Per tree, per node × class: the share of the node's training rows in each class. */
  readonly #shares: readonly Float64Array[];
  /** The trees packed for scoring, each leaf adding its class shares. */
  readonly #packed: PackedTrees;

  /** Checks every tree (throws `model-invalid`) and keeps them. */
  constructor(numClasses: number, numFeatures: number, trees: readonly RandomForestTree[]) {
    if (!(Number.isInteger(numClasses) && numClasses >= 2 && numClasses <= RANDOM_FOREST_LIMITS.classes)) throw invalid('numClasses', `must be 2 to ${RANDOM_FOREST_LIMITS.classes}`);
    if (!(Number.isInteger(numFeatures) && numFeatures >= 1)) throw invalid('numFeatures', 'must be a positive integer');
    if (trees.length < 1 || trees.length > RANDOM_FOREST_LIMITS.trees) throw invalid('trees', `must be 1 to ${RANDOM_FOREST_LIMITS.trees}`);
    this.numClasses = numClasses;
    this.numFeatures = numFeatures;
    this.trees = Object.freeze(trees.map((t) => Object.freeze({ ...t })));
    const shares: Float64Array[] = [];
    this.trees.forEach((tree, t) => {
      const counts = nodeCounts(tree, t, numClasses, numFeatures);
      const n = tree.feature.length;
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let c = 0; c < numClasses; c++) sum += counts[i * numClasses + c]!;
        for (let c = 0; c < numClasses; c++) counts[i * numClasses + c]! /= sum;
      }
      shares.push(counts);
    });
    this.#shares = shares;
    this.#packed = packClassTrees(this.trees, shares, numClasses, numFeatures);
  }

  /** The leaf of tree `t` that the row at `data[offset …]` reaches. */
  leaf(t: number, data: ArrayLike<number>, offset: number): number {
    const tree = this.trees[t]!;
    let n = 0;
    for (let f = tree.feature[0]!; f >= 0; f = tree.feature[n]!) n = data[offset + f]! <= tree.threshold[n]! ? tree.left[n]! : tree.right[n]!;
    return n;
  }

  /**
   * Class probabilities, `rows × numClasses`, each row the mean of its leaves' class
   * shares (so each row sums to 1 up to rounding).
   *
   * @example
   *   const p = forest.predictProba(matrix.data, matrix.width); // p[r * K + c]
   */
  predictProba(data: Float64Array, width: number): Float64Array {
    if (width !== this.numFeatures) throw new RangeError(`the forest takes rows of ${this.numFeatures} features`);
    const k = this.numClasses;
    const rows = Math.floor(data.length / width);
    const out = new Float64Array(rows * k);
    scoreRaw(this.#packed, denseMatrix(data.subarray(0, rows * width), width), out, k);
    const scale = 1 / this.trees.length;
    for (let i = 0; i < out.length; i++) out[i]! *= scale;
    return out;
  }

  /**
   * What each feature added to the row's probability of class `c`, by the path it took
   * through each tree (A. Saabas's decomposition, "Interpreting random forests", 2014, as
   * the `treeinterpreter` package computes it): at each split, the change in the node's
   * share of class `c` from parent to child is credited to the split's feature; over the
   * trees' mean the credits and the forest's prior share add up to the row's probability
   * exactly. O(depth) a tree, where TreeSHAP would cost O(leaves · depth²) a tree (about
   * 50 ms a row for a forest of fully grown trees).
   */
  pathContributions(row: ArrayLike<number>, c: number): Float64Array {
    const k = this.numClasses;
    const out = new Float64Array(this.numFeatures);
    for (let t = 0; t < this.trees.length; t++) {
      const tree = this.trees[t]!;
      const shares = this.#shares[t]!;
      let n = 0;
      for (let f = tree.feature[0]!; f >= 0; f = tree.feature[n]!) {
        const next = row[f]! <= tree.threshold[n]! ? tree.left[n]! : tree.right[n]!;
        out[f]! += shares[next * k + c]! - shares[n * k + c]!;
        n = next;
      }
    }
    for (let f = 0; f < out.length; f++) out[f]! /= this.trees.length;
    return out;
  }

  /** The mean over the trees of the root's share of class `c`: what {@link pathContributions} start from. */
  priorShare(c: number): number {
    let sum = 0;
    for (const s of this.#shares) sum += s[c]!;
    return sum / this.trees.length;
  }
}
