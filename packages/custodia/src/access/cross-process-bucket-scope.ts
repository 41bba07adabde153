/**
 * One limit over shared token buckets (cross-process-buckets.ts): a scope (what is limited: the
 * sign-in throttle, a device's findings), its burst and rate, and the clock it measures
 * elapsed time by — the wall clock, since the buckets compare readings of every process
 * that shares them. Full buckets are forgotten at most every ten minutes, as takes come.
 */
import type { Clock } from '../kernel/index.js';
import type { SharedBucketLimit, SharedBuckets } from './cross-process-buckets.js';
import type { BucketDecision } from './token-buckets.js';

/** How often full buckets are forgotten, at most. */
const PURGE_INTERVAL_MS = 10 * 60_000;

export class SharedBucketScope {
  #lastPurge = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly buckets: SharedBuckets,
    private readonly scope: string,
    private readonly limit: SharedBucketLimit,
    private readonly clock: Clock,
  ) {}

  /** Takes one token from `key`'s bucket, across every process that shares the buckets. */
  take(key: string): Promise<BucketDecision> {
    const now = this.clock.now();
    if (now - this.#lastPurge >= PURGE_INTERVAL_MS) {
      this.#lastPurge = now;
      // Best effort: a full bucket left behind decides nothing a missing one would not.
      this.buckets.purgeFull(now).catch(() => undefined);
    }
    return this.buckets.take(this.scope, key, now, this.limit);
  }
}
