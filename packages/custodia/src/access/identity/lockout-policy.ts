/**
 * Account lockout with exponential backoff (NIST SP 800-63B §5.2.2 rate limiting):
 * after `threshold` consecutive failures the account is locked for `baseDelayMs`, and
 * each further failure (after the lock ran out) doubles the lock, up to `maxDelayMs`.
 * Attempts while locked are refused without being counted, so a lock cannot be
 * extended by hammering it; a successful sign-in resets the count.
 *
 * A locked account answers exactly like a wrong password (`login-failed`): the lock is
 * never revealed, so it cannot be used to learn which usernames exist.
 */
import { CustodiaError } from '../../kernel/index.js';

export interface LockoutPolicy {
  /** Consecutive failures that lock the account (5). */
  readonly threshold: number;
  /** First lock (1 minute). */
  readonly baseDelayMs: number;
  /** Longest lock (1 hour). */
  readonly maxDelayMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = Object.freeze({ threshold: 5, baseDelayMs: 60_000, maxDelayMs: 3_600_000 });

export function checkLockoutPolicy(p: LockoutPolicy): void {
  if (!Number.isInteger(p.threshold) || p.threshold < 1 || p.threshold > 100) throw new CustodiaError('config-invalid', 'The lockout threshold is 1 to 100 failures');
  if (!(p.baseDelayMs > 0) || !(p.maxDelayMs >= p.baseDelayMs)) throw new CustodiaError('config-invalid', 'Lockout delays must be positive, the maximum at least the base');
}

/** How long the account is locked after its `failures`-th consecutive failure (0: not locked). */
export function lockDelayMs(failures: number, p: LockoutPolicy = DEFAULT_LOCKOUT): number {
  if (failures < p.threshold) return 0;
  const doublings = Math.min(failures - p.threshold, 40);
  return Math.min(p.baseDelayMs * 2 ** doublings, p.maxDelayMs);
}

/** The lock's end after the `failures`-th failure at `now`, or undefined when the account stays open. */
export function lockedUntilAfter(failures: number, now: number, p: LockoutPolicy = DEFAULT_LOCKOUT): number | undefined {
  const d = lockDelayMs(failures, p);
  return d === 0 ? undefined : now + d;
}

export function isLocked(lockedUntil: number | undefined, now: number): boolean {
  return lockedUntil !== undefined && lockedUntil > now;
}
