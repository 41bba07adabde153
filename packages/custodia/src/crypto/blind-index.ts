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
import { createHash, createHmac, type Hash } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';
import { KEY_BYTES } from './aead.js';

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
  return createHmac('sha256', key).update(`${DOMAIN}\u0000${param}\u0000${value}`, 'utf8').digest().subarray(0, 16).toString('base64url');
}

/**
 * The blind indexes of every prefix of an already normalised value (R4 search.html string
 * search: "starts with"), from one character up to {@link MAX_PREFIX}: a row stores them
 * all, a search term looks up the one of its own length. Characters are code points, so a
 * prefix never splits a surrogate pair.
 */
export function blindPrefixes(key: Uint8Array, param: string, normalized: string): string[] {
  check(key, param);
  const chars = [...normalized].slice(0, MAX_PREFIX);
  if (chars.length === 0) return [];
  // HMAC (RFC 2104) of every prefix, computed incrementally: the inner hash of prefix n+1
  // continues from a copy of prefix n's, and the outer hash from a copy of the keyed pad.
  // Same output as blindIndex(key, `${param}:prefix`, prefix) (a property test checks),
  // without re-keying an HMAC for each of up to 64 prefixes.
  const { inner, outer } = pads(key);
  const h = inner.copy().update(`${DOMAIN}\u0000${param}:prefix\u0000`, 'utf8');
  const out: string[] = [];
  for (const c of chars) {
    h.update(c, 'utf8');
    out.push(outer.copy().update(h.copy().digest()).digest().subarray(0, 16).toString('base64url'));
  }
  return out;
}

const BLOCK = 64;
/** SHA-256 states after the keyed inner and outer pads (RFC 2104: K ⊕ ipad, K ⊕ opad), per key. */
const padCache = new WeakMap<Uint8Array, { inner: Hash; outer: Hash }>();

function pads(key: Uint8Array): { inner: Hash; outer: Hash } {
  let p = padCache.get(key);
  if (p === undefined) {
    const k = Buffer.alloc(BLOCK);
    Buffer.from(key).copy(k); // 32-byte keys are shorter than the block: zero-padded, never hashed
    const ipad = Buffer.from(k.map((b) => b ^ 0x36));
    const opad = Buffer.from(k.map((b) => b ^ 0x5c));
    p = { inner: createHash('sha256').update(ipad), outer: createHash('sha256').update(opad) };
    padCache.set(key, p);
  }
  return p;
}

/** The blind index a search term looks up among the prefixes {@link blindPrefixes} stored. */
export function blindPrefixQuery(key: Uint8Array, param: string, normalizedTerm: string): string | undefined {
  const chars = [...normalizedTerm].slice(0, MAX_PREFIX);
  return chars.length === 0 ? undefined : blindIndex(key, `${param}:prefix`, chars.join(''));
}
