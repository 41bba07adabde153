/**
 * The port through which proofs, roots and tiles read the hashes of complete subtrees
 * that a store persisted (or a verifier fetched): the consumer owns it and implements it
 * over whatever holds them, e.g. a table keyed by {@link storedHashIndex}, or tiles.
 */
import { isHash } from './merkle-hash.js';
import { malformedProof } from './proof-error.js';
import type { TreeNode } from './tree-math.js';

/**
 * Reads the hashes of complete subtrees. Every node asked for lies inside the tree the
 * caller named, so a store that has that tree has them all.
 */
export interface HashReader {
  /** The hashes of `nodes`, in the same order; throws if it lacks one. */
  readHashes(nodes: readonly TreeNode[]): readonly Uint8Array[];
}

/**
 * Reads `nodes` through `reader` and checks what came back: as many hashes as asked
 * for, each {@link HASH_SIZE} bytes (a store or tile is outside this module's trust).
 *
 * @example
 *   const [root] = readHashesChecked(reader, [{ level: 3, index: 0 }]);
 */
export function readHashesChecked(reader: HashReader, nodes: readonly TreeNode[]): readonly Uint8Array[] {
  if (nodes.length === 0) return [];
  const hashes = reader.readHashes(nodes);
  if (hashes.length !== nodes.length || !hashes.every(isHash)) {
    throw malformedProof(`the hash reader returned ${hashes.length} values for ${nodes.length} nodes, or one that is not a 32-byte hash`);
  }
  return hashes;
}
