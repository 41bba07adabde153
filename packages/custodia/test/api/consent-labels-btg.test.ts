/**
 * Consent, security labels and break-the-glass through the HTTP API, on every database.
 * A forbidden resource must not show up anywhere: reads, searches, _total,
 * _summary=count, includes, chains, _has, history, transaction responses, errors — and a
 * consent change takes effect on the next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, blockPractitioner, type Users, seededVault } from './access-fixtures.js';

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`consent, labels and break-the-glass on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
    }, 120_000);
    afterAll(async () => t?.close());

    /** Everything dr1 (the clinician) can learn about p2 through the API. */
    async function whatDr1Sees(h: Record<string, string>) {
      const get = async (url: string) => t.request('GET', url, undefined, h);
      return {
        read: (await get('/fhir/Patient/p2')).status,
        observationRead: (await get('/fhir/Observation/o-p2')).status,
        vread: (await get('/fhir/Patient/p2/_history/1')).status,
        history: (await get('/fhir/Patient/p2/_history')).status,
        search: (await get('/fhir/Patient?_id=p2')).body.total,
        count: (await get('/fhir/Observation?subject=Patient/p2&_summary=count')).body.total,
        chain: (await get('/fhir/Observation?subject:Patient.family=Family-p2')).body.total,
        has: (await get('/fhir/Patient?_has:Observation:subject:code:text=pulse&_id=p2')).body.total,
        include: ((await get('/fhir/Observation?_id=o-p2&_include=Observation:subject')).body.entry ?? []).length,
        revinclude: ((await get('/fhir/Organization?_id=org1&_revinclude=Patient:organization')).body.entry ?? []).map((e: any) => e.resource.id).includes('p2'),
        typeHistory: ((await get('/fhir/Observation/_history')).body.entry ?? []).some((e: any) => e.resource?.subject?.reference === 'Patient/p2'),
        conditionalRef: (await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?family=Family-p2' } }, request: { method: 'POST', url: 'Observation' } }] }, h)).status,
      };
    }

    it('a patient blocking one practitioner hides their whole record from that practitioner only, from the next request', async () => {
      const dr1 = bearer(await users.token('clinician'));
      const visible = await whatDr1Sees(dr1);
      expect(visible).toMatchObject({ read: 200, observationRead: 200, vread: 200, history: 200, search: 1, count: 1, chain: 1, has: 1, include: 2, revinclude: true, typeHistory: true, conditionalRef: 200 });

      expect((await t.request('PUT', '/fhir/Consent/block-dr1', blockPractitioner('block-dr1', 'p2', 'dr1'))).status).toBe(201);
      const hidden = await whatDr1Sees(dr1);
      expect(hidden).toEqual({ read: 404, observationRead: 404, vread: 404, history: 404, search: 0, count: 0, chain: 0, has: 0, include: 0, revinclude: false, typeHistory: false, conditionalRef: 400 });
      // Indistinguishable from a record that does not exist.
      const missing = await t.request('GET', '/fhir/Patient/never-existed', undefined, dr1);
      const denied = await t.request('GET', '/fhir/Patient/p2', undefined, dr1);
      expect(denied.body.issue).toEqual(missing.body.issue.map((i: any) => ({ ...i, diagnostics: i.diagnostics.replace('never-existed', 'p2') })));
      // Another clinician still sees p2.
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, bearer(await users.otherClinician()))).status).toBe(200);

      expect((await t.request('DELETE', '/fhir/Consent/block-dr1')).status).toBe(204);
      expect(await whatDr1Sees(dr1)).toMatchObject({ read: 200, search: 1 });
    });

    it('hides sensitive data without a clearance, shows it with one, and never in totals', async () => {
      const plain = bearer(await users.token('clinician'));
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, plain)).status).toBe(404);
      const all = await t.request('GET', '/fhir/Condition?subject=Patient/p2&_total=accurate', undefined, plain);
      expect(all.body.total).toBe(1);
      expect(all.body.entry.map((e: any) => e.resource.id)).toEqual(['c-p2']);
      expect((await t.request('GET', '/fhir/Condition?_security=http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV&_summary=count', undefined, plain)).body.total).toBe(0);
      const cleared = bearer(await users.token('clinician', { clearances: ['HIV'] }));
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, cleared)).status).toBe(200);
      expect((await t.request('GET', '/fhir/Condition?subject=Patient/p2&_summary=count', undefined, cleared)).body.total).toBe(2);
      // The patient always sees their own record (here p1's token; p2's HIV data is not theirs).
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, bearer(await users.token('patient')))).status).toBe(404);
    });

    it('break-the-glass lifts consent and labels for one patient, for a limited time, and lands on the review queue', async () => {
      await t.request('PUT', '/fhir/Consent/block-dr1', blockPractitioner('block-dr1', 'p2', 'dr1'));
      const dr1 = await users.token('clinician');
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, bearer(dr1))).status).toBe(404);
      // A reason is required.
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, { ...bearer(dr1), 'x-purpose-of-use': 'BTG', 'x-break-glass-patient': 'p2' })).status).toBe(400);
      const btg = { ...bearer(dr1), 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': 'Unconscious in the emergency department', 'x-break-glass-patient': 'p2' };
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, btg)).status).toBe(200);
      // The session holds for the next requests, without the headers, for p2 only.
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, bearer(dr1))).status).toBe(200);
      expect((await t.request('GET', '/fhir/Observation/o-p2', undefined, bearer(dr1))).status).toBe(200);
      // It never overrides an administrative deny (a missing scope).
      const narrow = await users.token('clinician', { scope: 'user/Observation.rs' });
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, { ...bearer(narrow), 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': 'Unconscious in the emergency department', 'x-break-glass-patient': 'p2' })).status).toBe(403);
      // Administrators and patients cannot break the glass.
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, { ...bearer(await users.token('patient')), 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': 'I would like to see it please', 'x-break-glass-patient': 'p2' })).status).toBe(403);

      const po = bearer(await users.token('privacy-officer'));
      const queue = await t.app.inject({ method: 'GET', url: '/admin/btg-reviews', headers: po });
      expect(queue.statusCode).toBe(200);
      const sessions = JSON.parse(queue.body) as any[];
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toMatchObject({ patientId: 'p2', review: 'pending', reason: 'Unconscious in the emergency department' });
      expect((await t.app.inject({ method: 'GET', url: '/admin/btg-reviews', headers: bearer(dr1) })).statusCode).toBe(403);
      const reviewed = await t.app.inject({ method: 'POST', url: `/admin/btg-reviews/${sessions[0].id}`, headers: { ...po, 'content-type': 'application/json' }, payload: JSON.stringify({ disposition: 'justified', note: 'ED admission confirmed' }) });
      expect(reviewed.statusCode).toBe(200);
      expect(JSON.parse((await t.app.inject({ method: 'GET', url: '/admin/btg-reviews', headers: po })).body)).toEqual([]);
    });

    it('explains a decision to a privacy officer, layer by layer', async () => {
      const po = bearer(await users.token('privacy-officer'));
      const r = await t.app.inject({ method: 'GET', url: '/admin/explain?user=u-nurse&resource=Condition/c-hiv', headers: po });
      expect(r.statusCode).toBe(200);
      const e = JSON.parse(r.body);
      expect(e).toMatchObject({ exists: true, allowed: false });
      expect(e.layers.find((l: any) => l.layer === 'labels')).toMatchObject({ allows: false });
      expect(e.layers.find((l: any) => l.layer === 'permissions')).toMatchObject({ allows: true });
      expect((await t.app.inject({ method: 'GET', url: '/admin/explain?user=u-nurse&resource=Condition/c-hiv', headers: bearer(await users.token('nurse')) })).statusCode).toBe(403);
    });
  });
}
