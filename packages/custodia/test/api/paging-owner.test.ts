/**
 * A paging link belongs to the identity that ran the search and to its grant: the same
 * user with other scopes, another patient context or another purpose of use gets the
 * answer of an expired link; a fresh token for the same grant pages on. On every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { BASE, type TestVault } from '../helpers/test-vault.js';
import { bearer, type Users, seededVault } from './access-fixtures.js';

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`paging links and their owner on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
    }, 120_000);
    afterAll(async () => t?.close());

    it('pages on for the same grant only', async () => {
      const wide = bearer(await users.token('clinician', { scope: 'user/*.rs' }));
      const first = await t.request('GET', '/fhir/Patient?_count=1', undefined, wide);
      expect(first.status).toBe(200);
      const next = first.body.link.find((l: any) => l.relation === 'next').url.replace(BASE, '/fhir');
      expect((await t.request('GET', next, undefined, wide)).status).toBe(200);
      // Another token of the same user for the same grant (a refreshed one, say).
      expect((await t.request('GET', next, undefined, bearer(await users.token('clinician', { scope: 'user/*.rs' })))).status).toBe(200);
      const expired = await t.request('GET', next, undefined, bearer(await users.token('clinician', { scope: 'user/Observation.rs user/Patient.s' })));
      for (const other of [
        { scope: 'user/Observation.rs user/Patient.s' },
        { scope: 'user/*.rs', purposeOfUse: 'HRESCH' },
        { scope: 'user/*.rs', patient: 'p1' },
      ]) {
        const r = await t.request('GET', next, undefined, bearer(await users.token('clinician', other)));
        expect(r.status, JSON.stringify(other)).toBe(expired.status);
        expect(r.body.issue[0].code, JSON.stringify(other)).toBe(expired.body.issue[0].code);
      }
      expect(expired.status).toBeGreaterThanOrEqual(400);
      expect(expired.body.issue[0].diagnostics).toMatch(/paging link has expired/);
      // And another user never.
      expect((await t.request('GET', next, undefined, bearer(await users.otherClinician()))).status).toBe(expired.status);
    });
  });
}
