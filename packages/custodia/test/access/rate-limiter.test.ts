/** Token buckets and the per-user / per-client rate limiter, with an injected clock. */
import { describe, expect, it } from 'vitest';
import { WORK_PER_REQUEST, RateLimiter, TokenBuckets, type Principal } from '../../src/access/index.js';
import { CustodiaError, ManualClock } from '../../src/kernel/index.js';

const principal = (p: Partial<Principal> & Pick<Principal, 'kind' | 'subject'>): Principal => ({
  issuer: 'urn:test',
  tokenId: 't',
  scope: '',
  scopes: [],
  expiresAt: 0,
  purposeOfUse: 'TREAT',
  clearances: [],
  ...p,
});

/** The error `fn` throws (fails the test when it throws none). */
async function refusal(p: Promise<void>): Promise<CustodiaError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CustodiaError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

function thrown(fn: () => void): CustodiaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CustodiaError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('TokenBuckets', () => {
  it('allows the burst, then one per refill interval, with the exact wait', () => {
    const clock = new ManualClock(0);
    const b = new TokenBuckets(clock, { capacity: 4, refill: 2, intervalMs: 1000, maxKeys: 10 });
    expect([1, 2, 3, 4].map(() => b.take('k').allowed)).toEqual([true, true, true, true]);
    expect(b.take('k')).toEqual({ allowed: false, retryAfterMs: 500 });
    expect(b.waitMs('k')).toBe(500);
    expect(b.waitMs('other')).toBe(0);
    clock.advance(499);
    expect(b.take('k').allowed).toBe(false);
    clock.advance(1);
    expect(b.take('k').allowed).toBe(true);
  });

  it('forgets a bucket once it has refilled, and never keeps more than maxKeys', () => {
    const clock = new ManualClock(0);
    const b = new TokenBuckets(clock, { capacity: 2, refill: 1, intervalMs: 1000, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) b.take(k);
    expect(b.size).toBe(3);
    // 'a' and 'b' were evicted (least recently used): they start full again.
    expect(b.waitMs('a')).toBe(0);
    // Two seconds later every bucket is full; each call sweeps idle ones away.
    clock.advance(2000);
    b.take('x');
    b.take('y');
    expect(b.size).toBeLessThan(3);
    for (let i = 0; i < 1000; i++) {
      clock.advance(2000);
      b.take(`key-${i}`);
    }
    expect(b.size).toBeLessThanOrEqual(2);
  });

  it('spends into debt for a cost known after admission, and admits nothing until it is repaid', () => {
    const clock = new ManualClock(0);
    const b = new TokenBuckets(clock, { capacity: 4, refill: 2, intervalMs: 1000, maxKeys: 10 });
    expect(b.take('k').allowed).toBe(true);
    b.spend('k', 9);
    // 3 − 9 = −6 tokens: one more to admit is 7 tokens away, 3.5 s.
    expect(b.waitMs('k')).toBe(3500);
    expect(b.take('k')).toEqual({ allowed: false, retryAfterMs: 3500 });
    clock.advance(3500);
    expect(b.take('k').allowed).toBe(true);
    expect(b.take('k').allowed).toBe(false);
    // A bucket never seen starts full; nothing (or less) to spend changes nothing.
    b.spend('new', 2);
    expect([b.take('new').allowed, b.take('new').allowed, b.take('new').allowed]).toEqual([true, true, false]);
    b.spend('other', 0);
    b.spend('other', Number.NaN);
    expect(b.waitMs('other')).toBe(0);
  });

  it('refuses nonsensical settings', () => {
    const clock = new ManualClock(0);
    for (const o of [
      { capacity: 0, refill: 1, intervalMs: 1000, maxKeys: 1 },
      { capacity: 1, refill: 0, intervalMs: 1000, maxKeys: 1 },
      { capacity: 1, refill: 1, intervalMs: 0, maxKeys: 1 },
      { capacity: 1, refill: 1, intervalMs: 1000, maxKeys: 0 },
      { capacity: Number.POSITIVE_INFINITY, refill: 1, intervalMs: 1000, maxKeys: 1 },
    ]) {
      expect(() => new TokenBuckets(clock, o)).toThrow(expect.objectContaining({ code: 'config-invalid' }));
    }
  });
});

describe('RateLimiter', () => {
  const limits = { user: { perSecond: 1, burst: 3 }, client: { perSecond: 2, burst: 5 }, token: { perSecond: 1, burst: 2 }, logout: { perSecond: 1, burst: 2 }, authorize: { perSecond: 1, burst: 2 }, unauthenticated: { perSecond: 1, burst: 2 }, maxKeys: 100 };

  it('limits each user on their own, with Retry-After for the next token', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, limits);
    const alice = principal({ kind: 'user', subject: 'alice' });
    const bob = principal({ kind: 'user', subject: 'bob' });
    for (let i = 0; i < 3; i++) limiter.admit(alice);
    const e = thrown(() => limiter.admit(alice));
    expect(e.code).toBe('rate-limited');
    expect(e.retryAfterMs).toBe(1000);
    limiter.admit(bob);
    clock.advance(1000);
    limiter.admit(alice);
    expect(() => limiter.admit(alice)).toThrow(CustodiaError);
  });

  it("draws a SMART app user's requests from the app's bucket too; a refusal spends from neither", () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, limits);
    // Five users of one app: the app's burst of 5 is the limit, not theirs.
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'].map((subject) => principal({ kind: 'user', subject, clientId: 'app' }));
    for (const u of users.slice(0, 5)) limiter.admit(u);
    expect(thrown(() => limiter.admit(users[5]!)).retryAfterMs).toBe(500);
    // u6 was refused by the app's bucket: its own bucket is untouched (3 left), and so
    // is everyone else's; the same user through no app is admitted.
    for (let i = 0; i < 3; i++) limiter.admit(principal({ kind: 'user', subject: 'u6' }));
    expect(() => limiter.admit(principal({ kind: 'user', subject: 'u6' }))).toThrow(CustodiaError);
  });

  it('limits a backend service by its client id, and never the operator', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, limits);
    const service = principal({ kind: 'client', subject: 'backend', clientId: 'backend' });
    for (let i = 0; i < 5; i++) limiter.admit(service);
    expect(() => limiter.admit(service)).toThrow(expect.objectContaining({ code: 'rate-limited' }));
    const operator = principal({ kind: 'operator', subject: 'operator' });
    for (let i = 0; i < 10_000; i++) limiter.admit(operator);
  });

  it('charges an admitted request for more interactions (a Bundle\'s entries) on every bucket it drew on, never the operator', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, limits);
    const user = principal({ kind: 'user', subject: 'u', clientId: 'app' });
    limiter.admit(user);
    limiter.charge(user, 9);
    // The user's bucket: 3 − 10 = −7, eight seconds from the next admission; the app's: 5 − 10 = −5, three seconds.
    expect(thrown(() => limiter.admit(user)).retryAfterMs).toBe(8000);
    expect(thrown(() => limiter.admit(principal({ kind: 'user', subject: 'v', clientId: 'app' }))).retryAfterMs).toBe(3000);
    clock.advance(8000);
    limiter.admit(user);
    const service = principal({ kind: 'client', subject: 'backend', clientId: 'backend' });
    limiter.admit(service);
    limiter.charge(service, 4);
    expect(() => limiter.admit(service)).toThrow(expect.objectContaining({ code: 'rate-limited' }));
    const operator = principal({ kind: 'operator', subject: 'operator' });
    limiter.charge(operator, 1_000_000);
    limiter.admit(operator);
  });

  it('charges a body one token per WORK_PER_REQUEST.bodyBytes beyond the request, and tells the wait without taking anything', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, limits);
    const user = principal({ kind: 'user', subject: 'u' });
    limiter.admit(user);
    limiter.chargeWork(user, 'bodyBytes', WORK_PER_REQUEST.bodyBytes - 1);
    expect(limiter.waitMs(user)).toBe(0);
    limiter.chargeWork(user, 'bodyBytes', 0);
    limiter.charge(user, 0);
    limiter.charge(user, -5);
    limiter.charge(user, Number.NaN);
    expect(limiter.waitMs(user)).toBe(0);
    limiter.chargeWork(user, 'bodyBytes', 2 * WORK_PER_REQUEST.bodyBytes + 5);
    // 3 − 1 − 2 = 0: the next admission is a second away, and asking does not change that.
    expect(limiter.waitMs(user)).toBe(1000);
    expect(limiter.waitMs(user)).toBe(1000);
    expect(thrown(() => limiter.admit(user)).retryAfterMs).toBe(1000);
    clock.advance(1000);
    expect(limiter.waitMs(user)).toBe(0);
    limiter.admit(user);
  });

  it('counts refused tokens per client address (an IPv6 /64 as one), and refuses past the limit', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, limits);
    limiter.countRefusedToken('192.0.2.1');
    limiter.countRefusedToken('192.0.2.1');
    expect(thrown(() => limiter.countRefusedToken('192.0.2.1')).retryAfterMs).toBe(1000);
    limiter.countRefusedToken('192.0.2.2');
    limiter.countRefusedToken('2001:db8::1');
    limiter.countRefusedToken('2001:db8::ffff');
    expect(thrown(() => limiter.countRefusedToken('2001:db8::2')).code).toBe('rate-limited');
    limiter.countRefusedToken(undefined);
    clock.advance(1000);
    limiter.countRefusedToken('192.0.2.1');
  });

  it('limits token requests per client', () => {
    const limiter = new RateLimiter(new ManualClock(0), limits);
    limiter.admitTokenRequest('a');
    limiter.admitTokenRequest('a');
    expect(thrown(() => limiter.admitTokenRequest('a')).retryAfterMs).toBe(1000);
    limiter.admitTokenRequest('b');
  });

  it('limits sign-outs per address (an IPv6 /64 as one) and, apart, per user and app', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, limits);
    await limiter.admitLogoutFrom('2001:db8:1:2::1');
    await limiter.admitLogoutFrom('2001:db8:1:2::ffff');
    expect((await refusal(limiter.admitLogoutFrom('2001:db8:1:2:aaaa::1'))).retryAfterMs).toBe(1000);
    await limiter.admitLogoutFrom('2001:db8:1:3::1');
    // The per-user buckets are apart from the address buckets, and per app.
    await limiter.admitLogoutOf('u1', 'app');
    await limiter.admitLogoutOf('u1', 'app');
    expect((await refusal(limiter.admitLogoutOf('u1', 'app'))).code).toBe('rate-limited');
    await limiter.admitLogoutOf('u1', 'other-app');
    await limiter.admitLogoutOf('u2', 'app');
    clock.advance(1000);
    await limiter.admitLogoutOf('u1', 'app');
    await limiter.admitLogoutFrom('2001:db8:1:2::1');
  });

});
