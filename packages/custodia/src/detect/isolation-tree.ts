/**
 * Liu, Ting, Zhou, "Isolation Forest", ICDM 2008, Algorithm 2 (iTree): grows one
 * isolation tree on a subsample, into flat arrays in pre-order.
 *
 *     iTree(X, e, l):
 *       if e ≥ l or |X| ≤ 1: return exNode{Size ← |X|}
 *       q ← a random attribute;  p ← uniform between max and min of q in X
 *       return inNode{Left ← iTree(X[q < p], e+1, l), Right ← iTree(X[q ≥ p], e+1, l), SplitAtt ← q, SplitValue ← p}
 *
 * One refinement: q is drawn uniformly among the attributes that are *not constant* in
 * X (a constant one has no p with two non-empty sides), and when every attribute is
 * constant (duplicates) the node becomes external. This is what scikit-learn's
 * ExtraTreeRegressor does for IsolationForest; the paper leaves the case open.
 * p is drawn in the open interval (min, max), so both sides are non-empty.
 */
import type { UniformRandom } from './uniform-random.js';

/**
 * One tree as parallel arrays indexed by node (node 0 is the root). External nodes have
 * `feature = -1`, `left = right = -1` and `split = 0`; every node has its `size`, the
 * number of subsample points that reached it.
 */
export interface IsolationTreeArrays {
  readonly feature: Int32Array;
  readonly split: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly size: Int32Array;
}

/** Growable node storage for one tree. */
class NodeBuffer {
  feature: number[] = [];
  split: number[] = [];
  left: number[] = [];
  right: number[] = [];
  size: number[] = [];

  add(size: number): number {
    this.feature.push(-1);
    this.split.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.size.push(size);
    return this.size.length - 1;
  }

  freeze(): IsolationTreeArrays {
    return {
      feature: Int32Array.from(this.feature),
      split: Float64Array.from(this.split),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      size: Int32Array.from(this.size),
    };
  }
}

/**
 * Grows one tree over the rows `sample` of the row-major `data` (`width` columns),
 * reordering `sample` in place as it partitions.
 *
 * @example
 *   const tree = growIsolationTree(data, width, sampleIndexes, 8, rng);
 */
export function growIsolationTree(data: Float64Array, width: number, sample: Int32Array, heightLimit: number, rng: UniformRandom): IsolationTreeArrays {
  const nodes = new NodeBuffer();
  const order = Int32Array.from({ length: width }, (_, i) => i);

  /** Min and max of column f over sample[lo, hi). */
  const range = (f: number, lo: number, hi: number): [number, number] => {
    let min = Infinity;
    let max = -Infinity;
    for (let i = lo; i < hi; i++) {
      const v = data[sample[i]! * width + f]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return [min, max];
  };

  const grow = (lo: number, hi: number, depth: number): number => {
    const id = nodes.add(hi - lo);
    if (depth >= heightLimit || hi - lo <= 1) return id;
    // Draw attributes without replacement (a partial Fisher–Yates over `order`) until
    // one is not constant here: uniform among the non-constant attributes.
    for (let k = 0; k < width; k++) {
      const j = k + rng.below(width - k);
      const f = order[j]!;
      order[j] = order[k]!;
      order[k] = f;
      const [min, max] = range(f, lo, hi);
      if (!(max > min)) continue;
      let p = min + rng.nextOpen() * (max - min);
      if (!(p > min) || p > max) p = max; // rounding: keep min on the left, max on the right
      // Partition sample[lo, hi) into q < p, then q ≥ p.
      let mid = lo;
      for (let i = lo; i < hi; i++) {
        const r = sample[i]!;
        if (data[r * width + f]! < p) {
          sample[i] = sample[mid]!;
          sample[mid++] = r;
        }
      }
      nodes.feature[id] = f;
      nodes.split[id] = p;
      nodes.left[id] = grow(lo, mid, depth + 1);
      nodes.right[id] = grow(mid, hi, depth + 1);
      return id;
    }
    return id; // every attribute is constant: an external node of duplicates
  };

  grow(0, sample.length, 0);
  return nodes.freeze();
}
