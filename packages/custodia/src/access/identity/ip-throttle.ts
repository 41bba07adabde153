/**
 * Sign-in throttling per client address: a token bucket per address (or per IPv6 /64,
 * which one subscriber usually holds whole), refilled continuously from the injected
 * clock. It complements the per-account lockout: the lockout stops guessing at one
 * account, the throttle stops one address from spraying a common password at many.
 *
 * Buckets live in memory (one process), at most `maxKeys` of them; the least recently
 * used is forgotten first, which only ever gives an address a full bucket again.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { CustodiaError, type Clock } from '../../kernel/index.js';

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

export type ThrottleDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/** `login-throttled`, with how long to wait (for a Retry-After header). */
export class LoginThrottledError extends CustodiaError {
  constructor(readonly retryAfterMs: number) {
    super('login-throttled', 'Too many sign-in attempts from this address; retry later');
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

interface Bucket {
  tokens: number;
  at: number;
}

export class IpThrottle {
  readonly #buckets = new Map<string, Bucket>();
  readonly #options: ThrottleOptions;

  constructor(
    private readonly clock: Clock,
    options: Partial<ThrottleOptions> = {},
  ) {
    this.#options = Object.freeze({ ...DEFAULT_THROTTLE, ...options });
    const o = this.#options;
    if (!(o.capacity >= 1) || !(o.refillPerMinute > 0) || !Number.isInteger(o.maxKeys) || o.maxKeys < 1) {
      throw new CustodiaError('config-invalid', 'Throttle capacity, refill rate and key count must be positive');
    }
  }

  /** Takes one attempt from the address's bucket. */
  take(ip: string): ThrottleDecision {
    const key = throttleKey(ip);
    const now = this.clock.now();
    const { capacity, refillPerMinute, maxKeys } = this.#options;
    const perMs = refillPerMinute / 60_000;
    const b = this.#buckets.get(key);
    let tokens = capacity;
    if (b !== undefined) {
      tokens = Math.min(capacity, b.tokens + Math.max(0, now - b.at) * perMs);
      this.#buckets.delete(key); // re-inserted below: Map order is recency order
    } else if (this.#buckets.size >= maxKeys) {
      this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      return { allowed: false, retryAfterMs: Math.ceil((1 - tokens) / perMs) };
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    return { allowed: true };
  }

  /** `take`, throwing `LoginThrottledError` when the bucket is empty. */
  consume(ip: string): void {
    const d = this.take(ip);
    if (!d.allowed) throw new LoginThrottledError(d.retryAfterMs);
  }

  /** Addresses currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }
}
