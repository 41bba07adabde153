/**
 * Break-the-glass reaches the one patient it was claimed for. A BTG purpose of use
 * carried in a token must not satisfy emergency-treatment provisions in other patients'
 * consents. On every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, permitConsent, type Users, seededVault } from './access-fixtures.js';

/** Nobody but emergency treatment (v3-ActReason ETREAT, which BTG specialises). */
const emergencyOnly = (id: string, patient: string) => ({
  ...permitConsent(id, patient),
  provision: {
    type: 'deny',
    provision: [{ type: 'permit', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' }] }],
  },
});

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`break-the-glass scope on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      for (const p of ['p1', 'p2']) expect((await t.request('PUT', `/fhir/Consent/emergency-${p}`, emergencyOnly(`emergency-${p}`, p))).status).toBe(201);
    }, 120_000);
    afterAll(async () => t?.close());

    it("opens p1's record to a BTG token claimed for p1, and leaves p2's consent in force", async () => {
      const ordinary = bearer(await users.token('clinician'));
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, ordinary)).status).toBe(404);
      const btg = bearer(await users.token('clinician', { purposeOfUse: 'BTG', breakGlassReason: 'Cardiac arrest on arrival', patient: 'p1' }));
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, btg)).status).toBe(200);
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, btg)).status).toBe(404);
      expect((await t.request('GET', '/fhir/Observation?subject=Patient/p2&_summary=count', undefined, btg)).body.total).toBe(0);
    });
  });
}
