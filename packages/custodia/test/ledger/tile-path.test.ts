/**
 * C2SP tlog-tiles paths: the spec's examples, encode/parse round trips, and refusal of
 * every non-canonical or out-of-range spelling (a tile path is a request URL).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { entryBundlePath, hashTilePath, parseTilePath, tileIndexPath, type HashTile } from '../../src/ledger/tile-path.js';
import { runs } from './seeded.js';

const malformed = expect.objectContaining({ code: 'ledger-invalid' });

const tile = fc.record({
  level: fc.integer({ min: 0, max: 63 }),
  index: fc.oneof(fc.nat({ max: 5000 }), fc.maxSafeNat()),
  width: fc.oneof(fc.constant(256), fc.integer({ min: 1, max: 256 })),
});

describe('tile paths (C2SP tlog-tiles)', () => {
  it('encodes the spec\'s example index, and full and partial tiles', () => {
    expect(tileIndexPath(1234067)).toBe('x001/x234/067');
    expect(tileIndexPath(0)).toBe('000');
    expect(tileIndexPath(1000)).toBe('x001/000');
    expect(tileIndexPath(Number.MAX_SAFE_INTEGER)).toBe('x009/x007/x199/x254/x740/991');
    expect(hashTilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(hashTilePath({ level: 2, index: 0, width: 1 })).toBe('tile/2/000.p/1');
    expect(entryBundlePath({ index: 273, width: 112 })).toBe('tile/entries/273.p/112');
    expect(entryBundlePath({ index: 5, width: 256 })).toBe('tile/entries/005');
  });

  it('parses hash tiles and entry bundles', () => {
    expect(parseTilePath('tile/0/x001/x234/067')).toEqual({ kind: 'hash', tile: { level: 0, index: 1234067, width: 256 } });
    expect(parseTilePath('tile/63/000.p/255')).toEqual({ kind: 'hash', tile: { level: 63, index: 0, width: 255 } });
    expect(parseTilePath('tile/entries/x001/234.p/17')).toEqual({ kind: 'entries', bundle: { index: 1234, width: 17 } });
  });

  test.prop([tile], runs(500))('parse inverts encode', (t: HashTile) => {
    expect(parseTilePath(hashTilePath(t))).toEqual({ kind: 'hash', tile: t });
    expect(parseTilePath(entryBundlePath({ index: t.index, width: t.width }))).toEqual({ kind: 'entries', bundle: { index: t.index, width: t.width } });
  });

  it.each([
    'tile/00/000', // leading zero in <L>
    'tile/01/000',
    'tile/64/000', // level out of range
    'tile/-1/000',
    'tile/0/x000/001', // a leading zero group
    'tile/0/x000/000',
    'tile/0/1', // not three digits
    'tile/0/0001',
    'tile/0/x1/001',
    'tile/0/x001', // the last group has no x
    'tile/0/001/002', // a group before the last without x
    'tile/0/X001/002',
    'tile/0/000.p/0', // width 0
    'tile/0/000.p/256', // a partial tile is narrower than 256
    'tile/0/000.p/300',
    'tile/0/000.p/01', // leading zero in <W>
    'tile/0/000.p/',
    'tile/0/000.p',
    'tile/0/000/',
    '/tile/0/000',
    'tile/0/000?x',
    'tile//000',
    'tile/entries/000.p/256',
    'tile/entries/x000/001',
    'tile/data/000',
    'tiles/0/000',
    'tile/0/x009/x007/x199/x254/x740/993', // beyond 2^53
    'tile/0/x999/x999/x999/x999/x999/999',
    'tile/0/x001/x000/x000/x000/x000/x000/000', // seven groups
    'tile/0/٠٠٠', // Arabic-Indic digits
    'tile/0/00０', // a fullwidth digit
    'tile/0/000\n',
    `tile/0/${'x000/'.repeat(20)}001`, // long
    '',
  ])('refuses %j', (path) => {
    expect(() => parseTilePath(path)).toThrow(malformed);
  });

  it('refuses what is not a string', () => {
    for (const bad of [undefined, null, 5, ['tile/0/000'], { toString: () => 'tile/0/000' }]) expect(() => parseTilePath(bad)).toThrow(malformed);
  });

  test.prop([fc.array(fc.constantFrom('tile', 'entries', '/', 'x', '0', '1', '9', '00', '.p', '.', '255', '256', '63', '64'), { maxLength: 16 })], runs(2000))(
    'accepts a string only if it is the canonical path of what it names',
    (parts) => {
      const path = parts.join('');
      let parsed;
      try {
        parsed = parseTilePath(path);
      } catch (e) {
        expect(e).toEqual(malformed);
        return;
      }
      expect(parsed.kind === 'hash' ? hashTilePath(parsed.tile) : entryBundlePath(parsed.bundle)).toBe(path);
    },
  );

  it('will not encode tiles that cannot exist (a programming error)', () => {
    const internal = expect.objectContaining({ code: 'internal' });
    for (const bad of [
      { level: 0, index: -1, width: 1 },
      { level: 0, index: 0.5, width: 1 },
      { level: 0, index: 2 ** 53, width: 1 },
      { level: 0, index: 0, width: 0 },
      { level: 0, index: 0, width: 257 },
      { level: 64, index: 0, width: 1 },
      { level: 1.5, index: 0, width: 1 },
    ]) {
      expect(() => hashTilePath(bad)).toThrow(internal);
    }
    expect(() => entryBundlePath({ index: 0, width: 0 })).toThrow(internal);
    expect(() => tileIndexPath(-5)).toThrow(internal);
  });
});
