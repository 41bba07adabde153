/**
 * Token buckets shared by every server process of one database (store/shared-buckets.ts),
 * on SQLite and PostgreSQL: a burst, then refusals with the wait, a refill capped at the
 * capacity, a clock that runs behind, forgetting full buckets, and — the point of them —
 * two connections (two servers) taking from one bucket at once never spending more than it
 * holds. The identity service then throttles sign-ins across servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, IdentityService, RateLimiter, ScryptHasher } from '../../src/access/index.js';
import { isCustodiaError, ManualClock, seededRandom } from '../../src/kernel/index.js';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';

const T0 = 1_800_000_000_000;
const LIMIT = { capacity: 3, perMs: 1 / 1000 }; // one a second

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`shared token buckets on ${name}`, () => {
    let db: TestDatabase;
    let a: VaultDatabase;
    let b: VaultDatabase;

    beforeAll(async () => {
      db = await createTestDatabase(name);
      a = await openDatabase(db.options);
      b = await openDatabase(db.options);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await db?.cleanup();
    });

    it('allows the burst, then one per refill, never more than the capacity', async () => {
      const take = (at: number, key = 'k1') => a.sharedBuckets.take('test', key, at, LIMIT);
      expect((await Promise.all([0, 0, 0].map(() => take(T0)))).map((d) => d.allowed)).toEqual([true, true, true]);
      expect(await take(T0 + 1)).toEqual({ allowed: false, retryAfterMs: 999 });
      // Refused takes spend nothing: the token is there a second after the last one taken.
      expect((await take(T0 + 999)).allowed).toBe(false);
      expect((await take(T0 + 1000)).allowed).toBe(true);
      expect((await take(T0 + 1000)).allowed).toBe(false);
      // Another key, another scope: their own buckets.
      expect((await take(T0 + 1000, 'k2')).allowed).toBe(true);
      expect((await a.sharedBuckets.take('other', 'k1', T0 + 1000, LIMIT)).allowed).toBe(true);
      // A long pause refills to the capacity, not beyond.
      const later = T0 + 3_600_000;
      expect((await Promise.all([1, 2, 3, 4].map(() => take(later)))).map((d) => d.allowed).sort()).toEqual([false, true, true, true]);
      // A server whose clock runs behind refills nothing (rather than a negative amount) and still takes only what is there.
      expect((await take(later - 60_000)).allowed).toBe(false);
      expect((await take(later + 1000)).allowed).toBe(true);
    });

    it('spends each token once, whichever of two servers takes it', async () => {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).sharedBuckets.take('race', 'one-address', T0, { capacity: 10, perMs: 1e-9 })));
      expect(results.filter((d) => d.allowed)).toHaveLength(10);
    });

    it('forgets buckets once they are full again', async () => {
      await a.sharedBuckets.take('purge', 'k', T0, LIMIT);
      await a.sharedBuckets.purgeFull(T0 + 999);
      // Still remembered: one token short until T0 + 1000.
      expect((await Promise.all([1, 2, 3].map(() => a.sharedBuckets.take('purge', 'k', T0 + 1, LIMIT)))).filter((d) => d.allowed)).toHaveLength(2);
      await a.sharedBuckets.purgeFull(T0 + 1 + 3000);
      expect((await Promise.all([1, 2, 3].map(() => b.sharedBuckets.take('purge', 'k', T0 + 1 + 3000, LIMIT)))).filter((d) => d.allowed)).toHaveLength(3);
    });

    it('limits the starts of sign-ins and the sign-outs of one address across servers, not per server', async () => {
      const clock = new ManualClock(T0);
      const limits = { ...DEFAULT_RATE_LIMITS, authorize: { burst: 3, perSecond: 0.001 }, logout: { burst: 2, perSecond: 0.001 } };
      const [one, two] = [new RateLimiter(clock, limits, a.sharedBuckets), new RateLimiter(clock, limits, b.sharedBuckets)];
      const outcome = (p: Promise<void>) => p.then(() => 'admitted', (e: unknown) => (isCustodiaError(e, 'rate-limited') ? 'limited' : String(e)));
      const starts: string[] = [];
      for (let i = 0; i < 6; i++) starts.push(await outcome((i % 2 === 0 ? one : two).admitAuthorizationFrom('203.0.113.9')));
      // Each server alone would admit 3 (6 in all); together the address gets 3.
      expect(starts).toEqual(['admitted', 'admitted', 'admitted', 'limited', 'limited', 'limited']);
      const outs: string[] = [];
      for (let i = 0; i < 4; i++) outs.push(await outcome((i % 2 === 0 ? one : two).admitLogoutOf('u1', 'app')));
      expect(outs).toEqual(['admitted', 'admitted', 'limited', 'limited']);
      // Another address, another user: their own buckets.
      expect(await outcome(two.admitAuthorizationFrom('203.0.113.10'))).toBe('admitted');
      expect(await outcome(one.admitLogoutFrom('203.0.113.9'))).toBe('admitted');
    });

    it('throttles sign-ins from one address across servers, not per server', async () => {
      const clock = new ManualClock(T0);
      const random = seededRandom('shared-throttle');
      const service = (d: VaultDatabase) => new IdentityService(d.identity, clock, random, { commonPasswords: new Set<string>(), hasher: new ScryptHasher(random, { logN: 4, r: 8, p: 1 }), throttle: { capacity: 4, refillPerMinute: 1 }, sharedThrottle: d.sharedBuckets });
      const [one, two] = [service(a), service(b)];
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) {
        try {
          await (i % 2 === 0 ? one : two).authenticate('nobody', 'wrong password', '198.51.100.23');
        } catch (e) {
          outcomes.push(isCustodiaError(e, 'login-throttled') ? 'throttled' : isCustodiaError(e, 'login-failed') ? 'failed' : String(e));
        }
      }
      // Each server alone would allow 4 (8 in all); together the address gets 4.
      expect(outcomes).toEqual(['failed', 'failed', 'failed', 'failed', 'throttled', 'throttled']);
    });
  });
}
