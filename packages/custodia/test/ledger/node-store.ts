/**
 * An in-memory store of every complete subtree's hash, computed level by level with the
 * oracle's node hash (not the code under test), behind the HashReader port. Complete
 * subtrees never change as a log grows, so one store of N leaves serves every tree size
 * up to N.
 */
import type { HashReader } from '../../src/ledger/hash-reader.js';
import type { TreeNode } from '../../src/ledger/tree-math.js';
import { seededRandom } from '../../src/kernel/index.js';
import { nodeHash } from './rfc-oracle.js';

export interface NodeStore extends HashReader {
  readonly leaves: readonly Buffer[];
  /** Every level: levels[l][i] is the hash of node (l, i). */
  readonly levels: readonly (readonly Buffer[])[];
  /** How many times readHashes was called, and for how many nodes in all. */
  readonly reads: { calls: number; nodes: number };
}

export function nodeStore(leaves: readonly Buffer[]): NodeStore {
  const levels: Buffer[][] = [[...leaves]];
  for (let below = levels[0]!; below.length > 1; ) {
    const above: Buffer[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) above.push(nodeHash(below[i]!, below[i + 1]!));
    levels.push(above);
    below = above;
  }
  const reads = { calls: 0, nodes: 0 };
  return {
    leaves,
    levels,
    reads,
    readHashes(nodes: readonly TreeNode[]) {
      reads.calls++;
      reads.nodes += nodes.length;
      return nodes.map(({ level, index }) => {
        const h = levels[level]?.[index];
        if (h === undefined) throw new Error(`no node ${level}/${index}`);
        return h;
      });
    },
  };
}

/** `n` random 32-byte leaf hashes, the same for the same seed. */
export function seededLeaves(n: number, seed: string): Buffer[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => random.bytes(32)); // 32 at a time: the generator copies its pool per call
}

/**
 * A tree too large to hold (sizes past 2^32), kept consistent: every leaf hash is the same
 * `Z` except at a few indexes, so a complete subtree without one of those is `Z` hashed up
 * its levels, and the rest is computed by the RFC's recursion (with the oracle's hash).
 */
export interface SparseTree extends HashReader {
  leaf(index: number): Buffer;
  /** MTH(D[0:size]) by RFC 9162 §2.1.1's recursion. */
  root(size: number): Buffer;
}

export function sparseTree(special: ReadonlyMap<number, Buffer>): SparseTree {
  const blank: Buffer[] = [Buffer.alloc(32, 0x5a)];
  for (let l = 1; l <= 53; l++) blank.push(nodeHash(blank[l - 1]!, blank[l - 1]!));
  const marks = [...special.keys()];
  const leaf = (i: number): Buffer => special.get(i) ?? blank[0]!;
  function node(level: number, index: number): Buffer {
    const width = 2 ** level;
    const start = index * width;
    if (!marks.some((m) => m >= start && m < start + width)) return blank[level]!;
    if (level === 0) return leaf(index);
    return nodeHash(node(level - 1, 2 * index), node(level - 1, 2 * index + 1));
  }
  function range(start: number, n: number): Buffer {
    if (n === 1) return leaf(start);
    let k = 1;
    while (k * 2 < n) k *= 2;
    const left = Math.log2(k);
    return nodeHash(node(left, start / k), (n - k) === k ? node(left, start / k + 1) : range(start + k, n - k));
  }
  return {
    leaf,
    root: (size) => range(0, size),
    readHashes: (nodes) => nodes.map(({ level, index }) => node(level, index)),
  };
}
