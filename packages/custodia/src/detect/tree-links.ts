/**
 * The links of a tree kept as arrays by node (gbdt-tree.ts, random-forest.ts), checked
 * before any link is followed: the arrays come from model files, which are hostile input.
 * A tree is sound when every inner node's two children are distinct and numbered after it
 * (so no walk can cycle or read outside the tree), no node has two parents, and every node
 * but the root has one (so every node is reachable from the root). Leaves (feature < 0)
 * are the caller's to check.
 */

/** Throws `fail(node, problem)` for the first node whose links break the rules above. */
export function checkTreeLinks(feature: Int32Array, left: Int32Array, right: Int32Array, fail: (node: number, problem: string) => Error): void {
  const n = feature.length;
  const parents = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (feature[i]! < 0) continue;
    const l = left[i]!;
    const r = right[i]!;
    if (l <= i || r <= i || l === r || l >= n || r >= n) throw fail(i, 'has children not numbered after it');
    if (parents[l] === 1 || parents[r] === 1) throw fail(i, 'shares a child with another node');
    parents[l] = 1;
    parents[r] = 1;
  }
  for (let i = 1; i < n; i++) if (parents[i] !== 1) throw fail(i, 'is not reachable from the root');
}
