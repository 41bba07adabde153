/**
 * Proofs from tiles: computed from tiles served for a tree size, they equal the proofs
 * computed from the store directly, verify against the root, and fetch each needed tile
 * once at the width that size implies. Wrong tiles never verify.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CustodiaError } from '../../src/kernel/index.js';
import { generateConsistencyProof } from '../../src/ledger/consistency-proof.js';
import { readTile, tileWidth } from '../../src/ledger/hash-tile.js';
import { generateInclusionProof } from '../../src/ledger/inclusion-proof.js';
import { emptyTreeHash } from '../../src/ledger/merkle-hash.js';
import { rootFromReader } from '../../src/ledger/merkle-root.js';
import { isProofMismatch } from '../../src/ledger/proof-error.js';
import {
  consistencyProofFromTiles,
  inclusionProofFromTiles,
  readNodesFromTiles,
  rootFromTiles,
  verifyConsistencyFromTiles,
  verifyInclusionFromTiles,
  type TileFetcher,
} from '../../src/ledger/tile-proofs.js';
import type { HashTile } from '../../src/ledger/tile-path.js';
import { nodeStore, seededLeaves } from './node-store.js';
import { mth } from './rfc-oracle.js';
import { runs } from './seeded.js';

const malformed = expect.objectContaining({ code: 'ledger-invalid' });
const N = 70_000;
const LEAVES = seededLeaves(N, 'tile-proofs');
const STORE = nodeStore(LEAVES);

/** A tile server for tree `size`: serves only tiles that exist at that size, at their width. */
function server(size: number, tamper?: (bytes: Buffer) => Buffer): { fetch: TileFetcher; asked: HashTile[] } {
  const asked: HashTile[] = [];
  const fetch: TileFetcher = async (tile) => {
    asked.push(tile);
    const width = tileWidth(tile.level, tile.index, size);
    if (width === 0 || width !== tile.width) throw new Error(`tile ${tile.level}/${tile.index}.p/${tile.width} is not served at size ${size}`);
    const bytes = readTile(STORE, tile);
    return tamper ? tamper(bytes) : bytes;
  };
  return { fetch, asked };
}

const sizeAndIndex = fc.integer({ min: 1, max: N }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));
const sizes = fc.tuple(fc.integer({ min: 1, max: N }), fc.integer({ min: 1, max: N })).map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]));

describe('proofs from tiles', () => {
  test.prop([sizeAndIndex], runs(150))('inclusion proofs equal the direct ones and verify', async ([n, m]) => {
    const { fetch, asked } = server(n);
    const proof = await inclusionProofFromTiles(fetch, m, n);
    expect(proof).toEqual(generateInclusionProof(STORE, m, n));
    const root = rootFromReader(STORE, n);
    await expect(verifyInclusionFromTiles(fetch, m, n, LEAVES[m]!, root)).resolves.toBeUndefined();
    const keys = asked.slice(0, asked.length / 2).map((t) => `${t.level}/${t.index}`);
    expect(new Set(keys).size).toBe(keys.length); // each tile fetched once per proof
  });

  test.prop([sizes], runs(150))('consistency proofs equal the direct ones and verify', async ([n1, n2]) => {
    const { fetch } = server(n2);
    const proof = await consistencyProofFromTiles(fetch, n1, n2);
    expect(proof).toEqual(generateConsistencyProof(STORE, n1, n2));
    await expect(verifyConsistencyFromTiles(fetch, n1, n2, rootFromReader(STORE, n1), rootFromReader(STORE, n2))).resolves.toBeUndefined();
  });

  test.prop([fc.integer({ min: 0, max: N })], runs(50))('the root from tiles is the tree\'s root', async (n) => {
    const expected = n <= 3000 ? mth(LEAVES.slice(0, n)) : rootFromReader(STORE, n);
    expect((await rootFromTiles(server(n).fetch, n)).equals(expected)).toBe(true);
  });

  it('gives the root of the spec\'s 70,000 example from its 3 rightmost partial tiles', async () => {
    const { fetch, asked } = server(N);
    expect((await rootFromTiles(fetch, N)).equals(mth(LEAVES))).toBe(true);
    expect(asked.map((t) => `${t.level}/${t.index}.p/${t.width}`).sort()).toEqual(['0/273.p/112', '1/1.p/17', '2/0.p/1']);
    expect((await rootFromTiles(fetch, 0)).equals(emptyTreeHash())).toBe(true);
  });

  test.prop([sizeAndIndex, fc.nat()], runs(100))('never verifies with tampered tiles', async ([n, m], at) => {
    const flip = (bytes: Buffer) => {
      const copy = Buffer.from(bytes);
      for (let i = at % 32; i < copy.length; i += 32) copy[i]! ^= 1; // every hash in the tile
      return copy;
    };
    const { fetch } = server(n, flip);
    const root = rootFromReader(STORE, n);
    let error: unknown;
    try {
      await verifyInclusionFromTiles(fetch, m, n, LEAVES[m]!, root);
    } catch (e) {
      error = e;
    }
    if (n === 1) expect(error).toBeUndefined(); // a one-leaf tree needs no tile
    else expect(isProofMismatch(error)).toBe(true);
  });

  it('refuses tiles of the wrong length, and passes on a fetcher\'s failure', async () => {
    const short = server(1000, (b) => b.subarray(1)).fetch;
    await expect(inclusionProofFromTiles(short, 3, 1000)).rejects.toEqual(malformed);
    const failing: TileFetcher = () => Promise.reject(new Error('offline'));
    await expect(consistencyProofFromTiles(failing, 3, 1000)).rejects.toThrow('offline');
    await expect(readNodesFromTiles(server(1000).fetch, 1000, [{ level: 10, index: 0 }])).rejects.toEqual(malformed);
    await expect(rootFromTiles(server(10).fetch, -1)).rejects.toEqual(malformed);
  });

  it('checks sizes and roots before fetching anything', async () => {
    const { fetch, asked } = server(1000);
    await expect(verifyConsistencyFromTiles(fetch, 0, 1000, emptyTreeHash(), emptyTreeHash())).rejects.toEqual(malformed);
    await expect(verifyInclusionFromTiles(fetch, 1000, 1000, LEAVES[0]!, emptyTreeHash())).rejects.toBeInstanceOf(CustodiaError);
    expect(asked).toEqual([]);
    // a synchronous fetcher is fine too
    const sync: TileFetcher = (tile) => readTile(STORE, tile);
    expect(await inclusionProofFromTiles(sync, 17, 1000)).toEqual(generateInclusionProof(STORE, 17, 1000));
  });
});
