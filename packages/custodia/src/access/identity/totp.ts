/**
 * Time-based one-time passwords: HOTP (RFC 4226 §5.3, dynamic truncation) over the
 * time step counter of RFC 6238 §4 (T0 = 0, X = 30 s), with HMAC-SHA-1, -256 or -512 and
 * 6 to 8 digits. Verification accepts the current step and one step either side
 * (RFC 6238 §5.2, clock drift) and reports which step matched, so that the caller can
 * refuse a step that was already used (§5.2: "MUST NOT accept the second attempt").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CustodiaError } from '../../kernel/index.js';
import { base32Encode } from './base32.js';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export const TOTP_ALGORITHMS: readonly TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

export interface TotpParams {
  readonly algorithm: TotpAlgorithm;
  /** 6, 7 or 8. */
  readonly digits: number;
  /** Time step in seconds (30 everywhere in practice). */
  readonly period: number;
}

export const DEFAULT_TOTP: TotpParams = Object.freeze({ algorithm: 'SHA1', digits: 6, period: 30 });

/** Secret sizes: the HMAC's output length (RFC 4226 §4 R6 asks for at least 128 bits; 160 recommended). */
export const TOTP_SECRET_BYTES: Readonly<Record<TotpAlgorithm, number>> = Object.freeze({ SHA1: 20, SHA256: 32, SHA512: 64 });

const HMAC_NAME: Readonly<Record<TotpAlgorithm, string>> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

export function checkTotpParams(p: TotpParams): void {
  if (!TOTP_ALGORITHMS.includes(p.algorithm)) throw new CustodiaError('config-invalid', 'TOTP algorithm must be SHA1, SHA256 or SHA512');
  if (!Number.isInteger(p.digits) || p.digits < 6 || p.digits > 8) throw new CustodiaError('config-invalid', 'TOTP codes have 6 to 8 digits');
  if (!Number.isInteger(p.period) || p.period < 1) throw new CustodiaError('config-invalid', 'The TOTP period is a positive number of seconds');
}

/** RFC 4226 HOTP value for `counter`, as a zero-padded decimal string of `digits` digits. */
export function hotp(secret: Uint8Array, counter: number, algorithm: TotpAlgorithm, digits: number): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(HMAC_NAME[algorithm], secret).update(msg).digest();
  // Dynamic truncation (RFC 4226 §5.3): the low nibble of the last byte picks 4 bytes.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The RFC 6238 time step counter of an instant (epoch ms). */
export function timeStep(nowMs: number, period: number): number {
  return Math.floor(nowMs / 1000 / period);
}

/** The TOTP code at an instant (epoch ms). */
export function totpAt(secret: Uint8Array, nowMs: number, p: TotpParams = DEFAULT_TOTP): string {
  return hotp(secret, timeStep(nowMs, p.period), p.algorithm, p.digits);
}

/**
 * Checks an attacker-supplied code against the steps `now - window … now + window`.
 * Every candidate is computed and compared in constant time whatever matches, so the
 * time taken does not say which step (if any) matched. Returns the matching step.
 */
export function verifyTotp(secret: Uint8Array, code: string, nowMs: number, p: TotpParams = DEFAULT_TOTP, window = 1): number | undefined {
  if (code.length !== p.digits || !/^[0-9]+$/.test(code)) return undefined;
  const given = Buffer.from(code, 'ascii');
  const current = timeStep(nowMs, p.period);
  let matched: number | undefined;
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(hotp(secret, step, p.algorithm, p.digits), 'ascii');
    if (timingSafeEqual(expected, given) && matched === undefined) matched = step;
  }
  return matched;
}

export interface OtpauthUriInput {
  /** Shown by the authenticator app as the service name. */
  readonly issuer: string;
  /** Shown as the account name (the username). */
  readonly account: string;
  readonly secret: Uint8Array;
  readonly params: TotpParams;
}

/**
 * The Key Uri Format of Google Authenticator (`otpauth://totp/Issuer:account?secret=…`),
 * which every common authenticator app reads from a QR code.
 */
export function otpauthUri(i: OtpauthUriInput): string {
  const label = `${encodeURIComponent(i.issuer)}:${encodeURIComponent(i.account)}`;
  const query = [
    `secret=${base32Encode(i.secret)}`,
    `issuer=${encodeURIComponent(i.issuer)}`,
    `algorithm=${i.params.algorithm}`,
    `digits=${i.params.digits}`,
    `period=${i.params.period}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}
