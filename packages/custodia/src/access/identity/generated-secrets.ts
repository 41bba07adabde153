/**
 * Secrets this module generates: initial passwords (when an administrator adds a user
 * without choosing one) and client secrets. Both come from the injected Random and are
 * shown once; only their hashes are stored.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Random } from '../../kernel/index.js';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A password of 100 random bits: 20 Crockford base32 characters in groups of five
 * (`x7k2m-…`), easy to read out and type, well above the policy's minimum length.
 */
export function generatePassword(random: Random): string {
  const bytes = random.bytes(20);
  let out = '';
  for (let i = 0; i < 20; i++) {
    out += CROCKFORD[bytes[i]! & 31];
    if (i % 5 === 4 && i < 19) out += '-';
  }
  return out;
}

/** A client secret of 256 random bits, base64url (RFC 6749 §2.3.1 leaves the form open). */
export function generateClientSecret(random: Random): string {
  return random.bytes(32).toString('base64url');
}

const MAX_SECRET_INPUT = 512;

function digest(secret: string): Buffer {
  return createHash('sha256').update('custodia.client-secret.v1\u0000').update(secret, 'utf8').digest();
}

/**
 * The stored form of a client secret: `$sha256$<base64url>`. A 256-bit random secret
 * needs no slow hash (NIST SP 800-63B §5.1.2.2: at least 112 bits of entropy); the
 * prefix leaves room for another scheme later.
 */
export function hashClientSecret(secret: string): string {
  return `$sha256$${digest(secret).toString('base64url')}`;
}

/** Compares an attacker-supplied secret with a stored hash in constant time. */
export function verifyClientSecret(secret: string, stored: string): boolean {
  const m = /^\$sha256\$([A-Za-z0-9_-]{43})$/.exec(stored);
  const expected = m === null ? Buffer.alloc(32) : Buffer.from(m[1]!, 'base64url');
  const actual = digest(secret.length > MAX_SECRET_INPUT ? '' : secret);
  return timingSafeEqual(actual, expected) && m !== null && secret.length <= MAX_SECRET_INPUT;
}
