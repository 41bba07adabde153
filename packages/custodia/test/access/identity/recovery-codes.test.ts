/** Recovery codes: 120 random bits, forgiving input, stored hashed, matched in constant time. */
import { describe, expect, it } from 'vitest';
import { generateRecoveryCode, generateRecoveryCodes, hashRecoveryCode, matchRecoveryCode, normalizeRecoveryCode } from '../../../src/access/index.js';
import { seededRandom } from '../../../src/kernel/index.js';

describe('recovery codes', () => {
  const random = seededRandom('recovery');

  it('are 24 Crockford base32 characters (120 bits) in groups of four', () => {
    const codes = generateRecoveryCodes(random, 10);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){5}$/);
  });

  it('are read forgivingly: case, spaces, dashes, and i/l/o for 1/0', () => {
    const c = generateRecoveryCode(random);
    const plain = c.replace(/-/g, '');
    expect(normalizeRecoveryCode(c)).toBe(plain);
    expect(normalizeRecoveryCode(` ${c.toUpperCase()} `)).toBe(plain);
    expect(normalizeRecoveryCode(plain.replace(/1/g, 'l').replace(/0/g, 'O'))).toBe(plain);
    expect(normalizeRecoveryCode('too-short')).toBeUndefined();
    expect(normalizeRecoveryCode('uuuu-uuuu-uuuu-uuuu-uuuu-uuuu')).toBeUndefined();
  });

  it('are stored as salted SHA-256 and matched against every stored hash', () => {
    const [a, b] = generateRecoveryCodes(random, 2) as [string, string];
    const stored = [
      { id: '1', hash: hashRecoveryCode('user-1', normalizeRecoveryCode(a)!) },
      { id: '2', hash: hashRecoveryCode('user-1', normalizeRecoveryCode(b)!) },
    ];
    expect(stored[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[0]!.hash).not.toContain(normalizeRecoveryCode(a));
    expect(matchRecoveryCode('user-1', b, stored)).toBe('2');
    expect(matchRecoveryCode('user-1', a.toUpperCase(), stored)).toBe('1');
    // Another user's salt: no match.
    expect(matchRecoveryCode('user-2', a, stored)).toBeUndefined();
    expect(matchRecoveryCode('user-1', 'nonsense', stored)).toBeUndefined();
  });
});
