/**
 * MTH (RFC 9162 §2.1.1) computed iteratively: the reference roots for sizes 0–8; the
 * incremental builder's root equal to the recursive definition at every size; resuming
 * from a frontier; the nodes it reports, in stored-hash order; roots from stored nodes.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { hashLeaf } from '../../src/ledger/merkle-hash.js';
import { merkleRoot, rootFromReader } from '../../src/ledger/merkle-root.js';
import { storedHashCount, storedHashIndex } from '../../src/ledger/stored-hash-index.js';
import { TreeBuilder } from '../../src/ledger/tree-builder.js';
import { rangeNodes, type TreeNode } from '../../src/ledger/tree-math.js';
import { nodeStore, seededLeaves, sparseTree } from './node-store.js';
import { mth } from './rfc-oracle.js';
import { runs } from './seeded.js';
import { referenceTree } from './vectors.js';

const malformed = expect.objectContaining({ code: 'ledger-invalid' });
const { leafInputs, roots } = referenceTree();
const LEAVES = seededLeaves(600, 'merkle-root');
const STORE = nodeStore(LEAVES);

describe('merkleRoot and TreeBuilder (RFC 9162 §2.1.1)', () => {
  it('gives the RFC 6962 reference roots of sizes 0 to 8', () => {
    for (let n = 0; n <= 8; n++) {
      const leaves = leafInputs.slice(0, n).map(hashLeaf);
      expect(merkleRoot(leaves).toString('hex'), `size ${n}`).toBe(roots[n]!.toString('hex'));
      const tree = new TreeBuilder();
      for (const entry of leafInputs.slice(0, n)) tree.appendEntry(entry);
      expect(tree.root().equals(roots[n]!)).toBe(true);
    }
  });

  it('has the root of the recursive definition after every append', () => {
    const tree = new TreeBuilder();
    expect(tree.root().equals(mth([]))).toBe(true);
    for (let n = 1; n <= 300; n++) {
      tree.append(LEAVES[n - 1]!);
      expect(tree.size).toBe(n);
      expect(tree.root().equals(mth(LEAVES.slice(0, n))), `size ${n}`).toBe(true);
      expect(tree.frontier().length).toBe(tree.frontierNodes().length);
    }
  });

  test.prop([fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 600 })], runs(60))('resumes from a frontier as if it had never stopped', (a, b) => {
    const [at, end] = a <= b ? [a, b] : [b, a];
    const first = new TreeBuilder();
    for (const h of LEAVES.slice(0, at)) first.append(h);
    const resumed = TreeBuilder.resume(at, first.frontier());
    for (const h of LEAVES.slice(at, end)) resumed.append(h);
    expect(resumed.size).toBe(end);
    expect(resumed.root().equals(merkleRoot(LEAVES.slice(0, end)))).toBe(true);
    // the frontier is the stored hashes of rangeNodes(0, size)
    expect(resumed.frontier()).toEqual(STORE.readHashes(rangeNodes(0, end)));
  });

  it('reports every node as it is completed, in stored-hash order, with its hash', () => {
    const seen: { node: TreeNode; hash: Buffer }[] = [];
    const tree = new TreeBuilder({ onNode: (node, hash) => seen.push({ node, hash }) });
    for (const h of LEAVES.slice(0, 300)) tree.append(h);
    expect(seen.length).toBe(storedHashCount(300));
    seen.forEach(({ node, hash }, i) => {
      expect(storedHashIndex(node)).toBe(i);
      expect(hash.equals(STORE.levels[node.level]![node.index]!)).toBe(true);
    });
  });

  it('does not keep a reference to the caller\'s leaf buffer', () => {
    const scratch = Buffer.from(LEAVES[0]!);
    const tree = new TreeBuilder();
    tree.append(scratch);
    scratch.fill(0);
    expect(tree.root().equals(LEAVES[0]!)).toBe(true);
  });

  it('takes leaf hashes from any iterable and as plain Uint8Arrays', () => {
    function* gen() {
      for (const h of LEAVES.slice(0, 37)) yield new Uint8Array(h);
    }
    expect(merkleRoot(gen()).equals(mth(LEAVES.slice(0, 37)))).toBe(true);
    const backing = new Uint8Array(40);
    backing.set(LEAVES[0]!, 5);
    const view = backing.subarray(5, 37); // a view with a byte offset, not a Buffer
    expect(merkleRoot([view]).equals(LEAVES[0]!)).toBe(true);
  });

  it('refuses leaf hashes that are not 32 bytes and frontiers that do not fit the size', () => {
    const tree = new TreeBuilder();
    expect(() => tree.append(new Uint8Array(31))).toThrow(malformed);
    expect(() => tree.append('x'.repeat(32) as unknown as Uint8Array)).toThrow(malformed);
    expect(() => TreeBuilder.resume(3, [LEAVES[0]!])).toThrow(malformed);
    expect(() => TreeBuilder.resume(1, [Buffer.alloc(31)])).toThrow(malformed);
    expect(() => TreeBuilder.resume(-1, [])).toThrow(malformed);
    expect(() => TreeBuilder.resume(1, 'x' as unknown as Uint8Array[])).toThrow(malformed);
    expect(TreeBuilder.resume(0, []).root().equals(mth([]))).toBe(true);
  });

  it('stops at the largest safe size instead of miscounting', () => {
    const full = TreeBuilder.resume(Number.MAX_SAFE_INTEGER, Array.from({ length: 53 }, () => LEAVES[0]!));
    expect(() => full.append(LEAVES[1]!)).toThrow(malformed);
  });

  test.prop([fc.integer({ min: 0, max: 600 })], runs(100))('rootFromReader folds the stored frontier into the same root', (n) => {
    expect(rootFromReader(STORE, n).equals(merkleRoot(LEAVES.slice(0, n)))).toBe(true);
  });

  it('rootFromReader refuses bad sizes and a reader that answers wrongly', () => {
    expect(() => rootFromReader(STORE, -1)).toThrow(malformed);
    expect(() => rootFromReader({ readHashes: () => [] }, 3)).toThrow(malformed);
    expect(() => rootFromReader({ readHashes: (nodes) => nodes.map(() => Buffer.alloc(16)) }, 3)).toThrow(malformed);
  });

  it('agrees with the sparse test tree used for sizes past 2^32, small and large', () => {
    const marks = new Map([0, 3, 9, 17, 30].map((m) => [m, LEAVES[m]!]));
    const tree = sparseTree(marks);
    for (let n = 1; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => tree.leaf(i));
      expect(tree.root(n).equals(merkleRoot(leaves)), `size ${n}`).toBe(true);
      expect(tree.root(n).equals(mth(leaves))).toBe(true);
    }
    const big = sparseTree(new Map([[2 ** 40 + 1, LEAVES[1]!]]));
    for (const n of [2 ** 32 + 1, 2 ** 40 + 2, 2 ** 45 + 2 ** 40 + 7]) expect(rootFromReader(big, n).equals(big.root(n))).toBe(true);
  });
});
