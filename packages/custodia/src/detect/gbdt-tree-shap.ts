/**
 * TreeSHAP: exact Shapley values of one tree's output for one row in O(L·D²) (Lundberg,
 * Erion & Lee, "Consistent Individualized Feature Attribution for Tree Ensembles", 2018,
 * Algorithm 2; the same recursion as shap's tree_shap.h). The value of a feature set S is
 * the tree's expected output when the features outside S follow the training rows'
 * path counts (the "cover"), so the attributions sum to the tree's output minus its
 * expected output, and a feature the tree never uses gets exactly 0.
 *
 * The unique path is kept as four parallel arrays (feature, zero fraction, one fraction,
 * permutation weight) in one scratch buffer, each recursion level copying its parent's
 * path into the next slice, as the reference implementation does.
 */
import { childOf, type GbdtTree } from './gbdt-tree.js';

export interface ShapScratch {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;
}

/** Scratch space for trees up to `depth` deep. */
export function shapScratch(depth: number): ShapScratch {
  const size = ((depth + 2) * (depth + 5)) / 2 + 1;
  return { feature: new Int32Array(size), zero: new Float64Array(size), one: new Float64Array(size), weight: new Float64Array(size) };
}

/**
 * The tree's expected output under its training cover: Σ over leaves of value × share of
 * rows. TreeSHAP's attributions of a row add up to its output minus this.
 */
export function expectedValue(tree: GbdtTree): number {
  let sum = 0;
  for (let n = 0; n < tree.feature.length; n++) if (tree.feature[n]! < 0) sum += tree.value[n]! * tree.count[n]!;
  return sum / tree.count[0]!;
}

/**
 * Adds the SHAP values of `tree` for the row at `data[offset …]` to `phi[phiOffset + f]`.
 * `scratch` must come from {@link shapScratch} with at least the tree's depth.
 */
export function addTreeShap(tree: GbdtTree, data: ArrayLike<number>, offset: number, phi: Float64Array, phiOffset: number, scratch: ShapScratch): void {
  recurse({ tree, data, offset, phi, phiOffset, s: scratch }, 0, 0, 0, 1, 1, -1);
}

interface ShapCall {
  readonly tree: GbdtTree;
  readonly data: ArrayLike<number>;
  readonly offset: number;
  readonly phi: Float64Array;
  readonly phiOffset: number;
  readonly s: ShapScratch;
}

function recurse(c: ShapCall, node: number, d: number, parentOff: number, zeroFraction: number, oneFraction: number, parentFeature: number): void {
  const { tree, s } = c;
  const { feature: pf, zero: pz, one: po, weight: pw } = s;
  // This level's path: the parent's, then extended by the edge just taken.
  const off = parentOff + d + 1;
  for (let i = 0; i <= d; i++) {
    pf[off + i] = pf[parentOff + i]!;
    pz[off + i] = pz[parentOff + i]!;
    po[off + i] = po[parentOff + i]!;
    pw[off + i] = pw[parentOff + i]!;
  }
  extend(s, off, d, zeroFraction, oneFraction, parentFeature);

  const f = tree.feature[node]!;
  if (f < 0) {
    const v = tree.value[node]!;
    for (let i = 1; i <= d; i++) c.phi[c.phiOffset + pf[off + i]!]! += unwoundSum(s, off, d, i) * (po[off + i]! - pz[off + i]!) * v;
    return;
  }
  const hot = childOf(tree, node, c.data[c.offset + f]!);
  const cold = hot === tree.left[node] ? tree.right[node]! : tree.left[node]!;
  const cover = tree.count[node]!;
  let incomingZero = 1;
  let incomingOne = 1;
  let depth = d;
  for (let k = 1; k <= depth; k++) {
    if (pf[off + k] === f) {
      // The feature was split on above: undo that split, to redo it here.
      incomingZero = pz[off + k]!;
      incomingOne = po[off + k]!;
      unwind(s, off, depth, k);
      depth -= 1;
      break;
    }
  }
  recurse(c, hot, depth + 1, off, (tree.count[hot]! / cover) * incomingZero, incomingOne, f);
  recurse(c, cold, depth + 1, off, (tree.count[cold]! / cover) * incomingZero, 0, f);
}

/** Adds an edge to the path: every permutation weight shifts by the new element's fractions. */
function extend(s: ShapScratch, off: number, d: number, zeroFraction: number, oneFraction: number, f: number): void {
  const pw = s.weight;
  s.feature[off + d] = f;
  s.zero[off + d] = zeroFraction;
  s.one[off + d] = oneFraction;
  pw[off + d] = d === 0 ? 1 : 0;
  for (let i = d - 1; i >= 0; i--) {
    pw[off + i + 1]! += (oneFraction * pw[off + i]! * (i + 1)) / (d + 1);
    pw[off + i] = (zeroFraction * pw[off + i]! * (d - i)) / (d + 1);
  }
}

/** Removes element `index` from the path, undoing its {@link extend}. */
function unwind(s: ShapScratch, off: number, d: number, index: number): void {
  const { feature: pf, zero: pz, one: po, weight: pw } = s;
  const one = po[off + index]!;
  const zero = pz[off + index]!;
  let next = pw[off + d]!;
  for (let i = d - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = pw[off + i]!;
      pw[off + i] = (next * (d + 1)) / ((i + 1) * one);
      next = tmp - (pw[off + i]! * zero * (d - i)) / (d + 1);
    } else {
      pw[off + i] = (pw[off + i]! * (d + 1)) / (zero * (d - i));
    }
  }
  for (let i = index; i < d; i++) {
    pf[off + i] = pf[off + i + 1]!;
    pz[off + i] = pz[off + i + 1]!;
    po[off + i] = po[off + i + 1]!;
  }
}

/** The total permutation weight of the path with element `index` unwound, without changing the path. */
function unwoundSum(s: ShapScratch, off: number, d: number, index: number): number {
  const { zero: pz, one: po, weight: pw } = s;
  const one = po[off + index]!;
  const zero = pz[off + index]!;
  let next = pw[off + d]!;
  let total = 0;
  for (let i = d - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (d + 1)) / ((i + 1) * one);
      total += tmp;
      next = pw[off + i]! - tmp * zero * ((d - i) / (d + 1));
    } else {
      total += pw[off + i]! / zero / ((d - i) / (d + 1));
    }
  }
  return total;
}
