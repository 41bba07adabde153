/**
 * C2SP tlog-tiles, "Merkle Tree" and "Log entries": the names of tiles and entry bundles
 * under a log's URL prefix, `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.
 *
 * - `<L>`: the tile level, decimal 0–63 without leading zeroes.
 * - `<N>`: the tile index, in zero-padded 3-digit path elements, all but the last with an
 *   `x` prefix (1234067 is `x001/x234/067`).
 * - `.p/<W>`: only for a partial tile, its width, decimal 1–255 without leading zeroes.
 *
 * A path is parsed only if it is the one canonical spelling of what it names.
 */
import { CustodiaError } from '../kernel/index.js';
import { malformedProof } from './proof-error.js';

/** Merkle levels per tile level: a tile is a subtree of height 8. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (2^TILE_HEIGHT). */
export const TILE_WIDTH = 256;
/** The highest tile level a path may name. */
export const MAX_TILE_LEVEL = 63;

/**
 * Tile `index` at tile level `level`: the hashes MTH(D[(index·256 + i)·256^level :
 * (index·256 + i + 1)·256^level]) for i < width. `width` is 256 for a full tile.
 */
export interface HashTile {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

/** Entry bundle `index`: the entries of level-0 tile `index`, `width` of them. */
export interface EntryBundle {
  readonly index: number;
  readonly width: number;
}

/** What a tile path names. */
export type TileRef = { readonly kind: 'hash'; readonly tile: HashTile } | { readonly kind: 'entries'; readonly bundle: EntryBundle };

function checkTileIndex(index: number, width: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new CustodiaError('internal', 'A tile has a non-negative safe integer index and a width of 1 to 256');
  }
}

/**
 * `<N>` of a tile path: 3-digit groups, every one but the last prefixed with `x`.
 *
 * @example
 *   tileIndexPath(1234067); // 'x001/x234/067'
 *   tileIndexPath(5);       // '005'
 */
export function tileIndexPath(index: number): string {
  checkTileIndex(index, 1);
  const groups: string[] = [];
  let rest = index;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

const suffix = (width: number): string => (width === TILE_WIDTH ? '' : `.p/${width}`);

/**
 * The path of a hash tile, relative to the log's prefix.
 *
 * @example
 *   hashTilePath({ level: 0, index: 1234067, width: 8 }); // 'tile/0/x001/x234/067.p/8'
 */
export function hashTilePath(tile: HashTile): string {
  checkTileIndex(tile.index, tile.width);
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > MAX_TILE_LEVEL) {
    throw new CustodiaError('internal', 'A tile level is 0 to 63');
  }
  return `tile/${tile.level}/${tileIndexPath(tile.index)}${suffix(tile.width)}`;
}

/**
 * The path of an entry bundle, relative to the log's prefix.
 *
 * @example
 *   entryBundlePath({ index: 2, width: 256 }); // 'tile/entries/002'
 */
export function entryBundlePath(bundle: EntryBundle): string {
  checkTileIndex(bundle.index, bundle.width);
  return `tile/entries/${tileIndexPath(bundle.index)}${suffix(bundle.width)}`;
}

// Up to six groups of three digits (10^18 > 2^53); the bounds are re-checked below.
const TILE_PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/){0,5}[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;
const MAX_PATH_LENGTH = 64;

/**
 * Parses a tile or entry-bundle path relative to the log's prefix. The path is
 * attacker-controlled (it is the request URL): it is length-checked before matching, and
 * accepted only in its canonical form (no leading zero groups such as `x000/001`, no
 * leading zeroes in `<L>` or `<W>`, `<L>` at most 63, `<W>` 1–255, `<N>` a safe integer).
 *
 * @example
 *   parseTilePath('tile/1/x001/234.p/17'); // { kind: 'hash', tile: { level: 1, index: 1234, width: 17 } }
 *   parseTilePath('tile/entries/000');     // { kind: 'entries', bundle: { index: 0, width: 256 } }
 */
export function parseTilePath(path: unknown): TileRef {
  if (typeof path !== 'string' || path.length > MAX_PATH_LENGTH) throw malformedProof('not a tile path');
  const m = TILE_PATH.exec(path);
  if (m === null) throw malformedProof('not a tile path');
  const [, levelText, indexText, widthText] = m as unknown as [string, string, string, string | undefined];
  const index = indexText.split('/').reduce((n, group) => n * 1000 + Number(group.replace('x', '')), 0);
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (!Number.isSafeInteger(index) || tileIndexPath(index) !== indexText) throw malformedProof('a tile index is written once, canonically');
  if (widthText !== undefined && width >= TILE_WIDTH) throw malformedProof('a partial tile is 1 to 255 hashes wide');
  if (levelText === 'entries') return { kind: 'entries', bundle: { index, width } };
  const level = Number(levelText);
  if (level > MAX_TILE_LEVEL) throw malformedProof('a tile level is 0 to 63');
  return { kind: 'hash', tile: { level, index, width } };
}
