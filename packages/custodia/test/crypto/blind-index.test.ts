/** Keyed blind indexes: deterministic under one key, unrelated across keys and parameters, prefix lookups that agree with "starts with". */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { blindIndex, blindPrefixes, blindPrefixQuery, MAX_PREFIX } from '../../src/crypto/index.js';

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
    const all = [blindIndex(KEY, 'family', v), blindIndex(OTHER, 'family', v), blindIndex(KEY, 'given', v), blindIndex(KEY, 'family', 'medhursT'), blindPrefixQuery(KEY, 'family', v)];
    expect(new Set(all).size).toBe(all.length);
  });

  it('refuse a key of the wrong size and odd parameter names', () => {
    expect(() => blindIndex(Buffer.alloc(16), 'family', 'x')).toThrow(/32 bytes/);
    expect(() => blindIndex(KEY, '', 'x')).toThrow();
    expect(() => blindIndex(KEY, 'a\u0000b', 'x')).toThrow();
  });

  test.prop([fc.string({ maxLength: 80, unit: 'grapheme' }), fc.string({ maxLength: 80, unit: 'grapheme' })])(
    'a prefix lookup finds a stored value exactly when the value starts with the term (up to 64 characters)',
    (value, term) => {
      const stored = new Set(blindPrefixes(KEY, 'family', value));
      const q = blindPrefixQuery(KEY, 'family', term);
      const v = [...value];
      const t = [...term].slice(0, MAX_PREFIX);
      const startsWith = t.length > 0 && t.length <= v.length && t.every((c, i) => v[i] === c);
      expect(q === undefined ? false : stored.has(q)).toBe(startsWith);
    },
  );
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
