/**
 * RFC 9162 §2.1.1: the Merkle Tree Hash (MTH) of a list of leaves, computed the way the
 * RFC's note allows, iteratively (see tree-builder.ts): O(n) hashes, O(log n) memory,
 * and the leaves may be streamed from storage rather than held in memory.
 */
import { emptyTreeHash } from './merkle-hash.js';
import { readHashesChecked, type HashReader } from './hash-reader.js';
import { foldRange } from './proof-plan.js';
import { TreeBuilder } from './tree-builder.js';
import { checkTreeSize, rangeNodes } from './tree-math.js';

/**
 * MTH(D[0:n]) of the given leaf hashes (each `hashLeaf(entry)`).
 *
 * @example
 *   merkleRoot([]);                                       // SHA-256 of the empty string
 *   merkleRoot(entries.map(hashLeaf)).toString('hex');
 */
export function merkleRoot(leafHashes: Iterable<Uint8Array>): Buffer {
  const tree = new TreeBuilder();
  for (const h of leafHashes) tree.append(h);
  return tree.root();
}

/**
 * MTH(D[0:size]) from stored node hashes alone: the frontier `rangeNodes(0, size)` read
 * through `reader` and folded, O(log n) reads, so the root of any earlier size is cheap.
 *
 * @example
 *   rootFromReader(store, 70_000); // equals the root the sequencer signed at size 70000
 */
export function rootFromReader(reader: HashReader, size: number): Buffer {
  checkTreeSize(size, 'tree size');
  if (size === 0) return emptyTreeHash();
  return foldRange(readHashesChecked(reader, rangeNodes(0, size)));
}
