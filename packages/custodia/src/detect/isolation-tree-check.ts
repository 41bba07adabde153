/**
 * The structural rules of an isolation tree (Liu, Ting, Zhou 2008, Algorithm 2), checked
 * before a tree is scored. Trees arrive in model files — attacker-controlled — so a child
 * index is never followed until it is known to point forward inside the tree (no cycle,
 * no out-of-bounds read), every node but the root has exactly one parent, split
 * attributes are columns of the row, sizes add up, and no path is deeper than the
 * height limit. A tree that breaks any rule is refused with `model-invalid`.
 */
import { CustodiaError } from '../kernel/index.js';
import type { IsolationTreeArrays } from './isolation-tree.js';

export interface TreeLimits {
  /** Columns in a row: split attributes must be below it. */
  readonly width: number;
  /** The subsample size ψ: the root's size. */
  readonly subsampleSize: number;
  /** The height limit l = ceil(log2 ψ). */
  readonly heightLimit: number;
}

function invalid(tree: number, message: string): CustodiaError {
  return new CustodiaError('model-invalid', `Invalid isolation tree ${tree}: ${message}`);
}

/**
 * Checks tree number `index` against the rules above; returns each node's depth.
 *
 * @example
 *   checkIsolationTree(tree, 0, { width: 39, subsampleSize: 256, heightLimit: 8 });
 */
export function checkIsolationTree(tree: IsolationTreeArrays, index: number, limits: TreeLimits): Int32Array {
  const { feature, split, left, right, size } = tree;
  const n = feature.length;
  if (n < 1 || n > 2 * limits.subsampleSize - 1) throw invalid(index, `it must have 1 to 2ψ − 1 = ${2 * limits.subsampleSize - 1} nodes`);
  if (split.length !== n || left.length !== n || right.length !== n || size.length !== n) throw invalid(index, 'its node arrays differ in length');
  if (size[0] !== limits.subsampleSize) throw invalid(index, 'the root does not hold the subsample');
  const depth = new Int32Array(n);
  const parents = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (i > 0 && parents[i] !== 1) throw invalid(index, `node ${i} does not have exactly one parent`);
    const f = feature[i]!;
    if (f === -1) {
      if (left[i] !== -1 || right[i] !== -1) throw invalid(index, `external node ${i} has children`);
      if (!(size[i]! >= 1)) throw invalid(index, `external node ${i} is empty`);
      continue;
    }
    if (!(f >= 0 && f < limits.width)) throw invalid(index, `node ${i} splits on a column outside the row`);
    if (!Number.isFinite(split[i]!)) throw invalid(index, `node ${i} has a split value that is not a finite number`);
    if (depth[i]! >= limits.heightLimit) throw invalid(index, `node ${i} is deeper than the height limit`);
    const l = left[i]!;
    const r = right[i]!;
    if (!(l > i && l < n && r > i && r < n && l !== r)) throw invalid(index, `node ${i} has a child index that does not point forward inside the tree`);
    parents[l]! += 1;
    parents[r]! += 1;
    if (parents[l]! > 1 || parents[r]! > 1) throw invalid(index, `a child of node ${i} has two parents`);
    if (!(size[l]! >= 1 && size[r]! >= 1 && size[l]! + size[r]! === size[i])) throw invalid(index, `the sizes below node ${i} do not add up`);
    depth[l] = depth[i]! + 1;
    depth[r] = depth[i]! + 1;
  }
  return depth;
}
