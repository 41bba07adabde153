/** Users, tokens and data for the access-control suites. */
import { startTestVault, type TestVault } from '../helpers/test-vault.js';
import { CLEARANCES } from '../../src/access/index.js';

export type RoleName = 'clinician' | 'nurse' | 'admin' | 'privacy-officer' | 'patient';

export const PASSWORD = 'a long enough passphrase 42';

export const HIV_CONDITION = {
  resourceType: 'Condition',
  id: 'c-hiv',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '86406008', display: 'Human immunodeficiency virus infection' }] },
  subject: { reference: 'Patient/p2' },
};

/** Two patients and their records, practitioners, an organisation, an AuditEvent of p1. */
export async function seed(t: TestVault): Promise<void> {
  const put = async (r: { resourceType: string; id: string } & Record<string, unknown>) => {
    const res = await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r);
    if (res.status >= 300) throw new Error(`seed ${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
  };
  for (const id of ['dr1', 'dr2']) await put({ resourceType: 'Practitioner', id, name: [{ family: id }] });
  await put({ resourceType: 'Organization', id: 'org1', name: 'General Hospital' });
  for (const id of ['p1', 'p2']) {
    await put({ resourceType: 'Patient', id, name: [{ family: `Family-${id}` }], gender: 'female', managingOrganization: { reference: 'Organization/org1' } });
    await put({ resourceType: 'Observation', id: `o-${id}`, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${id}` } });
    await put({ resourceType: 'Condition', id: `c-${id}`, code: { text: 'cough' }, subject: { reference: `Patient/${id}` } });
  }
  await put(HIV_CONDITION);
  await put({
    resourceType: 'AuditEvent',
    id: 'ae-p1',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    recorded: '2026-01-01T00:00:00Z',
    agent: [{ who: { reference: 'Practitioner/dr1' }, requestor: true }],
    source: { observer: { reference: 'Organization/org1' } },
    entity: [{ what: { reference: 'Patient/p1' } }],
  });
  await put(permitConsent('cons-p1', 'p1'));
}

/** A Consent the vault can enforce: opt-in, nothing restricted. */
export function permitConsent(id: string, patient: string): { resourceType: string; id: string } & Record<string, unknown> {
  return {
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient}` },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
  };
}

/** Patient `patient` blocks one practitioner (deny provision for that actor, as consent-example-notThem). */
export function blockPractitioner(id: string, patient: string, practitioner: string): { resourceType: string; id: string } & Record<string, unknown> {
  return {
    ...permitConsent(id, patient),
    provision: {
      type: 'deny',
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference: `Practitioner/${practitioner}` } }],
      action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'access' }] }],
    },
  };
}

export interface Users {
  token(role: RoleName, extra?: { clearances?: string[]; purposeOfUse?: string; breakGlassReason?: string; patient?: string; scope?: string }): Promise<string>;
  /** dr2's token (a second clinician). */
  otherClinician(): Promise<string>;
}

export async function createUsers(t: TestVault): Promise<Users> {
  const fhirUser: Record<RoleName, string | undefined> = { clinician: 'Practitioner/dr1', nurse: 'Practitioner/dr2', admin: undefined, 'privacy-officer': undefined, patient: 'Patient/p1' };
  const ids = new Map<string, string>();
  for (const role of Object.keys(fhirUser) as RoleName[]) {
    const f = fhirUser[role];
    const r = await t.vault.identity.addUser({ username: `u-${role}`, role, password: PASSWORD, ...(f === undefined ? {} : { fhirUser: f }) });
    ids.set(role, r.user.id);
  }
  const dr2 = await t.vault.identity.addUser({ username: 'u-dr2', role: 'clinician', password: PASSWORD, fhirUser: 'Practitioner/dr2' });
  const mint = (subject: string, role: RoleName, fhir: string | undefined, extra: Parameters<Users['token']>[1] = {}) =>
    t.vault.tokens.issue({
      subject,
      scope: extra.scope ?? (role === 'patient' ? 'patient/*.cruds' : role === 'admin' || role === 'privacy-officer' ? 'user/*.cruds custodia/admin' : 'user/*.cruds'),
      ttlSeconds: 3600,
      kind: 'user',
      role,
      ...(fhir === undefined ? {} : { fhirUser: fhir }),
      ...(extra.clearances === undefined ? {} : { clearances: extra.clearances }),
      ...(extra.purposeOfUse === undefined ? {} : { purposeOfUse: extra.purposeOfUse }),
      ...(extra.breakGlassReason === undefined ? {} : { breakGlassReason: extra.breakGlassReason }),
      ...(extra.patient === undefined ? {} : { patient: extra.patient }),
    });
  // Tokens are held to the account (access/user-standing.ts): a token with clearances
  // belongs to a user who holds them, one account per role and set of clearances.
  const cleared = new Map<string, Promise<string>>();
  const holder = (role: RoleName, clearances: readonly string[] | undefined): Promise<string> => {
    if (clearances === undefined || clearances.length === 0) return Promise.resolve(ids.get(role)!);
    const key = `${role}-${[...clearances].sort().join('-')}`;
    let id = cleared.get(key);
    if (id === undefined) {
      const f = fhirUser[role];
      id = (async () => {
        const r = await t.vault.identity.addUser({ username: `u-${key}`.toLowerCase(), role, password: PASSWORD, ...(f === undefined ? {} : { fhirUser: f }) });
        await t.vault.identity.setClearances(r.user.username, clearances, CLEARANCES);
        return r.user.id;
      })();
      cleared.set(key, id);
    }
    return id;
  };
  return {
    token: async (role, extra) => mint(await holder(role, extra?.clearances), role, fhirUser[role], extra),
    otherClinician: () => mint(dr2.user.id, 'clinician', 'Practitioner/dr2'),
  };
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** A vault on `dialect` with the access-control seed data and one user per role. */
export async function seededVault(dialect: 'sqlite' | 'postgres', config?: NonNullable<Parameters<typeof startTestVault>[1]>['config'], randomSeed?: string): Promise<{ t: TestVault; users: Users }> {
  // A seed of its own for a vault that talks to a shared broker: two vaults of one seed would share an MQTT client id, and the broker lets only one connect.
  const t = await startTestVault(dialect, { ...(config === undefined ? {} : { config }), ...(randomSeed === undefined ? {} : { seed: randomSeed }) });
  await seed(t);
  return { t, users: await createUsers(t) };
}
