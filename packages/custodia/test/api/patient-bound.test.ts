/**
 * Requests bound to one patient (a patient user, or a clinician's `patient/` scopes)
 * reach reference data freely and everything else only inside that patient's
 * compartment. Types the Patient CompartmentDefinition leaves out but that can carry a
 * patient's data (Task, Binary, Device…) are therefore hidden, not open; and a patient
 * user's label protections still hold outside their own record. On every database.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReferenceData } from '../../src/access/reference-data.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, type Users, seededVault } from './access-fixtures.js';

const compartments = JSON.parse(readFileSync(fileURLToPath(new URL('../../generated/compartments.json', import.meta.url)), 'utf8')) as Record<string, Record<string, string[]>>;
const resourceTypes = Object.keys((JSON.parse(readFileSync(fileURLToPath(new URL('../../generated/search-parameters.json', import.meta.url)), 'utf8')) as { resourceTypes: Record<string, string> }).resourceTypes);

describe('reference data', () => {
  it('names only R4 resource types, none of which the Patient compartment can hold', () => {
    const reference = resourceTypes.filter(isReferenceData);
    expect(reference.length).toBeGreaterThan(50);
    for (const t of reference) expect(compartments['Patient']![t], t).toBeUndefined();
    // Types outside the compartment that can still name a patient are not reference data.
    for (const t of ['Binary', 'Bundle', 'Task', 'Contract', 'Device', 'GuidanceResponse', 'MessageHeader', 'Linkage', 'VerificationResult', 'PaymentNotice']) {
      expect(resourceTypes).toContain(t);
      expect(isReferenceData(t), t).toBe(false);
    }
  });
});

const HIV_LABEL = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' };

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`patient-bound requests on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      const put = async (r: { resourceType: string; id: string } & Record<string, unknown>) => {
        const res = await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r);
        if (res.status >= 300) throw new Error(`${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
      };
      await put({ resourceType: 'Task', id: 'task-p2', status: 'requested', intent: 'order', for: { reference: 'Patient/p2' }, code: { text: 'HIV viral load follow-up' } });
      await put({ resourceType: 'Binary', id: 'bin-p2', contentType: 'text/plain', securityContext: { reference: 'Patient/p2' }, data: 'SElWIHJlc3VsdA==' });
      await put({ resourceType: 'Device', id: 'dev-p2', patient: { reference: 'Patient/p2' }, status: 'active' });
      await put({ resourceType: 'Location', id: 'ward-9', name: 'Ward 9' });
      await put({ resourceType: 'Location', id: 'clinic-x', name: 'Sexual health clinic', meta: { security: [HIV_LABEL] } });
    }, 120_000);
    afterAll(async () => t?.close());

    const status = async (path: string, token: string) => (await t.request('GET', path, undefined, bearer(token))).status;
    const total = async (path: string, token: string) => (await t.request('GET', path, undefined, bearer(token))).body.total as number;

    it("hides another patient's Task, Binary and Device from a patient user, and shows reference data", async () => {
      const p1 = await users.token('patient');
      for (const path of ['/fhir/Task/task-p2', '/fhir/Binary/bin-p2', '/fhir/Device/dev-p2', '/fhir/Patient/p2', '/fhir/Observation/o-p2']) expect(await status(path, p1), path).toBe(404);
      expect(await total('/fhir/Task?_summary=count', p1)).toBe(0);
      expect(await total('/fhir/Device?patient=Patient/p2', p1)).toBe(0);
      expect(await status('/fhir/Organization/org1', p1)).toBe(200);
      expect(await status('/fhir/Location/ward-9', p1)).toBe(200);
      expect(await status('/fhir/Patient/p1', p1)).toBe(200);
      expect(await status('/fhir/Observation/o-p1', p1)).toBe(200);
    });

    it('keeps label protection outside a patient user’s own record', async () => {
      const p1 = await users.token('patient');
      expect(await status('/fhir/Location/clinic-x', p1)).toBe(404);
      expect(await status('/fhir/Location/clinic-x', await users.token('patient', { clearances: ['HIV'] }))).toBe(200);
    });

    it("bounds a clinician's patient/ scopes the same way, while user/ scopes reach everything", async () => {
      const forP1 = await users.token('clinician', { scope: 'patient/*.rs', patient: 'p1' });
      for (const path of ['/fhir/Task/task-p2', '/fhir/Binary/bin-p2', '/fhir/Device/dev-p2', '/fhir/Observation/o-p2']) expect(await status(path, forP1), path).toBe(404);
      expect(await status('/fhir/Observation/o-p1', forP1)).toBe(200);
      expect(await status('/fhir/Practitioner/dr1', forP1)).toBe(200);
      const userWide = await users.token('clinician');
      expect(await status('/fhir/Task/task-p2', userWide)).toBe(200);
      expect(await status('/fhir/Device/dev-p2', userWide)).toBe(200);
    });
  });
}
