/**
 * A proof, before any hash is read: for each element of an RFC 9162 inclusion or
 * consistency proof, the complete subtrees whose hashes make it. Planning is pure
 * arithmetic, so the same plan serves a synchronous store, an asynchronous one, and tiles
 * fetched over HTTP; {@link assembleProof} then turns the hashes into the proof.
 */
import { hashChildren, isHash } from './merkle-hash.js';
import { readHashesChecked, type HashReader } from './hash-reader.js';
import { malformedProof } from './proof-error.js';
import type { TreeNode } from './tree-math.js';

/**
 * Each element is either one complete subtree, or (for a right part MTH(D[k:n]) of the
 * recursion that is not a power of two wide) the compact range of `[k, n)`, left to right.
 */
export interface ProofPlan {
  readonly elements: readonly (readonly TreeNode[])[];
}

/** Every node of `plan`, in element order: what a reader is asked for. */
export function planNodes(plan: ProofPlan): TreeNode[] {
  return plan.elements.flat();
}

/**
 * The hash of a compact range `[k, n)` from its subtrees' hashes, left to right: RFC 9162
 * §2.1.1 splits at the largest power of two, which is the leftmost subtree, so the hash
 * is `hashChildren(h0, hashChildren(h1, … hashChildren(h(j-1), hj)))`.
 *
 * @example
 *   foldRange([a, b, c]); // hashChildren(a, hashChildren(b, c))
 */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  let at = hashes.length - 1;
  let acc: Buffer = Buffer.from(hashes[at]!);
  while (at > 0) acc = hashChildren(hashes[--at]!, acc);
  return acc;
}

/**
 * Turns the hashes of {@link planNodes}(plan), in that order, into the proof. The hashes
 * may come from anywhere (an async store, tiles): their count and sizes are checked.
 *
 * @example
 *   const plan = planInclusionProof(5, 8);
 *   const proof = assembleProof(plan, await store.read(planNodes(plan)));
 */
export function assembleProof(plan: ProofPlan, hashes: readonly Uint8Array[]): Buffer[] {
  const needed = plan.elements.reduce((n, e) => n + e.length, 0);
  if (hashes.length !== needed || !hashes.every(isHash)) throw malformedProof(`a proof needs ${needed} hashes of 32 bytes`);
  const proof: Buffer[] = [];
  let at = 0;
  for (const element of plan.elements) {
    proof.push(foldRange(hashes.slice(at, at + element.length)));
    at += element.length;
  }
  return proof;
}

/**
 * Reads the hashes a plan needs through `reader` (checked) and assembles the proof.
 *
 * @example
 *   readProof(store, planConsistencyProof(6, 8)); // [h(4:6), h(6:8), h(0:4)]
 */
export function readProof(reader: HashReader, plan: ProofPlan): Buffer[] {
  return assembleProof(plan, readHashesChecked(reader, planNodes(plan)));
}
