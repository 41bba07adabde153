/**
 * Token buckets kept where every server process sees them (the vault's database), for a
 * limit that must hold across all the servers behind a load balancer: the sign-in
 * throttle per client address (identity/ip-throttle.ts). In-memory buckets
 * (token-buckets.ts) give each process its own budget, so K servers let an address spray
 * K times the attempts. Taking a token here is one atomic statement, so takes from
 * several processes at once never spend one token twice.
 */
import type { BucketDecision } from './token-buckets.js';

/** A bucket's burst and its refill rate. */
export interface SharedBucketLimit {
  /** Tokens a key may spend at once. */
  readonly capacity: number;
  /** Tokens regained per millisecond. */
  readonly perMs: number;
}

export interface SharedBuckets {
  /**
   * Takes one token from the bucket of `key` in `scope` at `now` (epoch ms): allowed when
   * the bucket, refilled since it was last touched, held one; refused (nothing spent) with
   * the wait for the next.
   */
  take(scope: string, key: string, now: number, limit: SharedBucketLimit): Promise<BucketDecision>;
  /** Forgets buckets that are full again by `now` (a missing bucket is a full one). */
  purgeFull(now: number): Promise<void>;
}
