/**
 * Recovery codes (NIST SP 800-63B §5.1.2 look-up secrets): generated when TOTP is
 * enrolled, shown once, stored hashed, each usable once.
 *
 * A code is 120 random bits written as 24 Crockford base32 characters in groups of four
 * (`7k2m-q9xa-…`). With at least 112 bits of entropy a plain SHA-256 is an adequate
 * hash (§5.1.2.2 asks for a salted password hash only below that), so a code is checked
 * with one hash per stored code instead of one scrypt each. The user id is hashed in as
 * a salt so equal codes of two users never share a hash.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Random } from '../../kernel/index.js';

/** Crockford's base32: no I, L, O or U, so codes read aloud and typed by hand survive. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CHARS = 24;
const GROUP = 4;

export const DEFAULT_RECOVERY_CODE_COUNT = 10;

/** One new code, formatted for display. */
export function generateRecoveryCode(random: Random): string {
  const bytes = random.bytes(15); // 120 bits = 24 × 5 bits
  let bits = 0;
  let buffer = 0;
  let out = '';
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return out.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

export function generateRecoveryCodes(random: Random, count = DEFAULT_RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => generateRecoveryCode(random));
}

/**
 * The canonical form of an attacker-supplied code: separators and spaces dropped, lower
 * case, and the letters Crockford reads as digits (i, l → 1; o → 0) mapped. Undefined
 * when it cannot be a code.
 */
export function normalizeRecoveryCode(input: string): string | undefined {
  if (input.length > 64) return undefined;
  const s = input
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/[il]/g, '1')
    .replace(/o/g, '0');
  if (s.length !== CHARS) return undefined;
  for (const c of s) if (!ALPHABET.includes(c)) return undefined;
  return s;
}

/** The stored form of a (normalised) code: hex SHA-256 over a domain tag, the user id and the code. */
export function hashRecoveryCode(userId: string, normalizedCode: string): string {
  return createHash('sha256').update('custodia.recovery-code.v1\u0000').update(userId).update('\u0000').update(normalizedCode).digest('hex');
}

/** The id of the stored code that `code` matches, comparing every hash in constant time. */
export function matchRecoveryCode(userId: string, code: string, stored: readonly { readonly id: string; readonly hash: string }[]): string | undefined {
  const normalized = normalizeRecoveryCode(code);
  // An unparseable code is still compared, against a hash nothing matches, so the work is the same.
  const given = Buffer.from(hashRecoveryCode(userId, normalized ?? '\u0000'), 'utf8');
  let found: string | undefined;
  for (const s of stored) {
    const candidate = Buffer.from(s.hash, 'utf8');
    if (candidate.length === given.length && timingSafeEqual(candidate, given) && normalized !== undefined && found === undefined) found = s.id;
  }
  return found;
}
