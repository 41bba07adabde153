/**
 * One sequence number for every node hash a log ever stores, so a store can keep them in
 * one append-only table (or file) keyed by an integer. The order is the order of
 * appending (the scheme of the Go checksum database, golang.org/x/mod/sumdb/tlog): leaf
 * m's hash, then the hashes of the subtrees leaf m completes, lowest first, i.e. exactly
 * what TreeBuilder's `onNode` reports. Node hashes never change once stored, so proofs
 * (RFC 9162 §2.1.3, §2.1.4) and tiles (C2SP tlog-tiles) are served from this table
 * without recomputing from the leaves.
 *
 * Before leaf m come `m + m/2 + m/4 + …` hashes (integer halving), which is
 * `2m − popcount(m)`. Tree size n stores `2n − popcount(n)` hashes in all.
 */
import { malformedProof } from './proof-error.js';
import { checkTreeSize, popCount, type TreeNode } from './tree-math.js';

// 2m stays a safe integer.
const MAX_LEAF = 2 ** 51;

function leafStart(m: number): number {
  return 2 * m - popCount(m);
}

/**
 * The sequence number of `node`'s hash.
 *
 * @example
 *   storedHashIndex({ level: 0, index: 2 }); // 3 (after leaf 0, leaf 1 and their parent)
 *   storedHashIndex({ level: 2, index: 0 }); // 6
 */
export function storedHashIndex(node: TreeNode): number {
  checkTreeSize(node.level, 'node level');
  checkTreeSize(node.index, 'node index');
  // The leaf whose append completes the node is its last one.
  const last = (node.index + 1) * 2 ** node.level - 1;
  if (!(last < MAX_LEAF)) throw malformedProof('the node lies beyond 2^51 leaves');
  return leafStart(last) + node.level;
}

/**
 * The node whose hash has sequence number `stored` (the inverse of storedHashIndex).
 *
 * @example
 *   storedHashNode(6); // { level: 2, index: 0 }
 */
export function storedHashNode(stored: number): TreeNode {
  checkTreeSize(stored, 'stored hash index');
  if (!(stored < 2 * MAX_LEAF)) throw malformedProof('the stored hash index lies beyond 2^51 leaves');
  // The leaf m this hash was stored with is the last one with leafStart(m) <= stored;
  // leafStart(m) >= 2m - 53, so m is at most 27 above stored / 2.
  let m = Math.floor(stored / 2);
  while (leafStart(m + 1) <= stored) m++;
  const level = stored - leafStart(m);
  return { level, index: (m + 1) / 2 ** level - 1 };
}

/**
 * How many hashes a tree of `size` leaves has stored: the next sequence number.
 *
 * @example
 *   storedHashCount(4); // 7
 */
export function storedHashCount(size: number): number {
  checkTreeSize(size, 'tree size');
  if (!(size <= MAX_LEAF)) throw malformedProof('the tree is larger than 2^51 leaves');
  return leafStart(size);
}
