/**
 * Random handles and their stored form. Authorization codes, refresh tokens, launch ids,
 * pending-request handles, CSRF tokens and browser bindings are 256-bit random values
 * (RFC 6749 §10.10; RFC 9700 §4.1) sent to the client once and stored only as their
 * SHA-256, so a copy of the database cannot be replayed. Comparisons of stored hashes
 * with presented values run in constant time.
 */
import { createHash } from 'node:crypto';
import type { Random } from '../../kernel/index.js';

/** 32 random bytes, base64url (43 characters). */
export function randomHandle(random: Random): string {
  return random.bytes(32).toString('base64url');
}

/** The shape of a handle from `randomHandle` (attacker input is checked against it before any lookup). */
export function isHandle(s: string | undefined): s is string {
  return s !== undefined && /^[A-Za-z0-9_-]{43}$/.test(s);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

export { sameSecret } from '../same-secret.js';
