/**
 * Keyed blind indexes (issue 4): search values that identify a person — names,
 * identifiers, telecom, address, birth date — are stored only as HMAC-SHA256 under a
 * separate index key, never in clear. Equal inputs give equal outputs, so exact matching
 * still works in SQL; without the index key nothing can be computed or reversed. What it
 * still reveals is equality: two rows with the same value have the same index (see
 * docs/threat-model.md when the store uses it).
 *
 * Each index is domain-separated by purpose and parameter name, so the same text under
 * `family` and under `given` gives unrelated values. The output is the first 128 bits,
 * base64url: collisions are negligible at any vault size.
 */
import { CustodiaError } from '../kernel/index.js';
import { KEY_BYTES } from './aead.js';
import { HmacSha256, Sha256State } from './hmac-sha256.js';

const DOMAIN = 'custodia/blind-index/v1';
/** Prefixes are indexed up to this many characters; a longer search term matches on its first 64. */
export const MAX_PREFIX = 64;

function check(key: Uint8Array, param: string): void {
  if (key.length !== KEY_BYTES) throw new CustodiaError('internal', 'An index key is 32 bytes');
  if (param.length === 0 || param.length > 64 || param.includes('\u0000')) throw new CustodiaError('internal', 'A search parameter name is 1–64 characters');
}

/**
 * The blind index of `value` for search parameter `param`.
 *
 * @example
 *   blindIndex(indexKey, 'identifier', 'urn:oid:2.16.840.1.113883.4.1|999-99-9999'); // 'q3V…' (22 characters)
 */
export function blindIndex(key: Uint8Array, param: string, value: string): string {
  check(key, param);
  return base64url16(macOf(key).macInto(Buffer.from(`${DOMAIN}\u0000${param}\u0000${value}`, 'utf8'), DIGEST));
}

/**
 * The blind indexes of every prefix of an already normalised value (R4 search.html string
 * search: "starts with"), from one character up to {@link MAX_PREFIX}. Characters are code
 * points, so a prefix never splits a surrogate pair. Each equals
 * blindIndex(key, `${param}:prefix`, prefix) (a property test checks), computed
 * incrementally: the inner hash of prefix n+1 continues from prefix n's.
 */
export function blindPrefixes(key: Uint8Array, param: string, normalized: string): string[] {
  check(key, param);
  const mac = macOf(key);
  const inner = mac.begin(INNER, Buffer.from(`${DOMAIN}\u0000${param}:prefix\u0000`, 'utf8'));
  const bytes = Buffer.from(normalized, 'utf8');
  const out: string[] = [];
  for (let at = 0; at < bytes.length && out.length < MAX_PREFIX; ) {
    const end = at + utf8Length(bytes[at]!);
    inner.update(bytes, at, end);
    out.push(base64url16(mac.finishInto(inner, DIGEST)));
    at = end;
  }
  return out;
}

/** The bytes of the UTF-8 sequence a lead byte starts (Buffer.from never yields a malformed one). */
const utf8Length = (lead: number): number => (lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4);

const base64url16 = (digest: Uint8Array): string => Buffer.from(digest.buffer, digest.byteOffset, 16).toString('base64url');

/** Scratch space: blind indexes are computed synchronously, one at a time. */
const DIGEST = new Uint8Array(32);
const INNER = new Sha256State();

/** The keyed pads of each index key, hashed once. */
const macs = new WeakMap<Uint8Array, HmacSha256>();

/** Forgets the pads derived from `key`, and the indexes remembered under it (the key store calls it when it closes and wipes the key). */
export function forgetBlindIndexKey(key: Uint8Array): void {
  macs.delete(key);
  remembered.delete(key);
}

/**
 * Blind indexes already made, per index key, for values that searches name again and
 * again: a birth-date range is up to a few hundred tokens (a `ge` birth date: one a year
 * until 2150), the same ones search after search, and their HMACs took 0.9 ms a search
 * (200 searches in a loop, 201 tokens each). They are what the index already stores, not
 * secrets. Bounded: emptied when it would pass {@link REMEMBERED} entries.
 */
