/**
 * The permission matrix: roles × resource types × interactions, each with its expected
 * outcome, through the HTTP API, on every database. "allow" is the interaction's success
 * status; "deny" is 403 when the refusal depends only on who asks (scopes ∩ role), and
 * 404 when it depends on stored data (a patient asking for someone else's record).
 * The expectations are written out by hand: they are the policy, not derived from the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, permitConsent, type RoleName, type Users, seededVault } from './access-fixtures.js';

type Interaction = 'read' | 'search' | 'history' | 'create' | 'update' | 'delete';
const INTERACTIONS: Interaction[] = ['read', 'search', 'history', 'create', 'update', 'delete'];

/** Allowed interactions per role and type (r s h c u d); everything else is denied. */
const MATRIX: Record<RoleName, Record<string, string>> = {
  clinician: { Patient: 'r s h c u', Observation: 'r s h c u', Consent: 'r s h', AuditEvent: '', Organization: 'r s h' },
  nurse: { Patient: 'r s h', Observation: 'r s h c u', Consent: 'r s h', AuditEvent: '', Organization: 'r s h' },
  admin: { Patient: '', Observation: '', Consent: '', AuditEvent: '', Organization: 'r s h c u d' },
  'privacy-officer': { Patient: 'r s h', Observation: '', Consent: 'r s h c u', AuditEvent: 'r s h', Organization: 'r s h' },
  // A patient: their own compartment only (these resources are all p1's).
  patient: { Patient: 'r s h', Observation: 'r s h c', Consent: 'r s h c u', AuditEvent: 'r s h', Organization: 'r s h' },
};

const LETTER: Record<Interaction, string> = { read: 'r', search: 's', history: 'h', create: 'c', update: 'u', delete: 'd' };
const SUCCESS: Record<Interaction, number> = { read: 200, search: 200, history: 200, create: 201, update: 200, delete: 204 };

/** An existing resource of each type in p1's compartment (or shared), and a body to create another. */
const EXISTING: Record<string, string> = { Patient: 'p1', Observation: 'o-p1', Consent: 'cons-p1', AuditEvent: 'ae-p1', Organization: 'org1' };

