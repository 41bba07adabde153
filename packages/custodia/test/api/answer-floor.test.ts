/**
 * The answer floor through the FHIR API (app/answer-floor.ts, threat-model.md § The 404
 * rule, and timing): a patient's read of another patient's record and of an id never
 * used both wait for the floor's timer, armed at arrival, with the same answer; the
 * patient's own record, and a 429, do not. The timer fires when the test says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { startTestVault, type TestResponse, type TestVault } from '../helpers/test-vault.js';
import { bearer, createUsers, seed, type Users } from './access-fixtures.js';
import type { FloorTimer } from '../../src/app/index.js';

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`answer floor on ${dialect}`, () => {
    const armed: { cancelled: boolean; fired: boolean; fire: () => void }[] = [];
    const timer: FloorTimer = {
      after(_ms, fire) {
        const a = { cancelled: false, fired: false, fire };
        armed.push(a);
        return () => void (a.cancelled = true);
      },
    };
    const fireAll = (): void => {
      for (const a of armed) if (!a.cancelled && !a.fired) (a.fired = true), a.fire();
    };
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      t = await startTestVault(dialect, { timer, config: { answerFloorMs: 25, rateLimits: { user: { perSecond: 0.01, burst: 4 } } } });
      await seed(t);
      users = await createUsers(t);
    }, 120_000);
    afterAll(async () => t?.close());

    /** A refused request: it must not have been answered 300 ms on, and is once the timer fires. */
    async function held(url: string, headers: Record<string, string>): Promise<TestResponse> {
      let answered = false;
      const res = t.request('GET', url, undefined, headers).then((r) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 300));
      expect(answered, url).toBe(false);
      fireAll();
      return res;
    }

    it('holds a hidden record and a missing one alike until the timer fires, and not what the caller may see', async () => {
      const h = bearer(await users.token('patient'));
      const hidden = await held('/fhir/Patient/p2', h);
      const missing = await held('/fhir/Patient/p9', h);
      expect([hidden.status, missing.status]).toEqual([404, 404]);
      expect(hidden.text.replace('p2', '<id>')).toBe(missing.text.replace('p9', '<id>'));
      const before = armed.length;
      const own = await t.request('GET', '/fhir/Patient/p1', undefined, h);
      expect(own.status).toBe(200);
      expect(armed.slice(before).map((a) => [a.cancelled, a.fired])).toEqual([[true, false]]);
    });

    it('does not hold answers past the rate limit', async () => {
      const h = bearer(await users.token('clinician'));
      for (let i = 0; i < 4; i++) expect((await held('/fhir/Patient/p9', h)).status).toBe(404);
      const before = armed.length;
      expect((await t.request('GET', '/fhir/Patient/p9', undefined, h)).status).toBe(429);
      expect(armed.slice(before).map((a) => a.cancelled)).toEqual([true]);
    });
  });
}
