/**
 * Merkle audit paths (inclusion proofs): RFC 9162 §2.1.3. A proof that leaf m is in the
 * tree of size n is the list of sibling hashes from the leaf up to the root.
 */
import { hashChildren, isHash } from './merkle-hash.js';
import type { HashReader } from './hash-reader.js';
import { malformedProof, proofMismatch } from './proof-error.js';
import { readProof, type ProofPlan } from './proof-plan.js';
import { checkTreeSize, largestPowerOfTwoBelow, rangeNodes, type TreeNode } from './tree-math.js';
import { sameHash } from './same-hash.js';

/**
 * RFC 9162 §2.1.3.1: which subtrees make the audit path of leaf `index` in the tree of
 * `size` leaves, from the leaf's sibling up. The recursion
 *
 *   PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])    for m < k
 *   PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k]) for m >= k
 *
 * is walked from the top, noting the sibling at each step; the path is that list reversed.
 *
 * @example
 *   planInclusionProof(2, 5).elements; // [[leaf 3], [level 1 #0], [leaf 4]]
 */
export function planInclusionProof(index: number, size: number): ProofPlan {
  checkTreeSize(size, 'tree size');
  checkTreeSize(index, 'leaf index');
  if (index >= size) throw malformedProof(`leaf ${index} is not in a tree of ${size} leaves`);
  const siblings: TreeNode[][] = [];
  let start = 0;
  let width = size;
  while (width > 1) {
    const k = largestPowerOfTwoBelow(width);
    if (index - start < k) {
      siblings.push(rangeNodes(start + k, start + width));
      width = k;
    } else {
      siblings.push(rangeNodes(start, start + k));
      start += k;
      width -= k;
    }
  }
  return { elements: siblings.reverse() };
}

/**
 * The audit path of leaf `index` in the tree of `size` leaves, from stored node hashes.
 *
 * @example
 *   const proof = generateInclusionProof(store, 5, 8); // 3 hashes
 *   verifyInclusion(5, 8, leafHash, proof, root);
 */
export function generateInclusionProof(reader: HashReader, index: number, size: number): Buffer[] {
  return readProof(reader, planInclusionProof(index, size));
}

/**
 * RFC 9162 §2.1.3.2: the root an audit path leads to. Every argument is
 * attacker-controlled (it comes with the proof), so each is checked before any hashing:
 * sizes are safe integers, `index < size`, hashes are 32 bytes, and the path has exactly
 * the length a tree of that size needs (which also bounds the work).
 *
 * @example
 *   rootFromInclusionProof(5, 8, leafHash, proof); // compare with a signed checkpoint's root
 */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  const expected = planInclusionProof(index, size).elements.length;
  if (!isHash(leafHash)) throw malformedProof('a leaf hash is 32 bytes');
  if (!Array.isArray(proof) || proof.length !== expected || !proof.every(isHash)) {
    throw malformedProof(`an inclusion proof for leaf ${index} of ${size} has ${expected} hashes of 32 bytes`);
  }
  // §2.1.3.2 steps 2–5, with fn and sn halved by division (they may exceed 32 bits). The
  // exact length checked above already makes steps 4a and 5's "sn is 0" hold; they stay,
  // as the RFC wrote them, in case that check is ever loosened.
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) throw malformedProof('the inclusion proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      // ii: on the right border, climb to where fn is a right child again (or the top).
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw malformedProof('the inclusion proof is too short');
  return r;
}

/**
 * RFC 9162 §2.1.3.2: checks that leaf `index`, with hash `leafHash`, is in the tree of
 * `size` leaves whose root is `root`. Throws (malformed or mismatch, see proof-error.ts)
 * unless it is. `size` and `root` must come together from one verified checkpoint: a proof
 * is only evidence about the tree that the pair names.
 *
 * @example
 *   verifyInclusion(entry.index, checkpoint.size, hashLeaf(entry.bytes), proof, checkpoint.root);
 */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  if (!isHash(root)) throw malformedProof('a root hash is 32 bytes');
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!sameHash(computed, root)) throw proofMismatch(`leaf ${index} is not in the tree of ${size} leaves with this root`);
}
