/**
 * SMART 2.x finer-grained scopes (scopes-and-launch-context.html, "Finer-grained resource
 * constraints using search parameters"): `patient/Observation.rs?category=laboratory`
 * reaches only the Observations the query matches — in reads, searches, totals,
 * includes and writes, by the one rule (404 for the rest). Queries of token search
 * parameters are enforced; any other query grants nothing. On every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import type { TestVault } from '../helpers/test-vault.js';
import { bearer, seededVault, type Users } from './access-fixtures.js';

const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const observation = (id: string, patient: string, category: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  category: [{ coding: [{ system: CATEGORY, code: category }] }],
  code: { text: category },
  subject: { reference: `Patient/${patient}` },
});

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`restricted scopes on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    const ids = async (h: Record<string, string>, url: string) => ((await t.request('GET', url, undefined, h)).body.entry ?? []).map((e: any) => e.resource.id).sort();
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      for (const [id, p, c] of [['lab-p1', 'p1', 'laboratory'], ['vital-p1', 'p1', 'vital-signs'], ['lab-p2', 'p2', 'laboratory'], ['img-p1', 'p1', 'imaging']] as const) {
        expect((await t.request('PUT', `/fhir/Observation/${id}`, observation(id, p, c))).status).toBe(201);
      }
    }, 120_000);
    afterAll(async () => t?.close());

    it('a patient-context scope with a category reaches that category of that patient only, everywhere', async () => {
      const h = bearer(await users.token('clinician', { patient: 'p1', scope: `patient/Observation.rs?category=${CATEGORY}|laboratory patient/Patient.rs` }));
      expect(await ids(h, '/fhir/Observation')).toEqual(['lab-p1']);
      expect((await t.request('GET', '/fhir/Observation?_summary=count', undefined, h)).body.total).toBe(1);
      expect((await t.request('GET', '/fhir/Observation/lab-p1', undefined, h)).status).toBe(200);
      for (const id of ['vital-p1', 'img-p1', 'o-p1', 'lab-p2']) expect((await t.request('GET', `/fhir/Observation/${id}`, undefined, h)).status, id).toBe(404);
      expect(await ids(h, '/fhir/Patient?_id=p1&_revinclude=Observation:subject')).toEqual(['lab-p1', 'p1']);
      expect((await t.request('GET', '/fhir/Observation/vital-p1/_history', undefined, h)).status).toBe(404);
      // Other types are not reached at all.
      expect((await t.request('GET', '/fhir/Condition?_summary=count', undefined, h)).status).toBe(403);
    });

    it('accepts a code without a system, several values (any of them), and several restricted scopes (any of them)', async () => {
      const codeOnly = bearer(await users.token('clinician', { scope: 'user/Observation.rs?category=laboratory' }));
      expect(await ids(codeOnly, '/fhir/Observation?_count=50')).toEqual(['lab-p1', 'lab-p2']);
      const either = bearer(await users.token('clinician', { scope: `user/Observation.rs?category=${CATEGORY}|laboratory,${CATEGORY}|imaging` }));
      expect(await ids(either, '/fhir/Observation?_count=50')).toEqual(['img-p1', 'lab-p1', 'lab-p2']);
      const two = bearer(await users.token('clinician', { scope: 'user/Observation.rs?category=laboratory user/Observation.rs?category=vital-signs' }));
      expect(await ids(two, '/fhir/Observation?_count=50')).toEqual(['lab-p1', 'lab-p2', 'vital-p1']);
      // An unrestricted scope as wide lifts the restriction; a narrower one does not.
      const wide = bearer(await users.token('clinician', { scope: 'user/Observation.rs?category=laboratory user/Observation.rs' }));
      expect((await ids(wide, '/fhir/Observation?_count=50')).length).toBe(6);
      const narrower = bearer(await users.token('clinician', { patient: 'p1', scope: 'user/Observation.rs?category=laboratory patient/Observation.rs' }));
      expect(await ids(narrower, '/fhir/Observation?_count=50')).toEqual(['lab-p1', 'lab-p2']);
    });

    it('refuses writes outside the query with 403, and lets those inside it through', async () => {
      const h = bearer(await users.token('clinician', { scope: 'user/Observation.cruds?category=laboratory' }));
      expect((await t.request('POST', '/fhir/Observation', observation('x', 'p1', 'laboratory'), h)).status).toBe(201);
      expect((await t.request('POST', '/fhir/Observation', observation('x', 'p1', 'vital-signs'), h)).status).toBe(403);
      // Moving a lab result out of the query is a write outside it.
      expect((await t.request('PUT', '/fhir/Observation/lab-p2', observation('lab-p2', 'p2', 'imaging'), h)).status).toBe(403);
      expect((await t.request('PUT', '/fhir/Observation/vital-p1', observation('vital-p1', 'p1', 'vital-signs'), h)).status).toBe(404);
    });

    it('grants nothing for a query it cannot enforce', async () => {
      for (const scope of ['user/Observation.rs?date=ge2020-01-01', 'user/Observation.rs?code:text=pulse', 'user/*.rs?category=laboratory', 'user/Observation.rs?category=|laboratory', 'user/Observation.rs?category=a\\,b']) {
        const h = bearer(await users.token('clinician', { scope }));
        expect((await t.request('GET', '/fhir/Observation?_summary=count', undefined, h)).status, scope).toBe(403);
      }
      // An operator token's restricted scopes grant nothing either.
      const operator = bearer(await t.vault.tokens.issue({ subject: 'op', scope: 'system/Observation.rs?category=laboratory', ttlSeconds: 60 }));
      expect((await t.request('GET', '/fhir/Observation?_summary=count', undefined, operator)).status).toBe(403);
    });

    it('limits a backend service by its system scope query', async () => {
      const h = bearer(await t.vault.tokens.issue({ subject: 'lab-feed', kind: 'client', clientId: 'lab-feed', scope: 'system/Observation.rs?category=laboratory', ttlSeconds: 60 }));
      const found = await ids(h, '/fhir/Observation?_count=50');
      // The two seeded lab results and the one created above; nothing else.
      expect(found).toEqual(expect.arrayContaining(['lab-p1', 'lab-p2']));
      expect(found).toHaveLength(3);
      for (const id of ['vital-p1', 'img-p1', 'o-p1', 'o-p2']) expect(found).not.toContain(id);
      expect((await t.request('GET', '/fhir/Observation/vital-p1', undefined, h)).status).toBe(404);
    });
  });
}
