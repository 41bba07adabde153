/**
 * The password policy of NIST SP 800-63B §5.1.1.2 (memorized secrets):
 *
 * - at least 12 characters (NIST: at least 8; we ask more of accounts that reach health
 *   records), counted in Unicode code points after normalisation;
 * - a maximum of at least 64 (128 by default), so that passphrases fit;
 * - every printable character, spaces and any Unicode allowed; the password is
 *   normalised with NFKC before it is checked or hashed, so the same passphrase typed
 *   on two keyboards is the same password;
 * - checked against a list of passwords from breach corpuses, and against
 *   context-specific words (the username, the service name) and repetitive or
 *   sequential strings;
 * - NO composition rules (no "one digit, one symbol") and no periodic expiry.
 *
 * A rejection names the rule that was broken, never the password.
 */
import { CustodiaError } from '../../kernel/index.js';

export type PasswordRejection = 'too-short' | 'too-long' | 'common' | 'context' | 'repetitive' | 'malformed';

/** A set of known-bad passwords, in lower case. */
export interface CommonPasswordList {
  has(lowerCasePassword: string): boolean;
  readonly size: number;
}

export interface PasswordPolicyOptions {
  /** Minimum length in code points (at least 8, default 12). */
  readonly minLength: number;
  /** Maximum length in code points (at least 64, default 128). */
  readonly maxLength: number;
  /** Words no password may contain, in lower case (the service name). */
  readonly contextWords: readonly string[];
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicyOptions = Object.freeze({ minLength: 12, maxLength: 128, contextWords: Object.freeze(['custodia']) });

/** Raw input longer than this (UTF-16 units) is refused before normalising it: NFKC can expand, and work must stay bounded. */
export const MAX_PASSWORD_INPUT = 4096;

export type PasswordCheck = { readonly ok: true; readonly normalized: string } | { readonly ok: false; readonly reason: PasswordRejection };

const MESSAGES: Readonly<Record<PasswordRejection, (o: PasswordPolicyOptions) => string>> = {
  'too-short': (o) => `The password is too short: use at least ${o.minLength} characters (a passphrase of several words is easiest)`,
  'too-long': (o) => `The password is too long: use at most ${o.maxLength} characters`,
  common: () => 'The password is on a list of common or breached passwords; choose another',
  context: () => 'The password contains the username or the name of the service; choose another',
  repetitive: () => 'The password is a repeated or sequential pattern; choose another',
  malformed: () => 'The password contains invalid text (unpaired surrogate code units)',
};

/** Lone UTF-16 surrogates: they cannot be encoded as UTF-8, so two such passwords could hash alike. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Parses a list with one password per line (blank lines and surrounding whitespace ignored). */
export function parseCommonPasswords(text: string): ReadonlySet<string> {
  const set = new Set<string>();
  for (const line of text.split('\n')) {
    const pw = line.trim();
    if (pw !== '') set.add(pw.normalize('NFKC').toLowerCase());
  }
  return set;
}

/** NFKC, as the policy and the hasher see a password. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** True for one unit (≤ 4 code points) repeated, or a run of consecutive code points up or down (`abcdef…`, `987654…`). */
export function isRepetitive(codePoints: readonly number[]): boolean {
  const n = codePoints.length;
  for (let unit = 1; unit <= 4 && unit * 2 <= n; unit++) {
    if (codePoints.every((c, i) => c === codePoints[i % unit])) return true;
  }
  if (n < 3) return false;
  const step = codePoints[1]! - codePoints[0]!;
  if (step !== 1 && step !== -1) return false;
  const isDigit = (c: number): boolean => c >= 48 && c <= 57;
  for (let i = 1; i < n; i++) {
    const a = codePoints[i - 1]!;
    const b = codePoints[i]!;
    // Digits wrap around (…7890123…), as they do on the keyboard row.
    const next = isDigit(a) && isDigit(b) ? 48 + ((a - 48 + step + 10) % 10) : a + step;
    if (b !== next) return false;
  }
  return true;
}

export class PasswordPolicy {
  readonly options: PasswordPolicyOptions;

  constructor(
    private readonly common: CommonPasswordList,
    options: Partial<PasswordPolicyOptions> = {},
  ) {
    this.options = Object.freeze({ ...DEFAULT_PASSWORD_POLICY, ...options });
    if (!Number.isInteger(this.options.minLength) || this.options.minLength < 8) throw new CustodiaError('config-invalid', 'The minimum password length is at least 8');
    if (!Number.isInteger(this.options.maxLength) || this.options.maxLength < 64 || this.options.maxLength < this.options.minLength) {
      throw new CustodiaError('config-invalid', 'The maximum password length is at least 64');
    }
  }

  /** Checks a new password (attacker-controlled when set through an API). `username` is normalised. */
  check(password: string, context: { readonly username?: string } = {}): PasswordCheck {
    if (password.length > MAX_PASSWORD_INPUT) return { ok: false, reason: 'too-long' };
    if (LONE_SURROGATE.test(password)) return { ok: false, reason: 'malformed' };
    const normalized = normalizePassword(password);
    const codePoints = [...normalized].map((c) => c.codePointAt(0)!);
    if (codePoints.length < this.options.minLength) return { ok: false, reason: 'too-short' };
    if (codePoints.length > this.options.maxLength) return { ok: false, reason: 'too-long' };
    const lower = normalized.toLowerCase();
    if (this.common.has(lower)) return { ok: false, reason: 'common' };
    const words = [...this.options.contextWords, ...(context.username !== undefined && context.username.length >= 4 ? [context.username.toLowerCase()] : [])];
    if (words.some((w) => w !== '' && lower.includes(w))) return { ok: false, reason: 'context' };
    if (isRepetitive(codePoints)) return { ok: false, reason: 'repetitive' };
    return { ok: true, normalized };
  }

  /** `check`, throwing `password-rejected` with the reason as the issue's diagnostics. */
  enforce(password: string, context: { readonly username?: string } = {}): string {
    const r = this.check(password, context);
    if (r.ok) return r.normalized;
    throw new CustodiaError('password-rejected', MESSAGES[r.reason](this.options), { issues: [{ diagnostics: r.reason }] });
  }
}
