/**
 * Account lockout with exponential backoff, driven by a ManualClock; a locked account
 * answers exactly like a wrong password.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOCKOUT, lockDelayMs, lockedUntilAfter } from '../../../src/access/index.js';
import { isCustodiaError } from '../../../src/kernel/index.js';
import { GOOD_PASSWORD, codeFor, harness, type Harness } from './identity-fixtures.js';

describe('lockDelayMs', () => {
  it('locks at the 5th failure for a minute, doubles per further failure, caps at an hour', () => {
    const minute = 60_000;
    expect([1, 2, 3, 4].map((n) => lockDelayMs(n))).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8, 9, 10, 11, 12, 50, 10_000].map((n) => lockDelayMs(n) / minute)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
    expect(lockedUntilAfter(4, 1000)).toBeUndefined();
    expect(lockedUntilAfter(5, 1000)).toBe(1000 + DEFAULT_LOCKOUT.baseDelayMs);
  });
});

describe('lockout through the identity service', () => {
  let h: Harness;
  const ip = '192.0.2.10';
  const failsWith = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'ok';
    } catch (e) {
      if (!isCustodiaError(e)) throw e;
      return `${e.code}: ${e.message}`;
    }
  };

  beforeEach(async () => {
    // A generous throttle so that only the lockout is measured here.
    h = harness({ throttle: { capacity: 1000, refillPerMinute: 1000 } });
    await h.service.addUser({ username: 'nina', role: 'nurse', password: GOOD_PASSWORD });
  });

  it('locks after 5 failures, refuses even the right password the same way, and opens again after the delay', async () => {
    const wrong = await failsWith(h.service.authenticate('nina', 'not the password at all', ip));
    expect(wrong).toMatch(/^login-failed/);
    for (let i = 0; i < 4; i++) await failsWith(h.service.authenticate('nina', `wrong guess ${i} here`, ip));
    expect((await h.store.findUserByUsername('nina'))?.failedLogins).toBe(5);

    // Locked: the right password gets the very same answer as a wrong one.
    expect(await failsWith(h.service.authenticate('nina', GOOD_PASSWORD, ip))).toBe(wrong);
    h.clock.advance(59_000);
    expect(await failsWith(h.service.authenticate('nina', GOOD_PASSWORD, ip))).toBe(wrong);
    // Attempts during the lock are not counted (they cannot extend it).
    expect((await h.store.findUserByUsername('nina'))?.failedLogins).toBe(5);

    h.clock.advance(1_000);
    const ok = await h.service.authenticate('nina', GOOD_PASSWORD, ip);
    expect(ok.user.username).toBe('nina');
    const after = await h.store.findUserByUsername('nina');
    expect(after?.failedLogins).toBe(0);
    expect(after?.lockedUntil).toBeUndefined();
  });

  it('doubles the lock for each failure after it ran out', async () => {
    for (let i = 0; i < 5; i++) await failsWith(h.service.authenticate('nina', `wrong guess ${i} here`, ip));
    const first = (await h.store.findUserByUsername('nina'))!.lockedUntil!;
    expect(first - h.clock.now()).toBe(60_000);
    h.clock.set(first);
    await failsWith(h.service.authenticate('nina', 'wrong guess again!', ip));
    expect((await h.store.findUserByUsername('nina'))!.lockedUntil! - h.clock.now()).toBe(120_000);
    h.clock.advance(120_000);
    await failsWith(h.service.authenticate('nina', 'wrong guess again!', ip));
    expect((await h.store.findUserByUsername('nina'))!.lockedUntil! - h.clock.now()).toBe(240_000);
  });

  it('counts concurrent guesses one after another, so a burst cannot slip past the lock', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => failsWith(h.service.authenticate('nina', i === 11 ? GOOD_PASSWORD : `burst guess ${i}!`, ip))));
    // The right password came after five failures: refused like the rest.
    expect(results[11]).toMatch(/^login-failed/);
    expect((await h.store.findUserByUsername('nina'))?.failedLogins).toBe(5);
  });

  it('wrong second-factor codes count towards the same lock', async () => {
    await h.service.setRoleMfaRequired('nurse', true);
    const user = (await h.service.getUserByUsername('nina'))!;
    const enrol = await h.service.enrollTotp(user.id);
    await h.service.confirmTotp(user.id, codeFor(enrol, h.clock.now()));
    h.clock.advance(30_000);
    expect((await h.service.authenticate('nina', GOOD_PASSWORD, ip)).mfaRequired).toBe(true);
    for (let i = 0; i < 5; i++) expect(await failsWith(h.service.verifySecondFactor(user.id, '000000'))).toMatch(/^login-failed/);
    // Now locked: even the right code is refused, and so is the password.
    expect(await failsWith(h.service.verifySecondFactor(user.id, codeFor(enrol, h.clock.now())))).toMatch(/^login-failed/);
    expect(await failsWith(h.service.authenticate('nina', GOOD_PASSWORD, ip))).toMatch(/^login-failed/);
  });
});
