/**
 * C2SP tlog-tiles, "Merkle Tree": which hash tiles a tree has, what they hold, and where
 * a node's hash can be found in them. Tile `N` at tile level `L` holds the hashes of the
 * complete subtrees at Merkle level 8L with indexes N·256 … N·256+255; "the Merkle Tree
 * levels between those expressed by the tile hashes are reconstructed by hashing".
 *
 * "The partial tile at level l for a tree of size s has floor(s / 256**l) mod 256
 * entries"; a tree of size 70,000 has 273 full level-0 tiles, a partial one of width 112,
 * one full level-1 tile, a partial one of width 17 and a partial level-2 tile of width 1.
 */
import { isHash, HASH_SIZE } from './merkle-hash.js';
import { readHashesChecked, type HashReader } from './hash-reader.js';
import { malformedProof } from './proof-error.js';
import { TILE_HEIGHT, TILE_WIDTH, type HashTile } from './tile-path.js';
import { TreeBuilder } from './tree-builder.js';
import { checkTreeSize, type TreeNode } from './tree-math.js';

/** Hashes at tile level `level` of a tree of `size` leaves (complete 256^level-leaf subtrees). */
function hashesAtLevel(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * The width of tile (`level`, `index`) in a tree of `size` leaves: 256 when full, 0 when
 * the tree does not reach it yet.
 *
 * @example
 *   tileWidth(0, 273, 70_000); // 112
 *   tileWidth(1, 1, 70_000);   // 17
 */
export function tileWidth(level: number, index: number, size: number): number {
  return Math.max(0, Math.min(TILE_WIDTH, hashesAtLevel(level, size) - index * TILE_WIDTH));
}

/**
 * The tiles of every level whose content differs between the trees of `oldSize` and
 * `newSize` leaves, lowest level first: what a sequencer writes after appending a batch
 * (each one at the width of the new size). From size 0 it is every tile of the tree.
 *
 * @example
 *   changedTiles(0, 256);   // [{ level 0, index 0, width 256 }, { level 1, index 0, width 1 }]
 *   changedTiles(256, 300); // [{ level 0, index 1, width 44 }]
 */
export function changedTiles(oldSize: number, newSize: number): HashTile[] {
  checkTreeSize(oldSize, 'old tree size');
  checkTreeSize(newSize, 'new tree size');
  if (oldSize > newSize) throw malformedProof('a tree does not shrink');
  const tiles: HashTile[] = [];
  for (let level = 0; TILE_WIDTH ** level <= newSize; level++) {
    const before = hashesAtLevel(level, oldSize);
    const after = hashesAtLevel(level, newSize);
    if (after === before) continue; // then every level above is unchanged too
    for (let index = Math.floor(before / TILE_WIDTH); index * TILE_WIDTH < after; index++) {
      tiles.push({ level, index, width: Math.min(TILE_WIDTH, after - index * TILE_WIDTH) });
    }
  }
  return tiles;
}

/**
 * The complete subtrees whose hashes `tile` holds, in order.
 *
 * @example
 *   tileNodes({ level: 1, index: 0, width: 2 }); // [{ level: 8, index: 0 }, { level: 8, index: 1 }]
 */
export function tileNodes(tile: HashTile): TreeNode[] {
  const level = tile.level * TILE_HEIGHT;
  return Array.from({ length: tile.width }, (_, i) => ({ level, index: tile.index * TILE_WIDTH + i }));
}

/**
 * The bytes of `tile` from stored node hashes: its hashes concatenated (C2SP: "Full tiles
 * MUST be exactly 256 hashes wide, or 8,192 bytes").
 *
 * @example
 *   readTile(store, { level: 0, index: 273, width: 112 }).length; // 3584
 */
export function readTile(reader: HashReader, tile: HashTile): Buffer {
  return Buffer.concat(readHashesChecked(reader, tileNodes(tile)));
}

/**
 * Splits the bytes of a fetched tile into its hashes. The bytes are attacker-controlled
 * (they come from the network or a mirror): anything but exactly `width` hashes is refused.
 *
 * @example
 *   splitTile({ level: 0, index: 0, width: 3 }, bytes); // three 32-byte Buffers
 */
export function splitTile(tile: HashTile, bytes: Uint8Array): Buffer[] {
  if (!(bytes instanceof Uint8Array) || bytes.length !== tile.width * HASH_SIZE) {
    throw malformedProof(`tile ${tile.level}/${tile.index} of width ${tile.width} is ${tile.width * HASH_SIZE} bytes`);
  }
  return Array.from({ length: tile.width }, (_, i) => Buffer.from(bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)));
}

/**
 * Where the hash of complete subtree `node` of the tree of `size` leaves is found: the
 * tile at tile level floor(level / 8), at that tree size's width, and the slice
 * `[start, end)` of its hashes that the node covers (one hash when the node's level is a
 * multiple of 8, else 2^(level mod 8) hashes to hash together).
 *
 * @example
 *   nodeTile({ level: 3, index: 1 }, 20); // { tile: { level 0, index 0, width 20 }, start: 8, end: 16 }
 */
export function nodeTile(node: TreeNode, size: number): { tile: HashTile; start: number; end: number } {
  checkTreeSize(size, 'tree size');
  checkTreeSize(node.level, 'node level');
  checkTreeSize(node.index, 'node index');
  if ((node.index + 1) * 2 ** node.level > size) throw malformedProof('the node is not complete in this tree');
  const level = Math.floor(node.level / TILE_HEIGHT);
  const span = 2 ** (node.level - level * TILE_HEIGHT);
  const first = node.index * span; // its first hash at tile level `level`
  const index = Math.floor(first / TILE_WIDTH);
  const start = first - index * TILE_WIDTH;
  return { tile: { level, index, width: tileWidth(level, index, size) }, start, end: start + span };
}

/**
 * The hash of the complete subtree formed by `hashes` (a power of two of them, from a
 * tile slice): MTH with these hashes as its leaves' hashes.
 *
 * @example
 *   subtreeHash([h0, h1, h2, h3]); // hashChildren(hashChildren(h0, h1), hashChildren(h2, h3))
 */
export function subtreeHash(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0 || (hashes.length & (hashes.length - 1)) !== 0 || !hashes.every(isHash)) {
    throw malformedProof('a complete subtree has a power of two of 32-byte hashes');
  }
  const tree = new TreeBuilder();
  for (const h of hashes) tree.append(h);
  return tree.root();
}
