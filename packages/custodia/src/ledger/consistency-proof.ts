/**
 * Merkle consistency proofs: RFC 9162 §2.1.4. A proof that the tree of size1 leaves is a
 * prefix of the tree of size2 leaves, i.e. that the log only appended in between.
 */
import { hashChildren, isHash } from './merkle-hash.js';
import type { HashReader } from './hash-reader.js';
import { malformedProof, proofMismatch } from './proof-error.js';
import { readProof, type ProofPlan } from './proof-plan.js';
import { sameHash } from './same-hash.js';
import { checkTreeSize, largestPowerOfTwoBelow, popCount, rangeNodes, type TreeNode } from './tree-math.js';

function checkSizes(size1: number, size2: number): void {
  checkTreeSize(size1, 'first tree size');
  checkTreeSize(size2, 'second tree size');
  if (size1 > size2) throw malformedProof(`a tree of ${size1} leaves cannot be a prefix of one of ${size2}`);
  // Every tree extends the empty one, so there is nothing to prove; asking is a mistake
  // (as in transparency-dev/merkle, whose vectors expect an error here).
  if (size1 === 0) throw malformedProof('a consistency proof from the empty tree proves nothing');
}

/**
 * RFC 9162 §2.1.4.1: which subtrees make the consistency proof from `size1` to `size2`
 * (0 < size1 <= size2; empty when they are equal). The recursion
 *
 *   SUBPROOF(m, D[m], true)  = {}
 *   SUBPROOF(m, D[m], false) = {MTH(D[m])}
 *   SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          for m <= k
 *   SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  for m > k
 *
 * is walked from the top, noting the sibling at each step.
 *
 * @example
 *   planConsistencyProof(6, 8).elements; // [[level 1 #2], [level 1 #3], [level 2 #0]]
 */
export function planConsistencyProof(size1: number, size2: number): ProofPlan {
  checkSizes(size1, size2);
  const siblings: TreeNode[][] = [];
  let start = 0;
  let width = size2;
  let m = size1;
  let whole = true; // b: the old tree is this whole subtree, so the verifier has its hash
  while (m !== width) {
    const k = largestPowerOfTwoBelow(width);
    if (m <= k) {
      siblings.push(rangeNodes(start + k, start + width));
      width = k;
    } else {
      siblings.push(rangeNodes(start, start + k));
      start += k;
      width -= k;
      m -= k;
      whole = false;
    }
  }
  siblings.reverse();
  return { elements: whole ? siblings : [rangeNodes(start, start + width), ...siblings] };
}

/**
 * The consistency proof from `size1` to `size2`, from stored node hashes.
 *
 * @example
 *   const proof = generateConsistencyProof(store, witness.size, checkpoint.size);
 */
export function generateConsistencyProof(reader: HashReader, size1: number, size2: number): Buffer[] {
  return readProof(reader, planConsistencyProof(size1, size2));
}

/**
 * RFC 9162 §2.1.4.2: checks that the tree of `size1` leaves with root `root1` is a prefix
 * of the tree of `size2` leaves with root `root2`. Everything is attacker-controlled and
 * checked before hashing; equal sizes need an empty proof and equal roots. Throws
 * (malformed or mismatch, see proof-error.ts) unless consistent.
 *
 * @example
 *   verifyConsistency(old.size, latest.size, proof, old.root, latest.root);
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  const expected = planConsistencyProof(size1, size2).elements.length;
  if (!isHash(root1) || !isHash(root2)) throw malformedProof('a root hash is 32 bytes');
  if (!Array.isArray(proof) || proof.length !== expected || !proof.every(isHash)) {
    throw malformedProof(`a consistency proof from ${size1} to ${size2} has ${expected} hashes of 32 bytes`);
  }
  if (size1 === size2) {
    if (!sameHash(root1, root2)) throw proofMismatch(`two different roots for the same size ${size1}`);
    return;
  }
  // Step 2: when size1 is a power of two, the old root is itself the first subtree.
  const path = popCount(size1) === 1 ? [root1, ...proof] : [...proof];
  // Steps 3–4. (The exact length checked above already makes step 6a and step 7's "sn is
  // 0" hold; they stay, as the RFC wrote them, in case that check is ever loosened.)
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  // Step 5.
  let fr: Buffer = Buffer.from(path[0]!);
  let sr = fr;
  // Step 6.
  for (const c of path.slice(1)) {
    if (sn === 0) throw malformedProof('the consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      // ii: on the right border, climb to where fn is a right child again (or the top).
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 7.
  if (sn !== 0) throw malformedProof('the consistency proof is too short');
  if (!sameHash(fr, root1)) throw proofMismatch(`the proof does not lead to the root of size ${size1}`);
  if (!sameHash(sr, root2)) throw proofMismatch(`the proof does not lead from size ${size1} to the root of size ${size2}`);
}
