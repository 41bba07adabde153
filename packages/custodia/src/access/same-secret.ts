/**
 * Constant-time equality of two secret strings (hashes, TOTP secrets, PKCE challenges):
 * both sides are hashed to a fixed length first, so neither the content nor the length of
 * the expected value shows in the time taken.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a, 'utf8').digest(), createHash('sha256').update(b, 'utf8').digest());
}
