/**
 * Sign-in throttling per client address: a token bucket (token-buckets.ts) per address
 * (or per IPv6 /64, which one subscriber usually holds whole), refilled continuously
 * from the injected clock. It complements the per-account lockout: the lockout stops
 * guessing at one account, the throttle stops one address from spraying a common
 * password at many. Each attempt takes from this process's bucket of the address (in
 * memory, bounded as token-buckets.ts says: a flood at one process is refused without
 * touching the database), then, given shared buckets (the vault's database,
 * cross-process-buckets.ts), from the bucket every server process of the database shares, so
 * that servers behind a load balancer do not each grant the address its own budget.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { CustodiaError, type Clock } from '../../kernel/index.js';
import { SharedBucketScope } from '../cross-process-bucket-scope.js';
import type { SharedBuckets } from '../cross-process-buckets.js';
import { TokenBuckets, type BucketDecision } from '../token-buckets.js';

export interface ThrottleOptions {
  /** Attempts an address may make at once (burst). */
  readonly capacity: number;
  /** Attempts regained per minute. */
  readonly refillPerMinute: number;
  /** Addresses remembered at most. */
  readonly maxKeys: number;
}

/** 20 at once, then one every 3 seconds: a ward sharing one NAT address still signs in at shift change. */
export const DEFAULT_THROTTLE: ThrottleOptions = Object.freeze({ capacity: 20, refillPerMinute: 20, maxKeys: 100_000 });

export type ThrottleDecision = BucketDecision;

/** `login-throttled`, with how long to wait (for a Retry-After header). */
export class LoginThrottledError extends CustodiaError {
  declare readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super('login-throttled', 'Too many sign-in attempts from this address; retry later', { retryAfterMs });
  }
}

function expandIPv6(ip: string): string[] | undefined {
  let s = ip.split('%')[0]!; // zone id
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4 !== null) {
    const o = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head === undefined || head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - h.length - t.length;
  if (s.includes('::') ? missing < 1 : missing !== 0) return undefined;
  return [...h, ...Array<string>(s.includes('::') ? missing : 0).fill('0'), ...t].map((g) => g.toLowerCase().padStart(4, '0'));
}

/**
 * The bucket key of a client address (attacker-influenced, e.g. through a proxy header
 * the server trusts): IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 by its /64.
 */
export function throttleKey(ip: string): string {
  const s = ip.trim();
  if (isIPv4(s)) return s;
  if (isIPv6(s)) {
    const g = expandIPv6(s);
    if (g !== undefined) {
      if (g.slice(0, 5).every((x) => x === '0000') && g[5] === 'ffff') {
        const hi = parseInt(g[6]!, 16);
        const lo = parseInt(g[7]!, 16);
        return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
      }
      return `${g.slice(0, 4).join(':')}::/64`;
    }
  }
  return `other:${s.slice(0, 64)}`;
}

export class IpThrottle {
  readonly #buckets: TokenBuckets;
  readonly #shared: SharedBucketScope | undefined;

  constructor(clock: Clock, options: Partial<ThrottleOptions> = {}, shared?: SharedBuckets) {
    const o = { ...DEFAULT_THROTTLE, ...options };
    this.#buckets = new TokenBuckets(clock, { capacity: o.capacity, refill: o.refillPerMinute, intervalMs: 60_000, maxKeys: o.maxKeys });
    this.#shared = shared === undefined ? undefined : new SharedBucketScope(shared, 'sign-in', { capacity: o.capacity, perMs: o.refillPerMinute / 60_000 }, clock);
  }

  /** Takes one attempt from this process's bucket of the address. */
  take(ip: string): ThrottleDecision {
    return this.#buckets.take(throttleKey(ip));
  }

  /**
   * Takes one attempt from this process's bucket of the address, then from the shared one
   * (when there are shared buckets); throws `LoginThrottledError` when either is empty.
   * A shared store that cannot be reached fails the sign-in (`storage-unavailable`).
   */
  async consume(ip: string): Promise<void> {
    const key = throttleKey(ip);
    const d = this.#buckets.take(key);
    if (!d.allowed) throw new LoginThrottledError(d.retryAfterMs);
    if (this.#shared === undefined) return;
    const s = await this.#shared.take(key);
    if (!s.allowed) throw new LoginThrottledError(s.retryAfterMs);
  }

  /** Addresses currently remembered in this process. */
  get size(): number {
    return this.#buckets.size;
  }
}
