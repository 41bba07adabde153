/**
 * Inclusion proofs (RFC 9162 §2.1.3): every transparency-dev/merkle vector, positive and
 * negative; generated proofs equal the RFC's PATH and verify; any flipped bit, other
 * index, other size, truncated or extended proof fails with a typed error.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CustodiaError } from '../../src/kernel/index.js';
import { generateInclusionProof, planInclusionProof, rootFromInclusionProof, verifyInclusion } from '../../src/ledger/inclusion-proof.js';
import { hashLeaf } from '../../src/ledger/merkle-hash.js';
import { isProofMismatch } from '../../src/ledger/proof-error.js';
import { nodeStore, seededLeaves, sparseTree } from './node-store.js';
import { mth, path } from './rfc-oracle.js';
import { runs } from './seeded.js';
import { inclusionVectors, referenceTree } from './vectors.js';

const malformed = expect.objectContaining({ code: 'ledger-invalid' });
const LEAVES = seededLeaves(1100, 'inclusion');
const STORE = nodeStore(LEAVES);
const ROOTS = Array.from({ length: LEAVES.length + 1 }, (_, n) => (n <= 70 || n % 97 === 0 ? mth(LEAVES.slice(0, n)) : undefined));
const rootOf = (n: number): Buffer => ROOTS[n] ?? (ROOTS[n] = mth(LEAVES.slice(0, n)));

/** A tree size and a leaf in it. */
const sizeAndIndex = fc.integer({ min: 1, max: LEAVES.length }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));

function rejects(run: () => void): void {
  expect(run).toThrow(CustodiaError);
}

describe('transparency-dev/merkle inclusion vectors', () => {
  const vectors = inclusionVectors();
  const { leafInputs, roots } = referenceTree();

  it('are all here', () => {
    expect(vectors.length).toBe(98);
    expect(vectors.filter((v) => !v.wantErr).length).toBe(6);
  });

  it.each(vectors)('$file: $desc (wantErr $wantErr)', (v) => {
    const run = () => verifyInclusion(v.leafIdx, v.treeSize, v.leafHash, v.proof, v.root);
    if (v.wantErr) rejects(run);
    else expect(run).not.toThrow();
  });

  it.each(vectors.filter((v) => !v.wantErr && v.treeSize <= 8 && roots[v.treeSize]!.equals(v.root)))(
    'generates the proof of $file from the reference leaves',
    (v) => {
      const store = nodeStore(leafInputs.map(hashLeaf));
      expect(generateInclusionProof(store, v.leafIdx, v.treeSize)).toEqual(v.proof);
    },
  );
});

