/**
 * Integer arithmetic on tree sizes and positions, and the complete subtrees a range of
 * leaves splits into (RFC 9162 §2.1.1's recursion, read as binary arithmetic).
 *
 * Sizes and indexes are JavaScript numbers and must be safe integers (below 2^53). The
 * bitwise operators of JavaScript work on 32 bits only, so nothing here shifts a size:
 * halving is a division, and bit counts split a number into its high and low 32 bits.
 */
import { malformedProof } from './proof-error.js';

const TWO_32 = 2 ** 32;

/**
 * A complete (perfect) subtree: the `2^level` leaves `[index·2^level, (index+1)·2^level)`.
 * Level 0 nodes are leaves. Every hash a store keeps or a tile holds is one of these.
 */
export interface TreeNode {
  readonly level: number;
  readonly index: number;
}

/**
 * Parses a tree size or leaf index that came from outside (a URL, a checkpoint, a proof
 * file): attacker-controlled, so anything but a non-negative safe integer is refused.
 *
 * @example
 *   checkTreeSize(70_000, 'tree size'); // 70000
 *   checkTreeSize(2 ** 64, 'leaf index'); // throws ledger-invalid
 */
export function checkTreeSize(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformedProof(`the ${what} must be a non-negative integer below 2^53`);
  }
  return value;
}

function popCount32(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * The number of bits needed to write `n` (0 for 0): `bits.Len64`.
 *
 * @example
 *   bitLength(8); // 4
 */
export function bitLength(n: number): number {
  return n >= TWO_32 ? 64 - Math.clz32(Math.floor(n / TWO_32)) : 32 - Math.clz32(n);
}

/**
 * The number of one bits of `n`.
 *
 * @example
 *   popCount(7); // 3
 */
export function popCount(n: number): number {
  return popCount32(n % TWO_32) + popCount32(Math.floor(n / TWO_32));
}

/**
 * The number of trailing zero bits of `n > 0` (64 for 0, like `bits.TrailingZeros64`).
 *
 * @example
 *   trailingZeros(12); // 2
 */
export function trailingZeros(n: number): number {
  if (n === 0) return 64;
  const low = n % TWO_32;
  if (low !== 0) return 31 - Math.clz32(low & -low);
  return 32 + trailingZeros(Math.floor(n / TWO_32));
}

/**
 * RFC 9162 §2.1.1: "k … the largest power of two smaller than n", for `n > 1`.
 *
 * @example
 *   largestPowerOfTwoBelow(5); // 4
 *   largestPowerOfTwoBelow(4); // 2
 */
export function largestPowerOfTwoBelow(n: number): number {
  return 2 ** (bitLength(n - 1) - 1);
}

/** The leaves `[start, end)` a node spans. */
export function nodeRange(node: TreeNode): { start: number; end: number } {
  const width = 2 ** node.level;
  return { start: node.index * width, end: (node.index + 1) * width };
}

/**
 * The leaves `[begin, end)` as the fewest complete subtrees, left to right: each as large
 * as its alignment and the remaining range allow (a "compact range"). For `[0, n)` these
 * are one subtree per one bit of `n`, largest first: the frontier of a tree of size n.
 * For a right part `[k, n)` of RFC 9162's recursion, MTH(D[k:n]) is the hash of these
 * subtrees folded from the right (see {@link foldRange} in proof-plan.ts).
 *
 * @example
 *   rangeNodes(0, 7); // [{level 2, index 0}, {level 1, index 2}, {level 0, index 6}]
 *   rangeNodes(3, 8); // [{level 0, index 3}, {level 2, index 1}]
 */
export function rangeNodes(begin: number, end: number): TreeNode[] {
  const nodes: TreeNode[] = [];
  let at = begin;
  while (at < end) {
    const level = Math.min(bitLength(end - at) - 1, trailingZeros(at));
    const width = 2 ** level;
    nodes.push({ level, index: at / width });
    at += width;
  }
  return nodes;
}
