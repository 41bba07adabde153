/**
 * Token buckets, one per key, refilled continuously from the injected clock: a key may
 * spend `capacity` at once, then `refill` every `intervalMs`. They back the sign-in
 * throttle (per address) and the request rate limits (per user, per client).
 *
 * Memory stays bounded. A bucket idle long enough to be full again is forgotten (a
 * missing bucket is a full one, so this changes no decision); and at most `maxKeys`
 * buckets are kept, the least recently used forgotten first, which only ever gives a
 * key a full bucket early. Buckets live in this process: several processes behind a
 * load balancer each enforce their own limits.
 *
 * @example
 *   const perUser = new TokenBuckets(clock, { capacity: 200, refill: 50, intervalMs: 1000, maxKeys: 100_000 });
 *   const d = perUser.take(userId); // { allowed: false, retryAfterMs } once the burst is spent
 */
import { CustodiaError, type Clock } from '../kernel/index.js';

export interface TokenBucketOptions {
  /** Tokens a key may spend at once (the burst). */
  readonly capacity: number;
  /** Tokens regained per `intervalMs`. */
  readonly refill: number;
  readonly intervalMs: number;
  /** Keys remembered at most. */
  readonly maxKeys: number;
}

export type BucketDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

const ALLOWED: BucketDecision = Object.freeze({ allowed: true });
/** Idle buckets examined per call: enough to keep up with the calls that create them. */
const SWEEP_PER_CALL = 2;

export class TokenBuckets {
  /** Insertion order is recency order: every touch deletes and re-inserts its key. */
  readonly #buckets = new Map<string, Bucket>();
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #maxKeys: number;

  constructor(
    private readonly clock: Clock,
    options: TokenBucketOptions,
  ) {
    const { capacity, refill, intervalMs, maxKeys } = options;
    if (!(capacity >= 1) || !(refill > 0) || !(intervalMs > 0) || !Number.isFinite(capacity) || !Number.isFinite(refill / intervalMs) || !Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new CustodiaError('config-invalid', 'A rate limit needs a burst of at least 1, a positive finite refill rate and a positive number of keys');
    }
    this.#capacity = capacity;
    this.#perMs = refill / intervalMs;
    this.#maxKeys = maxKeys;
  }

  /** Milliseconds until `key` has a token to spend (0: it has one now). Spends nothing. */
  waitMs(key: string): number {
    const b = this.#buckets.get(key);
    return b === undefined ? 0 : this.#wait(this.#refilled(b, this.clock.now()));
  }

  /** Spends one token of `key`'s bucket, or says how long to wait for one. */
  take(key: string): BucketDecision {
    const now = this.clock.now();
    const tokens = this.#detach(key, now);
    const allowed = tokens >= 1;
    this.#buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    this.#sweep(now);
    return allowed ? ALLOWED : { allowed: false, retryAfterMs: this.#wait(tokens) };
  }

  /**
   * Spends `count` more tokens of `key`'s bucket, going into debt if it has fewer: for a
   * request already admitted whose cost is known only once it is read (a Bundle's entries).
   * A bucket in debt admits nothing until it has refilled past it.
   */
  spend(key: string, count: number): void {
    if (!(count > 0)) return;
    const now = this.clock.now();
    this.#buckets.set(key, { tokens: this.#detach(key, now) - count, at: now });
  }

  /**
   * The tokens `key` holds at `now`, its bucket taken out of the map to be put back as the
   * most recent (a new key full, making room for itself by forgetting the least recent).
   */
  #detach(key: string, now: number): number {
    const b = this.#buckets.get(key);
    if (b !== undefined) {
      this.#buckets.delete(key);
      return this.#refilled(b, now);
    }
    if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
    return this.#capacity;
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  #refilled(b: Bucket, now: number): number {
    return Math.min(this.#capacity, b.tokens + Math.max(0, now - b.at) * this.#perMs);
  }

  #wait(tokens: number): number {
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.#perMs);
  }

  /** Forgets the least recently used buckets that have refilled completely. */
  #sweep(now: number): void {
    for (let i = 0; i < SWEEP_PER_CALL; i++) {
      const oldest = this.#buckets.entries().next().value;
      if (oldest === undefined || this.#refilled(oldest[1], now) < this.#capacity) return;
      this.#buckets.delete(oldest[0]);
    }
  }
}