describe('inclusion proofs (RFC 9162 §2.1.3)', () => {
  test.prop([sizeAndIndex], runs(300))('a generated proof is the RFC PATH and verifies', ([n, m]) => {
    const proof = generateInclusionProof(STORE, m, n);
    if (n <= 200) expect(proof).toEqual(path(m, LEAVES.slice(0, n)));
    expect(proof.length).toBe(planInclusionProof(m, n).elements.length);
    expect(rootFromInclusionProof(m, n, LEAVES[m]!, proof).equals(rootOf(n))).toBe(true);
    expect(() => verifyInclusion(m, n, LEAVES[m]!, proof, rootOf(n))).not.toThrow();
  });

  test.prop([sizeAndIndex, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.constantFrom('proof', 'leaf', 'root')], runs(300))(
    'fails on any single flipped bit, as a mismatch',
    ([n, m], at, bit, where) => {
      const proof = generateInclusionProof(STORE, m, n);
      const leaf = Buffer.from(LEAVES[m]!);
      const root = Buffer.from(rootOf(n));
      const target = where === 'proof' && proof.length > 0 ? proof[at % proof.length]! : where === 'root' ? root : leaf;
      target[Math.floor(at / 7) % 32]! ^= 1 << bit;
      let error: unknown;
      try {
        verifyInclusion(m, n, leaf, proof, root);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CustodiaError);
      expect(isProofMismatch(error)).toBe(true);
    },
  );

  test.prop([sizeAndIndex, fc.integer({ min: 0, max: LEAVES.length - 1 })], runs(300))('fails for any other leaf index', ([n, m], other) => {
    fc.pre(other !== m);
    const proof = generateInclusionProof(STORE, m, n);
    rejects(() => verifyInclusion(other, n, LEAVES[m]!, proof, rootOf(n)));
  });

  test.prop([sizeAndIndex, fc.integer({ min: 1, max: LEAVES.length })], runs(300))('fails for any other tree size, with that size\'s root', ([n, m], other) => {
    fc.pre(other !== n && m < other);
    const proof = generateInclusionProof(STORE, m, n);
    rejects(() => verifyInclusion(m, other, LEAVES[m]!, proof, rootOf(other)));
  });

  test.prop([sizeAndIndex, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), fc.nat()], runs(300))(
    'fails when the proof is truncated or extended, before hashing anything',
    ([n, m], extra, atFront, cut) => {
      const proof = generateInclusionProof(STORE, m, n);
      const extended = atFront ? [Buffer.from(extra), ...proof] : [...proof, Buffer.from(extra)];
      expect(() => verifyInclusion(m, n, LEAVES[m]!, extended, rootOf(n))).toThrow(malformed);
      if (proof.length > 0) {
        const truncated = proof.filter((_, i) => i !== cut % proof.length);
        expect(() => verifyInclusion(m, n, LEAVES[m]!, truncated, rootOf(n))).toThrow(malformed);
      }
    },
  );

  it('refuses malformed, attacker-controlled input with ledger-invalid', () => {
    const proof = generateInclusionProof(STORE, 5, 8);
    const root = rootOf(8);
    const leaf = LEAVES[5]!;
    for (const [index, size] of [
      [8, 8],
      [0, 0],
      [-1, 8],
      [5, 2 ** 53],
      [5.5, 8],
      [Number.NaN, 8],
      [2 ** 64 - 1, 8],
    ] as const) {
      expect(() => verifyInclusion(index, size, leaf, proof, root)).toThrow(malformed);
    }
    expect(() => verifyInclusion(5, 8, leaf.subarray(1), proof, root)).toThrow(malformed);
    expect(() => verifyInclusion(5, 8, leaf, proof, root.subarray(1))).toThrow(malformed);
    expect(() => verifyInclusion(5, 8, leaf, [proof[0]!, proof[1]!.subarray(1), proof[2]!], root)).toThrow(malformed);
    expect(() => verifyInclusion(5, 8, leaf, 'abc' as unknown as Uint8Array[], root)).toThrow(malformed);
    expect(() => verifyInclusion(5, 8, leaf, [...proof, ...proof, ...proof], root)).toThrow(malformed);
  });

  it('reads each proof with one call to the store, for no more nodes than two per level', () => {
    const before = { ...STORE.reads };
    generateInclusionProof(STORE, 1000, 1099);
    expect(STORE.reads.calls - before.calls).toBe(1);
    expect(STORE.reads.nodes - before.nodes).toBeLessThanOrEqual(2 * 11);
  });

  it('works where sizes pass 2^32 (no 32-bit arithmetic)', () => {
    // A tree of 2^33 + 6 leaves: the proof for the last leaf climbs the right border.
    const n = 2 ** 33 + 6;
    const plan = planInclusionProof(n - 1, n);
    expect(plan.elements.map((e) => e.map((x) => `${x.level}/${x.index}`))).toEqual([['0/8589934596'], ['2/2147483648'], ['33/0']]);
    const marks = [0, 7, n - 3, n - 2, n - 1];
    const tree = sparseTree(new Map(marks.map((m) => [m, hashLeaf(Buffer.from(String(m)))])));
    const root = tree.root(n);
    for (const m of marks) {
      const proof = generateInclusionProof(tree, m, n);
      expect(() => verifyInclusion(m, n, tree.leaf(m), proof, root)).not.toThrow();
      expect(() => verifyInclusion(m, n, tree.leaf(m), proof, tree.root(n - 1))).toThrow(CustodiaError);
    }
    expect(() => verifyInclusion(n - 2, n, tree.leaf(n - 1), generateInclusionProof(tree, n - 1, n), root)).toThrow(CustodiaError);
  });
});
