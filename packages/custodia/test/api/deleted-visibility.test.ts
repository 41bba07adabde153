/**
 * Deleting a resource does not change who may know about it. A record hidden by a
 * security label or by the patient's consent stays hidden after a DELETE: read, vread of
 * its old versions, instance history and type history all answer as if it never existed
 * (404, never 410 or 200); those who could see it get 410 on read and its old versions.
 * On every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, blockPractitioner, HIV_CONDITION, type Users, seededVault } from './access-fixtures.js';

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`deleted resources keep their protection on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      // An HIV-labelled Condition of p1 (labelled automatically from its code), updated once, then deleted.
      const hiv = { ...HIV_CONDITION, id: 'c-hiv-gone', subject: { reference: 'Patient/p1' } };
      expect((await t.request('PUT', '/fhir/Condition/c-hiv-gone', hiv)).status).toBe(201);
      expect((await t.request('PUT', '/fhir/Condition/c-hiv-gone', { ...hiv, note: [{ text: 'confirmed' }] })).status).toBe(200);
      expect((await t.request('DELETE', '/fhir/Condition/c-hiv-gone')).status).toBe(204);
      // An ordinary Observation of p2, deleted; p2's consent hides p2's record from dr1.
      expect((await t.request('PUT', '/fhir/Observation/o-gone', { resourceType: 'Observation', id: 'o-gone', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p2' } })).status).toBe(201);
      expect((await t.request('DELETE', '/fhir/Observation/o-gone')).status).toBe(204);
      expect((await t.request('PUT', '/fhir/Consent/block-dr1', blockPractitioner('block-dr1', 'p2', 'dr1'))).status).toBe(201);
    }, 120_000);
    afterAll(async () => t?.close());

    /** What a caller learns about one deleted resource. */
    async function probe(h: Record<string, string>, type: string, id: string) {
      const get = async (url: string) => t.request('GET', url, undefined, h);
      const typeHistory = await get(`/fhir/${type}/_history?_count=100`);
      return {
        read: (await get(`/fhir/${type}/${id}`)).status,
        vread1: (await get(`/fhir/${type}/${id}/_history/1`)).status,
        vreadLast: (await get(`/fhir/${type}/${id}/_history/2`)).status,
        history: (await get(`/fhir/${type}/${id}/_history`)).status,
        typeHistory: (typeHistory.body.entry ?? []).filter((e: any) => e.fullUrl.endsWith(`/${type}/${id}`)).length,
        search: (await get(`/fhir/${type}?_id=${id}&_total=accurate`)).body.total,
      };
    }

    /** A 404 for a hidden id is the 404 of an id that never existed. */
    async function expectSameAsMissing(h: Record<string, string>, url: string, id: string) {
      const hidden = await t.request('GET', url, undefined, h);
      const missing = await t.request('GET', url.replace(id, 'never-existed'), undefined, h);
      expect(hidden.status).toBe(404);
      expect(hidden.body.issue).toEqual(missing.body.issue.map((i: any) => ({ ...i, diagnostics: i.diagnostics.replace('never-existed', id) })));
    }

    it('a deleted HIV-labelled record stays invisible to a clinician without the HIV clearance', async () => {
      const plain = bearer(await users.token('clinician'));
      expect(await probe(plain, 'Condition', 'c-hiv-gone')).toEqual({ read: 404, vread1: 404, vreadLast: 404, history: 404, typeHistory: 0, search: 0 });
      await expectSameAsMissing(plain, '/fhir/Condition/c-hiv-gone', 'c-hiv-gone');
      await expectSameAsMissing(plain, '/fhir/Condition/c-hiv-gone/_history/1', 'c-hiv-gone');
      await expectSameAsMissing(plain, '/fhir/Condition/c-hiv-gone/_history', 'c-hiv-gone');
      // A nurse (another role, no clearance) likewise.
      expect(await probe(bearer(await users.token('nurse')), 'Condition', 'c-hiv-gone')).toMatchObject({ read: 404, vread1: 404, history: 404, typeHistory: 0 });
    });

    it('a cleared clinician sees that it was deleted, and its earlier versions', async () => {
      const cleared = bearer(await users.token('clinician', { clearances: ['HIV'] }));
      expect(await probe(cleared, 'Condition', 'c-hiv-gone')).toEqual({ read: 410, vread1: 200, vreadLast: 200, history: 200, typeHistory: 3, search: 0 });
      const v1 = await t.request('GET', '/fhir/Condition/c-hiv-gone/_history/1', undefined, cleared);
      expect(v1.body.code.coding[0].code).toBe('86406008');
      expect((await t.request('GET', '/fhir/Condition/c-hiv-gone/_history/3', undefined, cleared)).status).toBe(410);
      // The labelled record that was deleted is never counted by a label search, even by those who see everything.
      const labelled = await t.request('GET', '/fhir/Condition?_security=http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV&_total=accurate');
      expect(labelled.body.entry.map((e: any) => e.resource.id)).toEqual(['c-hiv']);
      expect(labelled.body.total).toBe(1);
    });

    it("a deleted record of a patient whose consent blocks the clinician stays invisible to that clinician", async () => {
      const dr1 = bearer(await users.token('clinician'));
      expect(await probe(dr1, 'Observation', 'o-gone')).toEqual({ read: 404, vread1: 404, vreadLast: 404, history: 404, typeHistory: 0, search: 0 });
      await expectSameAsMissing(dr1, '/fhir/Observation/o-gone/_history/1', 'o-gone');
      // Another clinician, whom the consent does not name, sees the deletion and the old version.
      const dr2 = bearer(await users.otherClinician());
      expect(await probe(dr2, 'Observation', 'o-gone')).toEqual({ read: 410, vread1: 200, vreadLast: 410, history: 200, typeHistory: 2, search: 0 });
      // Patient-bound: p1 never sees p2's deleted record.
      expect(await probe(bearer(await users.token('patient')), 'Observation', 'o-gone')).toMatchObject({ read: 404, vread1: 404, history: 404, typeHistory: 0 });
    });

    it('kept facts never bring a deleted resource into searches, includes, chains or _has', async () => {
      const h = bearer(await users.otherClinician());
      const get = async (url: string) => (await t.request('GET', url, undefined, h)).body;
      expect((await get('/fhir/Observation?subject=Patient/p2&_total=accurate')).total).toBe(1);
      expect((await get('/fhir/Observation?subject:Patient.family=Family-p2&_summary=count')).total).toBe(1);
      expect((await get('/fhir/Patient?_has:Observation:subject:code:text=weight&_summary=count')).total).toBe(0);
      expect(((await get('/fhir/Patient?_id=p2&_revinclude=Observation:subject')).entry ?? []).map((e: any) => e.resource.id).sort()).toEqual(['o-p2', 'p2']);
      expect((await get('/fhir/Observation?_security:missing=true&_summary=count')).total).toBe(2);
    });

    it('a resource brought back after deletion is indexed and protected by its new version', async () => {
      // Brought back without the HIV code: no longer labelled, visible and searchable again.
      const patient = bearer(await users.token('patient'));
      expect((await t.request('GET', '/fhir/Condition/o-gone', undefined, patient)).status).toBe(404);
      const back = await t.request('PUT', '/fhir/Observation/o-gone', { resourceType: 'Observation', id: 'o-gone', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' } });
      expect(back.status).toBe(201);
      // Now p1's, not p2's: p1 sees it, and p2's consent no longer hides it from dr1.
      expect((await t.request('GET', '/fhir/Observation/o-gone', undefined, patient)).status).toBe(200);
      const dr1 = bearer(await users.token('clinician'));
      expect((await t.request('GET', '/fhir/Observation/o-gone', undefined, dr1)).status).toBe(200);
      expect((await t.request('GET', '/fhir/Observation?subject=Patient/p1&code:text=weight&_summary=count', undefined, dr1)).body.total).toBe(1);
      // Brought back without the HIV code: still labelled HIV (labels are never removed by a
      // write), so its earlier HIV versions stay out of reach of those without the clearance.
      const plainCondition = { resourceType: 'Condition', id: 'c-hiv-gone', code: { text: 'cough' }, subject: { reference: 'Patient/p1' } };
      expect((await t.request('PUT', '/fhir/Condition/c-hiv-gone', plainCondition)).status).toBe(201);
      expect(await probe(dr1, 'Condition', 'c-hiv-gone')).toMatchObject({ read: 404, vread1: 404, history: 404, typeHistory: 0, search: 0 });
      const cleared = bearer(await users.token('clinician', { clearances: ['HIV'] }));
      expect((await t.request('GET', '/fhir/Condition/c-hiv-gone', undefined, cleared)).status).toBe(200);
      expect((await t.request('GET', '/fhir/Condition?_id=c-hiv-gone&_security=http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV&_summary=count')).body.total).toBe(1);
    });

    it('an update that drops a label keeps it: the earlier labelled versions stay hidden', async () => {
      const hiv = { ...HIV_CONDITION, id: 'c-hiv-relabel', subject: { reference: 'Patient/p1' } };
      expect((await t.request('PUT', '/fhir/Condition/c-hiv-relabel', hiv)).status).toBe(201);
      const without = { resourceType: 'Condition', id: 'c-hiv-relabel', code: { text: 'cough' }, subject: { reference: 'Patient/p1' } };
      expect((await t.request('PUT', '/fhir/Condition/c-hiv-relabel', without)).status).toBe(200);
      // The same through a transaction Bundle.
      const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...without, note: [{ text: 'again' }] }, request: { method: 'PUT', url: 'Condition/c-hiv-relabel' } }] };
      expect((await t.request('POST', '/fhir', bundle)).status).toBe(200);
      const dr1 = bearer(await users.token('clinician'));
      for (const url of ['/fhir/Condition/c-hiv-relabel', '/fhir/Condition/c-hiv-relabel/_history/1', '/fhir/Condition/c-hiv-relabel/_history']) {
        expect((await t.request('GET', url, undefined, dr1)).status).toBe(404);
      }
      const cleared = bearer(await users.token('clinician', { clearances: ['HIV'] }));
      expect((await t.request('GET', '/fhir/Condition/c-hiv-relabel/_history', undefined, cleared)).body.total).toBe(3);
    });
  });
}