function newBody(type: string, n: number): Record<string, unknown> {
  switch (type) {
    case 'Patient':
      return { resourceType: 'Patient', name: [{ family: `New${n}` }] };
    case 'Observation':
      return { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' } };
    case 'Consent':
      return { ...permitConsent('ignored', 'p1'), id: undefined };
    case 'AuditEvent':
      return { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2026-01-02T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } }, entity: [{ what: { reference: 'Patient/p1' } }] };
    default:
      return { resourceType: 'Organization', name: `Org ${n}` };
  }
}

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`permission matrix on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    let n = 0;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
    }, 120_000);
    afterAll(async () => t?.close());

    async function attempt(role: RoleName, type: string, interaction: Interaction): Promise<number> {
      const h = bearer(await users.token(role));
      const id = EXISTING[type]!;
      switch (interaction) {
        case 'read':
          return (await t.request('GET', `/fhir/${type}/${id}`, undefined, h)).status;
        case 'search':
          return (await t.request('GET', `/fhir/${type}?_id=${id}`, undefined, h)).status;
        case 'history':
          return (await t.request('GET', `/fhir/${type}/${id}/_history`, undefined, h)).status;
        case 'create':
          return (await t.request('POST', `/fhir/${type}`, newBody(type, ++n), h)).status;
        case 'update': {
          const current = (await t.request('GET', `/fhir/${type}/${id}`)).body;
          return (await t.request('PUT', `/fhir/${type}/${id}`, current, h)).status;
        }
        case 'delete': {
          // Delete a fresh resource made by the operator, so the matrix does not eat its own data.
          const made = await t.request('POST', `/fhir/${type}`, newBody(type, ++n));
          return (await t.request('DELETE', `/fhir/${type}/${made.body.id}`, undefined, h)).status;
        }
      }
    }

    for (const role of Object.keys(MATRIX) as RoleName[]) {
      it(`${role}: every type × interaction as expected`, async () => {
        const got: Record<string, number> = {};
        const want: Record<string, number> = {};
        for (const [type, allowed] of Object.entries(MATRIX[role])) {
          for (const interaction of INTERACTIONS) {
            const key = `${type}.${interaction}`;
            got[key] = await attempt(role, type, interaction);
            want[key] = allowed.split(' ').includes(LETTER[interaction]) ? SUCCESS[interaction] : 403;
          }
        }
        expect(got).toEqual(want);
      });
    }

    it('a patient cannot see or touch another patient’s record, and it looks like nothing is there', async () => {
      const h = bearer(await users.token('patient'));
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, h)).status).toBe(404);
      expect((await t.request('GET', '/fhir/Observation/o-p2', undefined, h)).status).toBe(404);
      expect((await t.request('GET', '/fhir/Patient/does-not-exist', undefined, h)).status).toBe(404);
      expect((await t.request('GET', '/fhir/Observation/o-p2/_history', undefined, h)).status).toBe(404);
      const search = await t.request('GET', '/fhir/Observation?_total=accurate', undefined, h);
      expect(search.body.total).toBe(search.body.entry.length);
      expect(search.body.entry.every((e: any) => e.resource.subject.reference === 'Patient/p1')).toBe(true);
      const rev = await t.request('GET', '/fhir/Patient?_revinclude=Observation:subject&_revinclude=Condition:subject', undefined, h);
      const refs = rev.body.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);
      expect(refs).toEqual(expect.arrayContaining(['Condition/c-p1', 'Observation/o-p1', 'Patient/p1']));
      expect(rev.body.entry.every((e: any) => e.resource.id === 'p1' || e.resource.subject?.reference === 'Patient/p1')).toBe(true);
      const history = await t.request('GET', '/fhir/Observation/_history', undefined, h);
      expect(history.body.entry.every((e: any) => e.resource === undefined || e.resource.subject.reference === 'Patient/p1')).toBe(true);
      // Writing into someone else's compartment is refused, in a transaction too.
      expect((await t.request('POST', '/fhir/Observation', { ...newBody('Observation', 1), subject: { reference: 'Patient/p2' } }, h)).status).toBe(403);
      const tx = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...newBody('Observation', 2), subject: { reference: 'Patient/p2' } }, request: { method: 'POST', url: 'Observation' } }] };
      expect((await t.request('POST', '/fhir', tx, h)).status).toBe(403);
      // Update-as-create with an id of its choosing is refused (it would reveal which ids exist).
      // (Consent: a type the patient may update.)
      await t.request('PUT', '/fhir/Consent/cons-p2', permitConsent('cons-p2', 'p2'));
      expect((await t.request('PUT', '/fhir/Consent/mine-1', permitConsent('mine-1', 'p1'), h)).status).toBe(404);
      expect((await t.request('PUT', '/fhir/Consent/cons-p2', permitConsent('cons-p2', 'p1'), h)).status).toBe(404);
      expect((await t.request('GET', '/fhir/Consent/cons-p2')).body.patient.reference).toBe('Patient/p2');
    });

    it('transactions are checked entry by entry, all before any executes', async () => {
      const h = bearer(await users.token('nurse'));
      const before = (await t.request('GET', '/fhir/Observation?_summary=count')).body.total;
      const tx = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: newBody('Observation', 4), request: { method: 'POST', url: 'Observation' } },
          { request: { method: 'DELETE', url: 'Observation/o-p1' } },
        ],
      };
      const r = await t.request('POST', '/fhir', tx, h);
      expect(r.status).toBe(403);
      expect(r.body.issue[0].expression[0]).toBe('Bundle.entry[1]');
      expect((await t.request('GET', '/fhir/Observation?_summary=count')).body.total).toBe(before);
    });
  });
}
