/**
 * Accounting of disclosures (issue 5 §6, 45 CFR 164.528): `Patient/{id}/$disclosures`
 * lists the accesses to the patient's data outside treatment, payment and operations and
 * not by the patient, with date, recipient, description and purpose, as AuditEvents and as
 * a readable HTML page; at most six years back; for the patient and the privacy officer
 * only; and the request is itself audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import type { TestResponse, TestVault } from '../helpers/test-vault.js';
import { bearer, seededVault, type Users } from './access-fixtures.js';
import { validateResource } from '../../src/fhir/index.js';

const events = (r: TestResponse): any[] => (r.body.entry ?? []).map((e: any) => e.resource).filter((x: any) => x.resourceType === 'AuditEvent');
const html = (r: TestResponse): string => Buffer.from((r.body.entry ?? []).map((e: any) => e.resource).find((x: any) => x.resourceType === 'Binary').data, 'base64').toString('utf8');

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`$disclosures on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    let po: Record<string, string>;
    const get = (url: string, headers: Record<string, string>) => t.request('GET', url, undefined, headers);

    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      po = bearer(await users.token('privacy-officer'));
      const clinician = bearer(await users.token('clinician'));
      // Treatment: not accountable.
      expect((await get('/fhir/Patient/p1', clinician)).status).toBe(200);
      // A research app and a public-health registry read p1's data: accountable (§164.512).
      const research = bearer(await t.vault.tokens.issue({ subject: 'study-42', kind: 'client', clientId: 'study-42', scope: 'system/*.rs', purposeOfUse: 'HRESCH', ttlSeconds: 600 }));
      expect((await get('/fhir/Patient/p1', research)).status).toBe(200);
      const registry = bearer(await t.vault.tokens.issue({ subject: 'state-registry', kind: 'client', clientId: 'state-registry', scope: 'system/*.rs', purposeOfUse: 'PUBHLTH', ttlSeconds: 600 }));
      expect((await get('/fhir/Observation?subject=Patient/p1', registry)).status).toBe(200);
      // Payment, and a refused attempt: neither listed.
      const payer = bearer(await t.vault.tokens.issue({ subject: 'payer-1', kind: 'client', clientId: 'payer-1', scope: 'system/*.rs', purposeOfUse: 'HPAYMT', ttlSeconds: 600 }));
      expect((await get('/fhir/Patient/p1', payer)).status).toBe(200);
    }, 120_000);
    afterAll(async () => t?.close());

    it('lists the research and public-health disclosures, not treatment or payment, as valid AuditEvents and a readable page', async () => {
      const r = await get('/fhir/Patient/p1/$disclosures', po);
      expect(r.status).toBe(200);
      expect(validateResource(r.body)).toEqual([]);
      const list = events(r);
      expect(list.map((e) => e.purposeOfEvent?.[0]?.coding?.[0]?.code).sort()).toEqual(['HRESCH', 'PUBHLTH']);
      const page = html(r);
      expect(page).toMatch(/<h1>Accounting of disclosures<\/h1>/);
      expect(page).toMatch(/client:study-42.*HRESCH/s);
      expect(page).toMatch(/client:state-registry.*PUBHLTH/s);
      expect(page).not.toMatch(/HPAYMT|TREAT/);
      // Another patient's accounting holds none of these.
      expect(events(await get('/fhir/Patient/p2/$disclosures', po))).toHaveLength(0);
    });

    it('is the patient\'s own and the privacy officer\'s: others are refused, another patient sees nothing', async () => {
      const own = await get('/fhir/Patient/p1/$disclosures', bearer(await users.token('patient')));
      expect(own.status).toBe(200);
      expect(events(own)).toHaveLength(2);
      expect((await get('/fhir/Patient/p2/$disclosures', bearer(await users.token('patient')))).status).toBe(404);
      expect((await get('/fhir/Patient/p1/$disclosures', bearer(await users.token('clinician')))).status).toBe(403);
    });

    it('honours start and end, never reaches back more than six years, and refuses nonsense', async () => {
      expect(events(await get('/fhir/Patient/p1/$disclosures?end=2000-01-01', po))).toHaveLength(0);
      const old = await get('/fhir/Patient/p1/$disclosures?start=1900-01-01', po);
      expect(old.status).toBe(200);
      const note = (old.body.entry as any[]).map((e) => e.resource).find((x) => x.resourceType === 'OperationOutcome').issue[0].diagnostics as string;
      const from = /from (\S+) to/.exec(note)![1]!;
      expect(Date.now() - Date.parse(from)).toBeLessThanOrEqual(6 * 365.25 * 24 * 3600_000 + 60_000);
      const bad = await get('/fhir/Patient/p1/$disclosures?start=yesterday', po);
      expect(bad.status).toBe(400);
      expect(bad.body.resourceType).toBe('OperationOutcome');
    });

    it('is itself on the audit trail', async () => {
      const before = await t.vault.ledger.log.appendedSize();
      expect((await get('/fhir/Patient/p1/$disclosures', po)).status).toBe(200);
      const leaves = await t.vault.ledger.log.scanLeaves(before, 100);
      expect(leaves.some((l) => l.kind === 'audit')).toBe(true);
    });
  });

  describe.skipIf(!isAvailable(dialect))(`$disclosures costs on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      // A person regains a request every 10 s, bursts of 3.
      ({ t, users } = await seededVault(dialect, { rateLimits: { user: { perSecond: 0.1, burst: 3 } } }));
    }, 120_000);
    afterAll(async () => t?.close());

    it('charges the caller one request per 1,000 events it read, so a long accounting spends their burst', async () => {
      const at = Date.now();
      const treatment = Array.from({ length: 2_500 }, (_, i) => ({
        at: at + i,
        type: 'rest' as const,
        subtype: 'read',
        action: 'R' as const,
        outcome: '0' as const,
        agent: { who: 'Practitioner/dr1' },
        purposeOfUse: 'TREAT',
        patients: ['p1'],
        entities: ['Patient/p1'],
      }));
      for (let i = 0; i < treatment.length; i += 500) await t.vault.audit.record(treatment.slice(i, i + 500));
      const patient = bearer(await users.token('patient'));
      const r = await t.request('GET', '/fhir/Patient/p1/$disclosures', undefined, patient);
      expect(r.status).toBe(200);
      // Admitted (3 → 2), then charged 2 for the 2,500 events read: nothing left for a third request.
      const spent = await t.request('GET', '/fhir/Patient/p1', undefined, patient);
      expect(spent.status).toBe(429);
      expect(spent.body.resourceType).toBe('OperationOutcome');
    });
  });
}
