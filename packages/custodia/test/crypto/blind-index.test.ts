/** Keyed blind indexes: deterministic under one key, unrelated across keys and parameters, prefix lookups that agree with "starts with". */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { blindIndex, blindPrefixes, blindPrefixMatch, blindPrefixRows, MAX_PREFIX, PREFIX_ROWS, TAIL_CHARS } from '../../src/crypto/index.js';

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
    const all = [blindIndex(KEY, 'family', v), blindIndex(OTHER, 'family', v), blindIndex(KEY, 'given', v), blindIndex(KEY, 'family', 'medhursT'), blindPrefixMatch(KEY, 'family', v)!.head];
    expect(new Set(all).size).toBe(all.length);
  });

  it('refuse a key of the wrong size and odd parameter names', () => {
    expect(() => blindIndex(Buffer.alloc(16), 'family', 'x')).toThrow(/32 bytes/);
    expect(() => blindIndex(KEY, '', 'x')).toThrow();
    expect(() => blindIndex(KEY, 'a\u0000b', 'x')).toThrow();
  });

  /** What the store's SQL does with a match (condition-sql.ts blindStartsWith), on the rows of one value. */
  function found(value: string, term: string): boolean {
    const { heads, tail } = blindPrefixRows(KEY, 'family', value);
    const q = blindPrefixMatch(KEY, 'family', term);
    if (q === undefined) return false;
    if (q.tail === undefined) return heads.includes(q.head);
    return heads.length === PREFIX_ROWS && heads.at(-1) === q.head && tail?.substr(q.tail.at - 1, TAIL_CHARS) === q.tail.value;
  }

  test.prop([fc.string({ maxLength: 80, unit: 'grapheme' }), fc.string({ maxLength: 80, unit: 'grapheme' })])(
    'a prefix lookup finds a stored value exactly when the value starts with the term (up to 64 characters)',
    (value, term) => {
      const v = [...value];
      const t = [...term].slice(0, MAX_PREFIX);
      const startsWith = t.length > 0 && t.length <= v.length && t.every((c, i) => v[i] === c);
      expect(found(value, term)).toBe(startsWith);
    },
  );

  test.prop([fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }), fc.nat(90)])(
    'a term that is a prefix is found, and so are the rows of one prefix each written before tails existed',
    (value, cut) => {
      const v = [...value].slice(0, MAX_PREFIX);
      const term = v.slice(0, 1 + (cut % v.length)).join('');
      expect(found(value, term)).toBe(true);
      const q = blindPrefixMatch(KEY, 'family', term)!;
      const legacyRows = blindPrefixes(KEY, 'family', value);
      expect(legacyRows).toContain(q.tail === undefined ? q.head : q.tail.whole);
    },
  );

  it('stores a long value as four rows, the last carrying the longer prefixes', () => {
    const { heads, tail } = blindPrefixRows(KEY, 'address', '1234 kuhlman gateway suite 52');
    expect(heads).toHaveLength(PREFIX_ROWS);
    expect(tail).toHaveLength((29 - PREFIX_ROWS) * TAIL_CHARS);
    expect(blindPrefixRows(KEY, 'address', 'abcd')).toEqual({ heads: blindPrefixes(KEY, 'address', 'abcd') });
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
