/** Keyed blind indexes: deterministic under one key, unrelated across keys and parameters, prefix lookups that agree with "starts with". */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { blindIndex, blindPrefixes, forgetBlindIndexKey, rememberedBlindIndex, blindPrefixMatch, blindPrefixRows, EARLIER_PREFIX_ROWS, MAX_PREFIX, PREFIX_ROWS, TAIL_CHARS } from '../../src/crypto/index.js';

const KEY = Buffer.alloc(32, 0x42);
const OTHER = Buffer.alloc(32, 0x43);

describe('blind indexes', () => {
  it('are deterministic, 128-bit, and never contain the value', () => {
    const a = blindIndex(KEY, 'identifier', 'urn:example:mrn|MRN-123');
    expect(a).toBe(blindIndex(KEY, 'identifier', 'urn:example:mrn|MRN-123'));
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a).not.toContain('MRN');
  });

  it('differ across keys, parameters and values', () => {
    const v = 'medhurst';
    const all = [blindIndex(KEY, 'family', v), blindIndex(OTHER, 'family', v), blindIndex(KEY, 'given', v), blindIndex(KEY, 'family', 'medhursT'), blindPrefixMatch(KEY, 'family', v)!.whole];
    expect(new Set(all).size).toBe(all.length);
  });

  it('are remembered per key and forgotten with it: the same as computed, never another key’s', () => {
    const key = Buffer.alloc(32, 0x44);
    const first = rememberedBlindIndex(key, 'birthdate', 'y:1990');
    expect(first).toBe(blindIndex(key, 'birthdate', 'y:1990'));
    expect(rememberedBlindIndex(OTHER, 'birthdate', 'y:1990')).toBe(blindIndex(OTHER, 'birthdate', 'y:1990'));
    expect(rememberedBlindIndex(OTHER, 'birthdate', 'y:1990')).not.toBe(first);
    // The key store wipes a key as it closes, after forgetting it: nothing made under it survives.
    forgetBlindIndexKey(key);
    key.fill(0x45);
    expect(rememberedBlindIndex(key, 'birthdate', 'y:1990')).toBe(blindIndex(Buffer.alloc(32, 0x45), 'birthdate', 'y:1990'));
    // Past its bound the memory starts again, and still answers what blindIndex does.
    for (let i = 0; i < 9000; i++) rememberedBlindIndex(key, 'birthdate', `d:${i}`);
    expect(rememberedBlindIndex(key, 'birthdate', 'd:7')).toBe(blindIndex(key, 'birthdate', 'd:7'));
  });

  it('refuse a key of the wrong size and odd parameter names', () => {
    expect(() => blindIndex(Buffer.alloc(16), 'family', 'x')).toThrow(/32 bytes/);
    expect(() => blindIndex(KEY, '', 'x')).toThrow();
    expect(() => blindIndex(KEY, 'a\u0000b', 'x')).toThrow();
  });

  /** A stored row: its value and, on a last head row, its tail. */
  type Row = { value: string; tail?: string };
  /** The rows of one value in a layout: `k` head rows with a tail, or (k = 0) one row per prefix, as before tails. */
  function rowsOf(value: string, k: number): Row[] {
    if (k === 0) return blindPrefixes(KEY, 'family', value).map((v) => ({ value: v }));
    const { heads, tail } = blindPrefixRows(KEY, 'family', value, k);
    return heads.map((v, i) => (tail !== undefined && i === heads.length - 1 ? { value: v, tail } : { value: v }));
  }
  /** What the store's SQL does with a match (condition-sql.ts blindStartsWith), on some rows. */
  function found(rows: readonly Row[], term: string): boolean {
    const q = blindPrefixMatch(KEY, 'family', term);
    if (q === undefined) return false;
    return rows.some((r) => r.value === q.whole || q.tails.some((t) => r.value === t.head && r.tail?.substr(t.at - 1, TAIL_CHARS) === t.value));
  }
  const LAYOUTS = [PREFIX_ROWS, ...EARLIER_PREFIX_ROWS, 0];

  test.prop([fc.string({ maxLength: 80, unit: 'grapheme' }), fc.string({ maxLength: 80, unit: 'grapheme' })])(
    'a prefix lookup finds a stored value exactly when the value starts with the term (up to 64 characters), in every stored layout',
    (value, term) => {
      const v = [...value];
      const t = [...term].slice(0, MAX_PREFIX);
      const startsWith = t.length > 0 && t.length <= v.length && t.every((c, i) => v[i] === c);
      for (const k of LAYOUTS) expect(found(rowsOf(value, k), term), `layout ${k}`).toBe(startsWith);
    },
  );

  test.prop([fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }), fc.nat(90)])('every prefix of a stored value is found, in every layout', (value, cut) => {
    const v = [...value].slice(0, MAX_PREFIX);
    const term = v.slice(0, 1 + (cut % v.length)).join('');
    for (const k of LAYOUTS) expect(found(rowsOf(value, k), term), `layout ${k}`).toBe(true);
  });

  it('stores a long value as PREFIX_ROWS rows, the last carrying the longer prefixes', () => {
    const { heads, tail } = blindPrefixRows(KEY, 'address', '1234 kuhlman gateway suite 52');
    expect(heads).toHaveLength(PREFIX_ROWS);
    expect(tail).toHaveLength((29 - PREFIX_ROWS) * TAIL_CHARS);
    expect(blindPrefixRows(KEY, 'address', 'abc')).toEqual({ heads: blindPrefixes(KEY, 'address', 'abc') });
  });
});

describe('blindPrefixes, computed incrementally', () => {
  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ unit: 'grapheme', maxLength: 80 }), fc.constantFrom('family', 'given', 'address', 'name')])(
    'equals the HMAC of each prefix computed on its own (RFC 2104), for any key and text',
    (key, text, param) => {
      const chars = [...text].slice(0, MAX_PREFIX);
      expect(blindPrefixes(key, param, text)).toEqual(chars.map((_, n) => blindIndex(key, `${param}:prefix`, chars.slice(0, n + 1).join(''))));
    },
  );
});
