/**
 * Comparing two hashes. Roots and proofs are public, so timing leaks nothing; the
 * constant-time comparison is kept anyway so that no one has to think about it.
 */
import { timingSafeEqual } from 'node:crypto';
import { HASH_SIZE } from './merkle-hash.js';

/**
 * True when `a` and `b` are the same 32-byte hash.
 *
 * @example
 *   sameHash(tree.root(), checkpoint.root);
 */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === HASH_SIZE && b.length === HASH_SIZE && timingSafeEqual(a, b);
}