const remembered = new WeakMap<Uint8Array, Map<string, string>>();
const REMEMBERED = 8192;

/** {@link blindIndex}, remembered (see above). */
export function rememberedBlindIndex(key: Uint8Array, param: string, value: string): string {
  let memo = remembered.get(key);
  if (memo === undefined) remembered.set(key, (memo = new Map()));
  const id = `${param}\u0000${value}`;
  let index = memo.get(id);
  if (index === undefined) {
    index = blindIndex(key, param, value);
    if (memo.size >= REMEMBERED) memo.clear();
    memo.set(id, index);
  }
  return index;
}

function macOf(key: Uint8Array): HmacSha256 {
  let m = macs.get(key);
  if (m === undefined) macs.set(key, (m = new HmacSha256(key)));
  return m;
}

/**
 * Prefixes up to this many characters get an index row of their own; the blind indexes of
 * the longer ones travel in the last row's {@link BlindPrefixRows.tail}. Three characters
 * already narrow a name to a few candidates, and a 25-character address line then costs
 * three index rows instead of twenty-five.
 */
export const PREFIX_ROWS = 3;
/**
 * Head-row counts that stored rows of earlier releases use (searches still find them):
 * four head rows with a tail. Rows of one row per prefix are found through `whole`.
 */
export const EARLIER_PREFIX_ROWS: readonly number[] = [4];
/** Characters per blind prefix in a tail: the first 96 bits, base64url. */
export const TAIL_CHARS = 16;

/** How a value's prefixes are stored: one row per head, the rest in the last head's tail. */
export interface BlindPrefixRows {
  /** The blind indexes of the prefixes of 1 … min(length, {@link PREFIX_ROWS}) characters. */
  readonly heads: readonly string[];
  /**
   * The blind indexes of the prefixes of {@link PREFIX_ROWS}+1 … length characters, each cut to
   * {@link TAIL_CHARS}, in order; stored with the last head. Absent for short values.
   */
  readonly tail?: string;
}

/** {@link blindPrefixes}, laid out as stored rows. */
export function blindPrefixRows(key: Uint8Array, param: string, normalized: string, headRows = PREFIX_ROWS): BlindPrefixRows {
  const all = blindPrefixes(key, param, normalized);
  if (all.length <= headRows) return { heads: all };
  return { heads: all.slice(0, headRows), tail: all.slice(headRows).map((p) => p.slice(0, TAIL_CHARS)).join('') };
}

/**
 * What a search term looks up among stored prefix rows: a row whose value is `whole`, the
 * term's own blind prefix (a head row when the term is short, or a row of the layout with
 * one row per prefix); or, for each layout with fewer head rows than the term has
 * characters, a row whose value is that layout's last head and whose tail holds the term's
 * blind index (cut to {@link TAIL_CHARS}) at `at` (1-based, as SQL's substr).
 */
export interface BlindPrefixMatch {
  readonly whole: string;
  readonly tails: readonly { readonly head: string; readonly at: number; readonly value: string }[];
}

export function blindPrefixMatch(key: Uint8Array, param: string, normalizedTerm: string): BlindPrefixMatch | undefined {
  const chars = [...normalizedTerm].slice(0, MAX_PREFIX);
  if (chars.length === 0) return undefined;
  const whole = blindIndex(key, `${param}:prefix`, chars.join(''));
  const tails = [PREFIX_ROWS, ...EARLIER_PREFIX_ROWS]
    .filter((k) => chars.length > k)
    .map((k) => ({ head: blindIndex(key, `${param}:prefix`, chars.slice(0, k).join('')), at: (chars.length - k - 1) * TAIL_CHARS + 1, value: whole.slice(0, TAIL_CHARS) }));
  return { whole, tails };
}
