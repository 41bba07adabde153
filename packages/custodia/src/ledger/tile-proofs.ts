/**
 * Proofs from C2SP tlog-tiles: "Clients can fetch all the tiles they need in parallel and
 * compute any desired proof." An offline verifier (or a witness) that holds a trusted
 * checkpoint fetches the few tiles an RFC 9162 proof needs, computes the proof from them,
 * and verifies it against the checkpoint's root. Tiles are untrusted: a wrong tile yields
 * a proof that fails, never a false success.
 */
import { verifyConsistency, planConsistencyProof } from './consistency-proof.js';
import { emptyTreeHash } from './merkle-hash.js';
import { nodeTile, splitTile, subtreeHash } from './hash-tile.js';
import { planInclusionProof, verifyInclusion } from './inclusion-proof.js';
import { assembleProof, foldRange, planNodes, type ProofPlan } from './proof-plan.js';
import type { HashTile } from './tile-path.js';
import { checkTreeSize, rangeNodes, type TreeNode } from './tree-math.js';

/**
 * The port that fetches a hash tile's bytes (from `<prefix>/` + hashTilePath(tile), a
 * cache or a mirror). It is asked only for tiles at the width the tree size implies.
 */
export type TileFetcher = (tile: HashTile) => Promise<Uint8Array> | Uint8Array;

/**
 * The hashes of complete subtrees `nodes` of the tree of `size` leaves, from tiles: each
 * tile fetched once, all in parallel, and its length checked.
 *
 * @example
 *   await readNodesFromTiles(fetchTile, 70_000, [{ level: 9, index: 0 }]);
 */
export async function readNodesFromTiles(fetchTile: TileFetcher, size: number, nodes: readonly TreeNode[]): Promise<Buffer[]> {
  const places = nodes.map((node) => nodeTile(node, size));
  const tiles = new Map<string, { tile: HashTile; hashes?: Buffer[] }>();
  for (const { tile } of places) tiles.set(`${tile.level}/${tile.index}`, { tile });
  await Promise.all(
    [...tiles.values()].map(async (entry) => {
      entry.hashes = splitTile(entry.tile, await fetchTile(entry.tile));
    }),
  );
  return places.map(({ tile, start, end }) => subtreeHash(tiles.get(`${tile.level}/${tile.index}`)!.hashes!.slice(start, end)));
}

async function proofFromTiles(fetchTile: TileFetcher, size: number, plan: ProofPlan): Promise<Buffer[]> {
  return assembleProof(plan, await readNodesFromTiles(fetchTile, size, planNodes(plan)));
}

/**
 * RFC 9162 §2.1.3.1 from tiles: the audit path of leaf `index` in the tree of `size`.
 *
 * @example
 *   const proof = await inclusionProofFromTiles(fetchTile, 1234, checkpoint.size);
 */
export function inclusionProofFromTiles(fetchTile: TileFetcher, index: number, size: number): Promise<Buffer[]> {
  return proofFromTiles(fetchTile, size, planInclusionProof(index, size));
}

/**
 * RFC 9162 §2.1.4.1 from tiles: the consistency proof from `size1` to `size2`, read from
 * the tiles of the tree of `size2` leaves.
 *
 * @example
 *   const proof = await consistencyProofFromTiles(fetchTile, witnessed.size, checkpoint.size);
 */
export function consistencyProofFromTiles(fetchTile: TileFetcher, size1: number, size2: number): Promise<Buffer[]> {
  return proofFromTiles(fetchTile, size2, planConsistencyProof(size1, size2));
}

/**
 * MTH(D[0:size]) from tiles (its frontier's hashes, folded): lets a client check that the
 * tiles it was served belong to a checkpoint before using entries from them.
 *
 * @example
 *   sameHash(await rootFromTiles(fetchTile, checkpoint.size), checkpoint.root);
 */
export async function rootFromTiles(fetchTile: TileFetcher, size: number): Promise<Buffer> {
  checkTreeSize(size, 'tree size');
  if (size === 0) return emptyTreeHash();
  return foldRange(await readNodesFromTiles(fetchTile, size, rangeNodes(0, size)));
}

/**
 * Checks that leaf `index` with hash `leafHash` is in the tree of `size` leaves with the
 * trusted `root`, using a proof computed from (untrusted) tiles. Throws unless it is.
 *
 * @example
 *   await verifyInclusionFromTiles(fetchTile, entry.index, checkpoint.size, hashLeaf(entry.bytes), checkpoint.root);
 */
export async function verifyInclusionFromTiles(fetchTile: TileFetcher, index: number, size: number, leafHash: Uint8Array, root: Uint8Array): Promise<void> {
  verifyInclusion(index, size, leafHash, await inclusionProofFromTiles(fetchTile, index, size), root);
}

/**
 * Checks that the tree of `size1` leaves with trusted `root1` is a prefix of the tree of
 * `size2` leaves with trusted `root2`, using a proof computed from (untrusted) tiles.
 *
 * @example
 *   await verifyConsistencyFromTiles(fetchTile, old.size, latest.size, old.root, latest.root);
 */
export async function verifyConsistencyFromTiles(fetchTile: TileFetcher, size1: number, size2: number, root1: Uint8Array, root2: Uint8Array): Promise<void> {
  verifyConsistency(size1, size2, await consistencyProofFromTiles(fetchTile, size1, size2), root1, root2);
}
