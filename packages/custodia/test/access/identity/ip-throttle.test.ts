/** The per-address token bucket, with an injected clock. */
import { describe, expect, it } from 'vitest';
import { IpThrottle, LoginThrottledError, throttleKey } from '../../../src/access/index.js';
import { ManualClock, isCustodiaError } from '../../../src/kernel/index.js';
import { GOOD_PASSWORD, harness } from './identity-fixtures.js';

describe('IpThrottle', () => {
  it('allows a burst of `capacity`, then one per refill interval', () => {
    const clock = new ManualClock(0);
    const t = new IpThrottle(clock, { capacity: 3, refillPerMinute: 6 });
    expect([1, 2, 3].map(() => t.take('198.51.100.7').allowed)).toEqual([true, true, true]);
    const refused = t.take('198.51.100.7');
    expect(refused).toEqual({ allowed: false, retryAfterMs: 10_000 });
    // Another address has its own bucket.
    expect(t.take('198.51.100.8').allowed).toBe(true);
    clock.advance(9_999);
    expect(t.take('198.51.100.7').allowed).toBe(false);
    clock.advance(1);
    expect(t.take('198.51.100.7').allowed).toBe(true);
    expect(t.take('198.51.100.7').allowed).toBe(false);
    // A long pause refills to capacity, not beyond.
    clock.advance(3_600_000);
    expect([1, 2, 3, 4].map(() => t.take('198.51.100.7').allowed)).toEqual([true, true, true, false]);
  });

  it('throws LoginThrottledError with the wait through consume()', async () => {
    const t = new IpThrottle(new ManualClock(0), { capacity: 1, refillPerMinute: 1 });
    await t.consume('203.0.113.1');
    try {
      await t.consume('203.0.113.1');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LoginThrottledError);
      expect(isCustodiaError(e, 'login-throttled')).toBe(true);
      expect((e as LoginThrottledError).retryAfterMs).toBe(60_000);
    }
  });

  it('keys IPv6 by /64 and IPv4-mapped IPv6 as IPv4', () => {
    expect(throttleKey('192.0.2.1')).toBe('192.0.2.1');
    expect(throttleKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(throttleKey('2001:db8:1:2:3:4:5:6')).toBe('2001:0db8:0001:0002::/64');
    expect(throttleKey('2001:db8:1:2::ffff')).toBe(throttleKey('2001:DB8:1:2:aaaa:bbbb:cccc:dddd'));
    expect(throttleKey('::1')).toBe('0000:0000:0000:0000::/64');
    expect(throttleKey('fe80::1%eth0')).toBe('fe80:0000:0000:0000::/64');
    expect(throttleKey('not an address')).toBe('other:not an address');
  });

  it('remembers at most maxKeys addresses, forgetting the least recently used', () => {
    const clock = new ManualClock(0);
    const t = new IpThrottle(clock, { capacity: 1, refillPerMinute: 1, maxKeys: 2 });
    t.take('10.0.0.1');
    t.take('10.0.0.2');
    t.take('10.0.0.1'); // refused, but now most recent
    t.take('10.0.0.3'); // evicts 10.0.0.2
    expect(t.size).toBe(2);
    expect(t.take('10.0.0.1').allowed).toBe(false);
    expect(t.take('10.0.0.2').allowed).toBe(true);
  });
});

describe('sign-in throttling', () => {
  it('stops an address spraying one password over many accounts, before any hashing work', async () => {
    const h = harness({ throttle: { capacity: 5, refillPerMinute: 5 } });
    await h.service.addUser({ username: 'victim', role: 'clinician', password: GOOD_PASSWORD });
    const codes: string[] = [];
    for (let i = 0; i < 7; i++) {
      try {
        await h.service.authenticate(`user${i}`, 'Summer2026!Summer', '198.51.100.99');
      } catch (e) {
        codes.push(isCustodiaError(e) ? e.code : 'other');
      }
    }
    expect(codes).toEqual(['login-failed', 'login-failed', 'login-failed', 'login-failed', 'login-failed', 'login-throttled', 'login-throttled']);
    expect(h.hasher.verifies).toHaveLength(5);
    // A legitimate user from another address is not affected.
    expect((await h.service.authenticate('victim', GOOD_PASSWORD, '198.51.100.100')).user.username).toBe('victim');
  });
});
