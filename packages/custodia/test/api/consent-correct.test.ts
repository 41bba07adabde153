/**
 * Consent action `correct` (R4 consent.html, Consent.provision.action; consentaction codes):
 * a patient can let a practitioner read their record but not change it. Every write —
 * update, delete, create into the record, conditional forms, transaction entries — is
 * judged for `correct` as well as `access`; a caller who can see the record gets 403 (a
 * refusal tells them nothing they do not know), and break-the-glass lifts it for its
 * patient. On every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, permitConsent, type Users, seededVault } from './access-fixtures.js';

const PRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] };
const action = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code }] });

/** p2 lets everyone read, but Practitioner/dr1 may not correct. */
const noCorrectionsBy = (practitioner: string) => ({
  ...permitConsent('no-corrections', 'p2'),
  provision: { type: 'deny', actor: [{ role: PRCP, reference: { reference: `Practitioner/${practitioner}` } }], action: [action('correct')] },
});

const observation = (id: string, patient: string, text = 'pulse') => ({ resourceType: 'Observation', id, status: 'final', code: { text }, subject: { reference: `Patient/${patient}` } });

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`consent action correct on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    let dr1: Record<string, string>;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      dr1 = bearer(await users.token('clinician'));
      expect((await t.request('PUT', '/fhir/Consent/no-corrections', noCorrectionsBy('dr1'))).status).toBe(201);
    }, 120_000);
    afterAll(async () => t?.close());

    it('leaves reading alone and refuses every kind of change with 403', async () => {
      expect((await t.request('GET', '/fhir/Observation/o-p2', undefined, dr1)).status).toBe(200);
      expect((await t.request('GET', '/fhir/Observation?subject=Patient/p2&_summary=count', undefined, dr1)).body.total).toBe(1);
      const update = await t.request('PUT', '/fhir/Observation/o-p2', observation('o-p2', 'p2', 'changed'), dr1);
      expect(update.status).toBe(403);
      expect(update.body.issue[0].diagnostics).toMatch(/consent does not allow this caller to change Observation\/o-p2/);
      expect((await t.request('DELETE', '/fhir/Observation/o-p2', undefined, dr1)).status).toBe(403);
      expect((await t.request('POST', '/fhir/Observation', observation('ignored', 'p2'), dr1)).status).toBe(403);
      expect((await t.request('PUT', '/fhir/Observation?_id=o-p2', observation('o-p2', 'p2', 'changed'), dr1)).status).toBe(403);
      expect((await t.request('DELETE', '/fhir/Observation?_id=o-p2', undefined, dr1)).status).toBe(403);
      const tx = { resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: observation('o-p1', 'p1', 'fine'), request: { method: 'PUT', url: 'Observation/o-p1' } },
        { resource: observation('o-p2', 'p2', 'changed'), request: { method: 'PUT', url: 'Observation/o-p2' } },
      ] };
      expect((await t.request('POST', '/fhir', tx, dr1)).status).toBe(403);
      // Nothing changed, not even the transaction's first entry.
      const stored = await t.request('GET', '/fhir/Observation/o-p2');
      expect(stored.body.code.text).toBe('pulse');
      expect(stored.body.meta.versionId).toBe('1');
      expect((await t.request('GET', '/fhir/Observation/o-p1')).body.code.text).toBe('pulse');
    });

    it('is explained to a privacy officer with action=correct', async () => {
      const po = bearer(await users.token('privacy-officer'));
      const explain = async (action?: string) => {
        const r = await t.request('GET', `/admin/explain?user=u-clinician&resource=Observation/o-p2${action === undefined ? '' : `&action=${action}`}`, undefined, po);
        expect(r.status).toBe(200);
        return r.body as { action: string; allowed: boolean; layers: { layer: string; allows: boolean; reasons: string[] }[] };
      };
      const read = await explain();
      expect(read).toMatchObject({ action: 'access', allowed: true });
      const change = await explain('correct');
      expect(change).toMatchObject({ action: 'correct', allowed: false });
      const consent = change.layers.find((l) => l.layer === 'consent')!;
      expect(consent.allows).toBe(false);
      expect(consent.reasons.some((r) => r.startsWith('Patient/p2 (correct): deny'))).toBe(true);
      expect(change.layers.find((l) => l.layer === 'permissions')).toMatchObject({ allows: true });
      expect((await t.request('GET', '/admin/explain?user=u-clinician&resource=Observation/o-p2&action=delete', undefined, po)).status).toBe(400);
    });

    it('applies to the practitioner it names and to the patient it belongs to only', async () => {
      const dr2 = bearer(await users.otherClinician());
      expect((await t.request('PUT', '/fhir/Condition/c-p2', { resourceType: 'Condition', id: 'c-p2', code: { text: 'cough, better' }, subject: { reference: 'Patient/p2' } }, dr2)).status).toBe(200);
      expect((await t.request('PUT', '/fhir/Condition/c-p1', { resourceType: 'Condition', id: 'c-p1', code: { text: 'cough, better' }, subject: { reference: 'Patient/p1' } }, dr1)).status).toBe(200);
    });

    it('an opt-out consent that permits a practitioner to access lets them read but not change', async () => {
      const accessOnly = {
        ...permitConsent('access-only', 'p1'),
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
        provision: { type: 'deny', provision: [{ type: 'permit', actor: [{ role: PRCP, reference: { reference: 'Practitioner/dr1' } }], action: [action('access')] }] },
      };
      expect((await t.request('PUT', '/fhir/Consent/access-only', accessOnly)).status).toBe(201);
      try {
        expect((await t.request('GET', '/fhir/Observation/o-p1', undefined, dr1)).status).toBe(200);
        expect((await t.request('PUT', '/fhir/Observation/o-p1', observation('o-p1', 'p1', 'changed'), dr1)).status).toBe(403);
        // Everyone else: neither (the one rule: 404 for what they may not see).
        expect((await t.request('PUT', '/fhir/Observation/o-p1', observation('o-p1', 'p1', 'changed'), bearer(await users.otherClinician()))).status).toBe(404);
      } finally {
        expect((await t.request('DELETE', '/fhir/Consent/access-only')).status).toBe(204);
      }
    });

    it('is lifted by break-the-glass for its patient, and takes effect on the next request when withdrawn', async () => {
      const btg = { ...dr1, 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': 'Correcting a dangerous allergy entry', 'x-break-glass-patient': 'p2' };
      expect((await t.request('PUT', '/fhir/Observation/o-p2', observation('o-p2', 'p2', 'corrected in an emergency'), btg)).status).toBe(200);
      // Now naming dr2 (who has no break-the-glass session), then withdrawn.
      expect((await t.request('PUT', '/fhir/Consent/no-corrections', { ...noCorrectionsBy('dr2'), id: 'no-corrections' })).status).toBe(200);
      const dr2 = bearer(await users.otherClinician());
      const condition = (text: string) => ({ resourceType: 'Condition', id: 'c-p2', code: { text }, subject: { reference: 'Patient/p2' } });
      expect((await t.request('PUT', '/fhir/Condition/c-p2', condition('resolved'), dr2)).status).toBe(403);
      expect((await t.request('DELETE', '/fhir/Consent/no-corrections')).status).toBe(204);
      expect((await t.request('PUT', '/fhir/Condition/c-p2', condition('resolved'), dr2)).status).toBe(200);
    });
  });
}
