/**
 * `Patient/[id]/$everything` (R4 patient-operation-everything.html) on every database: the
 * patient, their compartment and what it references, paged; under the caller's access
 * decision like any search (compartment, labels, consent, scopes); audited as a
 * disclosure of that patient; refused parameters and methods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import type { TestResponse, TestVault } from '../helpers/test-vault.js';
import { bearer, seededVault, type Users } from './access-fixtures.js';
import { decodeEntry, type AuditEntry } from '../../src/ledger/index.js';

const refs = (r: TestResponse, mode?: string): string[] =>
  (r.body.entry ?? []).filter((e: any) => e.resource.resourceType !== 'OperationOutcome' && (mode === undefined || e.search?.mode === mode)).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`Patient/$everything on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
    }, 120_000);
    afterAll(async () => t?.close());

    it("returns the patient's compartment and what it references, and nothing of anyone else", async () => {
      const r = await t.request('GET', '/fhir/Patient/p1/$everything', undefined, bearer(await users.token('patient')));
      expect(r.status, r.text).toBe(200);
      expect(r.body.type).toBe('searchset');
      expect(refs(r, 'match')).toEqual(['AuditEvent/ae-p1', 'Condition/c-p1', 'Consent/cons-p1', 'Observation/o-p1', 'Patient/p1']);
      // Referenced, outside the compartment: the managing organisation, the practitioner of the AuditEvent.
      expect(refs(r, 'include')).toEqual(expect.arrayContaining(['Organization/org1']));
      expect(JSON.stringify(r.body)).not.toContain('p2');
      expect(r.body.link[0]).toEqual({ relation: 'self', url: 'http://127.0.0.1:8080/fhir/Patient/p1/$everything' });
    });

    it('applies labels and consent as a search does, and answers 404 for a patient the caller may not see', async () => {
      const clinician = bearer(await users.token('clinician'));
      const p2 = await t.request('GET', '/fhir/Patient/p2/$everything', undefined, clinician);
      expect(refs(p2, 'match')).toEqual(['Condition/c-p2', 'Observation/o-p2', 'Patient/p2']); // not c-hiv (HIV label)
      const cleared = await t.request('GET', '/fhir/Patient/p2/$everything', undefined, bearer(await users.token('clinician', { clearances: ['HIV'] })));
      expect(refs(cleared, 'match')).toContain('Condition/c-hiv');
      const patient = bearer(await users.token('patient'));
      const hidden = await t.request('GET', '/fhir/Patient/p2/$everything', undefined, patient);
      const missing = await t.request('GET', '/fhir/Patient/nobody/$everything', undefined, patient);
      expect(hidden.status).toBe(404);
      expect(hidden.text.replace('p2', 'X')).toBe(missing.text.replace('nobody', 'X'));
    });

    it('takes _type, _count (paging) and _since', async () => {
      const h = bearer(await users.token('patient'));
      expect(refs(await t.request('GET', '/fhir/Patient/p1/$everything?_type=Observation,Condition', undefined, h), 'match')).toEqual(['Condition/c-p1', 'Observation/o-p1']);
      const seen: string[] = [];
      let url: string | undefined = '/fhir/Patient/p1/$everything?_count=2';
      while (url !== undefined) {
        const page: TestResponse = await t.request('GET', url, undefined, h);
        expect(page.status).toBe(200);
        seen.push(...refs(page, 'match'));
        url = page.body.link.find((l: any) => l.relation === 'next')?.url?.replace('http://127.0.0.1:8080', '');
      }
      expect(seen.sort()).toEqual(['AuditEvent/ae-p1', 'Condition/c-p1', 'Consent/cons-p1', 'Observation/o-p1', 'Patient/p1']);
      expect(refs(await t.request('GET', `/fhir/Patient/p1/$everything?_since=${new Date(Date.now() + 60_000).toISOString()}`, undefined, h), 'match')).toEqual([]);
    });

    it('bounds care dates with start and end: overlap, inclusive, undated types kept, undated records of dated types left out', async () => {
      const put = async (resource: any) => expect((await t.request('PUT', `/fhir/${resource.resourceType}/${resource.id}`, resource)).status).toBeLessThan(300);
      const subject = { reference: 'Patient/pd' };
      const code = { text: 'x' };
      await put({ resourceType: 'Patient', id: 'pd' });
      await put({ resourceType: 'Encounter', id: 'e-2019', status: 'finished', class: { code: 'AMB' }, subject, period: { start: '2019-12-20', end: '2020-01-03' } });
      await put({ resourceType: 'Observation', id: 'o-2020', status: 'final', code, subject, effectiveDateTime: '2020-06-15T10:00:00Z' });
      await put({ resourceType: 'Observation', id: 'o-2021', status: 'final', code, subject, effectiveDateTime: '2021-01-01T00:00:00Z' });
      await put({ resourceType: 'Observation', id: 'o-undated', status: 'final', code, subject });
      await put({ resourceType: 'Condition', id: 'c-2005', subject, code, onsetDateTime: '2005', recordedDate: '2005-02-01' });
      await put({ resourceType: 'Condition', id: 'c-rec2020', subject, code, onsetDateTime: '2010', recordedDate: '2020-03-01' });
      await put({ resourceType: 'MedicationRequest', id: 'mr-2020', status: 'active', intent: 'order', subject, medicationCodeableConcept: code, authoredOn: '2020-12-31T23:00:00Z' });
      await put({ resourceType: 'Coverage', id: 'cov', status: 'active', beneficiary: subject, payor: [subject] });
      const everything = async (q: string) => refs(await t.request('GET', `/fhir/Patient/pd/$everything?${q}`), 'match');
      expect(await everything('start=2020-01-01&end=2020-12-31')).toEqual(['Condition/c-rec2020', 'Coverage/cov', 'Encounter/e-2019', 'MedicationRequest/mr-2020', 'Observation/o-2020', 'Patient/pd']);
      // A year, a month: the whole of it. One bound alone: open on the other side.
      expect(await everything('start=2020&end=2020')).toEqual(await everything('start=2020-01-01&end=2020-12-31'));
      expect(await everything('start=2020-06&end=2020-06')).toEqual(['Coverage/cov', 'Observation/o-2020', 'Patient/pd']);
      expect(await everything('start=2021')).toEqual(['Coverage/cov', 'Observation/o-2021', 'Patient/pd']);
      expect(await everything('end=2005-12-31')).toEqual(['Condition/c-2005', 'Coverage/cov', 'Patient/pd']);
      expect(await everything('start=2020-01-03&end=2020-01-03&_type=Encounter,Observation')).toEqual(['Encounter/e-2019']);
      expect(await everything('')).toContain('Observation/o-undated');
      const r = await t.request('GET', '/fhir/Patient/pd/$everything?start=2021&_count=1');
      expect(r.body.link[0].url).toBe('http://127.0.0.1:8080/fhir/Patient/pd/$everything?start=2021&_count=1');
      for (const q of ['start=2021&end=2020', 'start=yesterday', 'start=2020-01-01T00:00:00Z', 'end=2020-13', 'start=2020&start=2021', 'end=']) {
        const bad = await t.request('GET', `/fhir/Patient/pd/$everything?${q}`);
        expect(bad.status, q).toBe(400);
        expect(bad.body.resourceType).toBe('OperationOutcome');
      }
    });

    it('refuses other parameters, methods and scopes that do not cover it', async () => {
      for (const q of ['_since=yesterday', '_count=1&_count=2', '_type=Spaceship', 'end=2020-01-01&_sort=date']) {
        const r = await t.request('GET', `/fhir/Patient/p1/$everything?${q}`);
        expect(r.status, q).toBe(400);
        expect(r.body.resourceType).toBe('OperationOutcome');
      }
      expect((await t.request('DELETE', '/fhir/Patient/p1/$everything')).status).toBe(405);
      expect((await t.request('GET', '/fhir/Observation/o-p1/$everything')).status).toBe(501);
      const narrow = bearer(await users.token('patient', { scope: 'patient/Observation.rs' }));
      expect((await t.request('GET', '/fhir/Patient/p1/$everything?_type=Observation', undefined, narrow)).status).toBe(403);
    });

    it('compartment search: Patient/[id]/[type] and /*, under the same decision; an unknown or hidden patient gives an empty Bundle', async () => {
      const h = bearer(await users.token('patient'));
      const obs = await t.request('GET', '/fhir/Patient/p1/Observation?status=final', undefined, h);
      expect(obs.status, obs.text).toBe(200);
      expect(refs(obs, 'match')).toEqual(['Observation/o-p1']);
      expect(obs.body.link[0].url).toBe('http://127.0.0.1:8080/fhir/Patient/p1/Observation?status=final');
      expect(refs(await t.request('GET', '/fhir/Patient/p1/*'), 'match')).toEqual(['AuditEvent/ae-p1', 'Condition/c-p1', 'Consent/cons-p1', 'Observation/o-p1', 'Patient/p1']);
      // The operator's compartment search of p2 holds no record of p1, and p1's patient sees nothing of p2's.
      expect(refs(await t.request('GET', '/fhir/Patient/p2/Condition'), 'match')).toEqual(['Condition/c-hiv', 'Condition/c-p2']);
      const hidden = await t.request('GET', '/fhir/Patient/p2/Observation', undefined, h);
      const unknown = await t.request('GET', '/fhir/Patient/nobody/Observation', undefined, h);
      expect([hidden.status, hidden.body.total, unknown.status, unknown.body.total]).toEqual([200, 0, 200, 0]);
      expect((await t.request('GET', '/fhir/Encounter/e1/Observation')).status).toBe(501);
      expect((await t.request('GET', '/fhir/Patient/a%20b/Observation')).status).toBe(400);
      expect((await t.request('POST', '/fhir/Patient/p1/Observation', {})).status).toBe(404);
    });

    it('is audited as a disclosure of the patient, naming what it returned', async () => {
      const log = t.vault.ledger.log;
      const from = await log.appendedSize();
      await t.request('GET', '/fhir/Patient/p1/$everything?_type=Observation', undefined, bearer(await users.token('patient')));
      const events = (await log.scanLeaves(from, 100)).filter((l) => l.kind === 'audit').map((l) => (decodeEntry(log.openLeaf(l)) as AuditEntry).event);
      expect(events.find((e) => e.subtype === '$everything')).toMatchObject({ action: 'E', outcome: '0', patients: ['p1'] });
      expect(events.find((e) => e.subtype === '$everything')!.entities).toContain('Observation/o-p1/_history/1');
    });
  });
}
