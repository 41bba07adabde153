/**
 * C2SP tlog-tiles hash tiles: the spec's worked examples (sizes 70,000 and 256), the
 * tiles that change as a tree grows, tile contents from stored hashes matching the
 * spec's MTH definition, and where each node's hash is found in a tile.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { changedTiles, nodeTile, readTile, splitTile, subtreeHash, tileNodes, tileWidth } from '../../src/ledger/hash-tile.js';
import type { HashTile } from '../../src/ledger/tile-path.js';
import { nodeStore, seededLeaves } from './node-store.js';
import { mth } from './rfc-oracle.js';
import { runs } from './seeded.js';

const malformed = expect.objectContaining({ code: 'ledger-invalid' });
const N = 70_000;
const LEAVES = seededLeaves(N, 'hash-tile');
const STORE = nodeStore(LEAVES);

const summary = (tiles: HashTile[]) => {
  const out: Record<string, number> = {};
  for (const t of tiles) out[`L${t.level} w${t.width}`] = (out[`L${t.level} w${t.width}`] ?? 0) + 1;
  return out;
};

/** Every tile of size s by the spec's definition, for comparison. */
function allTiles(size: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let level = 0; 256 ** level <= size; level++) {
    const count = Math.floor(size / 256 ** level);
    for (let index = 0; index * 256 < count; index++) m.set(`${level}/${index}`, Math.min(256, count - index * 256));
  }
  return m;
}

describe('hash tiles (C2SP tlog-tiles)', () => {
  it('gives the spec\'s tiles for a tree of 70,000 and of 256', () => {
    expect(summary(changedTiles(0, 70_000))).toEqual({ 'L0 w256': 273, 'L0 w112': 1, 'L1 w256': 1, 'L1 w17': 1, 'L2 w1': 1 });
    expect(changedTiles(0, 256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(changedTiles(0, 0)).toEqual([]);
    expect(changedTiles(256, 300)).toEqual([{ level: 0, index: 1, width: 44 }]);
    expect(tileWidth(0, 273, 70_000)).toBe(112);
    expect(tileWidth(1, 1, 70_000)).toBe(17);
    expect(tileWidth(0, 274, 70_000)).toBe(0);
  });

  test.prop([fc.nat({ max: 300_000 }), fc.nat({ max: 300_000 })], runs(200))('changedTiles lists exactly the tiles whose width grows', (a, b) => {
    const [oldSize, newSize] = a <= b ? [a, b] : [b, a];
    const before = allTiles(oldSize);
    const expected = [...allTiles(newSize)].filter(([key, w]) => before.get(key) !== w).map(([key, w]) => `${key}/${w}`);
    expect(changedTiles(oldSize, newSize).map((t) => `${t.level}/${t.index}/${t.width}`).sort()).toEqual(expected.sort());
  });

  it('refuses sizes that shrink or are not sizes', () => {
    expect(() => changedTiles(5, 4)).toThrow(malformed);
    expect(() => changedTiles(-1, 4)).toThrow(malformed);
    expect(() => changedTiles(0, 2 ** 53)).toThrow(malformed);
  });

  it('fills each tile with the spec\'s hashes: MTH(D[(n·256 + i)·256^l : (n·256 + i + 1)·256^l])', () => {
    for (const tile of [
      { level: 0, index: 3, width: 256 },
      { level: 0, index: 273, width: 112 },
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
      { level: 2, index: 0, width: 1 },
    ]) {
      const bytes = readTile(STORE, tile);
      expect(bytes.length).toBe(32 * tile.width);
      const hashes = splitTile(tile, bytes);
      const span = 256 ** tile.level;
      for (const i of [0, tile.width - 1]) {
        const start = (tile.index * 256 + i) * span;
        expect(hashes[i]!.equals(tile.level === 0 ? LEAVES[start]! : mth(LEAVES.slice(start, start + span)))).toBe(true);
      }
    }
    expect(tileNodes({ level: 1, index: 0, width: 2 })).toEqual([
      { level: 8, index: 0 },
      { level: 8, index: 1 },
    ]);
  });

  it('a level-1 hash is the hash of the full level-0 tile below it', () => {
    const level1 = splitTile({ level: 1, index: 0, width: 256 }, readTile(STORE, { level: 1, index: 0, width: 256 }));
    const level0 = splitTile({ level: 0, index: 5, width: 256 }, readTile(STORE, { level: 0, index: 5, width: 256 }));
    expect(subtreeHash(level0).equals(level1[5]!)).toBe(true);
  });

  test.prop([fc.integer({ min: 1, max: N }), fc.nat(), fc.nat({ max: 16 })], runs(300))('finds every complete node in the tile of the tree size', (size, pick, rawLevel) => {
    const level = Math.min(rawLevel, Math.floor(Math.log2(size)));
    const count = Math.floor(size / 2 ** level);
    const node = { level, index: pick % count };
    const { tile, start, end } = nodeTile(node, size);
    expect(tile.level).toBe(Math.floor(level / 8));
    expect(tile.width).toBe(tileWidth(tile.level, tile.index, size));
    expect(end - start).toBe(2 ** (level % 8));
    expect(end).toBeLessThanOrEqual(tile.width);
    const hashes = splitTile(tile, readTile(STORE, tile));
    expect(subtreeHash(hashes.slice(start, end)).equals(STORE.levels[level]![node.index]!)).toBe(true);
  });

  it('refuses nodes not complete in the tree, and tile bytes of the wrong length', () => {
    expect(() => nodeTile({ level: 0, index: 10 }, 10)).toThrow(malformed);
    expect(() => nodeTile({ level: 4, index: 0 }, 15)).toThrow(malformed);
    expect(() => nodeTile({ level: 0, index: -1 }, 15)).toThrow(malformed);
    expect(() => nodeTile({ level: 0, index: 0 }, -15)).toThrow(malformed);
    const t = { level: 0, index: 0, width: 3 };
    expect(() => splitTile(t, new Uint8Array(95))).toThrow(malformed);
    expect(() => splitTile(t, new Uint8Array(97))).toThrow(malformed);
    expect(() => splitTile(t, 'x'.repeat(96) as unknown as Uint8Array)).toThrow(malformed);
    expect(splitTile(t, new Uint8Array(96)).length).toBe(3);
    expect(() => subtreeHash([])).toThrow(malformed);
    expect(() => subtreeHash([LEAVES[0]!, LEAVES[1]!, LEAVES[2]!])).toThrow(malformed);
    expect(() => subtreeHash([LEAVES[0]!, Buffer.alloc(3)])).toThrow(malformed);
  });
});
