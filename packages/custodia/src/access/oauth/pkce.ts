/**
 * Proof Key for Code Exchange (RFC 7636), required of every client and with S256 only:
 * SMART App Launch 2.x ("Authorization servers SHALL support the S256
 * code_challenge_method … SHALL NOT support the plain method") and OAuth 2.0 Security
 * BCP (RFC 9700 §2.1.1).
 */
import { createHash } from 'node:crypto';
import { sameSecret } from './secrets.js';

export const PKCE_METHODS = ['S256'] as const;

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters. Attacker input. */
export function isCodeChallenge(challenge: string | undefined): challenge is string {
  return challenge !== undefined && /^[A-Za-z0-9_-]{43}$/.test(challenge);
}

/** RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". Attacker input. */
export function isCodeVerifier(verifier: string | undefined): verifier is string {
  return verifier !== undefined && /^[A-Za-z0-9._~-]{43,128}$/.test(verifier);
}

/** RFC 7636 §4.6: S256 — BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge, in constant time. */
export function verifyCodeVerifier(verifier: string, challenge: string): boolean {
  if (!isCodeVerifier(verifier)) return false;
  return sameSecret(createHash('sha256').update(verifier, 'ascii').digest('base64url'), challenge);
}
