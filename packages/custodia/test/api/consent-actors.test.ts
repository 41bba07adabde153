/**
 * Consent provision actors that name a user through the stored data, over HTTP, on every
 * database: an Organization (the user's PractitionerRole's, or one it is part of), a CareTeam,
 * a PractitionerRole. A deny reaches the organisation's members; a permit reaches them only
 * through a role in effect; a change to roles or organisations takes effect on the next
 * request; /admin/explain says who the requester was taken to be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, PASSWORD, permitConsent, type Users, seededVault } from './access-fixtures.js';

type Resource = { resourceType: string; id: string } & Record<string, unknown>;

const PRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] };
const action = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code }] });
const actorFor = (reference: string) => ({ role: PRCP, reference: { reference } });

/**
 * Patient `patient` withholds their record from `reference`, as consent-example-notOrg does
 * for Good Health Clinic — written the R4 way, as a nested deny under the opt-in.
 */
function withholdFrom(id: string, patient: string, reference: string): Resource {
  return {
    ...permitConsent(id, patient),
    provision: { type: 'permit', provision: [{ type: 'deny', actor: [actorFor(reference)], action: [action('access'), action('correct')] }] },
  };
}

/** Patient `patient` opts out, except for `reference` (an untyped root under OPTOUT is a permit). */
function onlyFor(id: string, patient: string, reference: string): Resource {
  return {
    ...permitConsent(id, patient),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
    provision: { actor: [actorFor(reference)], action: [action('access')] },
  };
}

const org = (id: string, partOf?: string): Resource => ({ resourceType: 'Organization', id, name: id, ...(partOf === undefined ? {} : { partOf: { reference: `Organization/${partOf}` } }) });
const role = (id: string, practitioner: string, organization: string, extra: Record<string, unknown> = {}): Resource => ({
  resourceType: 'PractitionerRole',
  id,
  practitioner: { reference: `Practitioner/${practitioner}` },
  organization: { reference: `Organization/${organization}` },
  ...extra,
});

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`consent actors resolved through roles, organisations and care teams on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
    }, 120_000);
    afterAll(async () => t?.close());

    async function put(...resources: Resource[]): Promise<void> {
      for (const r of resources) {
        const res = await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r);
        if (res.status >= 300) throw new Error(`PUT ${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
      }
    }
    /** A patient with an observation. */
    const patient = (id: string) =>
      put({ resourceType: 'Patient', id, name: [{ family: `Family-${id}` }] }, { resourceType: 'Observation', id: `o-${id}`, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${id}` } });
    /** A clinician user (username `u-<id>`) whose fhirUser is `fhirUser`, and their token. */
    async function clinician(id: string, fhirUser = `Practitioner/${id}`): Promise<Record<string, string>> {
      if (fhirUser.startsWith('Practitioner/')) await put({ resourceType: 'Practitioner', id: fhirUser.slice('Practitioner/'.length), name: [{ family: id }] });
      const u = await t.vault.identity.addUser({ username: `u-${id}`, role: 'clinician', password: PASSWORD, fhirUser });
      return bearer(await t.vault.tokens.issue({ subject: u.user.id, kind: 'user', role: 'clinician', fhirUser, scope: 'user/*.cruds', ttlSeconds: 3600 }));
    }
    /** What a user sees of a patient's record. */
    async function sees(h: Record<string, string>, id: string) {
      return {
        read: (await t.request('GET', `/fhir/Patient/${id}`, undefined, h)).status,
        observation: (await t.request('GET', `/fhir/Observation/o-${id}`, undefined, h)).status,
        search: (await t.request('GET', `/fhir/Patient?_id=${id}`, undefined, h)).body.total,
        count: (await t.request('GET', `/fhir/Observation?subject=Patient/${id}&_summary=count`, undefined, h)).body.total,
      };
    }
    const VISIBLE = { read: 200, observation: 200, search: 1, count: 1 };
    const HIDDEN = { read: 404, observation: 404, search: 0, count: 0 };

    it('a deny naming an organisation hides the record from its members and from members of organisations part of it', async () => {
      await put(org('org-x'), org('org-x-dept', 'org-x'), org('org-y'));
      const [x, dept, y] = [await clinician('px'), await clinician('pxd'), await clinician('py')];
      await put(role('r-px', 'px', 'org-x'), role('r-pxd', 'pxd', 'org-x-dept'), role('r-py', 'py', 'org-y'));
      for (const h of [x, dept, y]) expect(await sees(h, 'p2')).toEqual(VISIBLE);

      await put(withholdFrom('deny-org-x', 'p2', 'Organization/org-x'));
      expect(await sees(x, 'p2')).toEqual(HIDDEN);
      expect(await sees(dept, 'p2')).toEqual(HIDDEN);
      expect(await sees(y, 'p2')).toEqual(VISIBLE);
      // Only p2's record: p1's stays visible to the same member.
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, x)).status).toBe(200);
      // And so does p2's for a clinician without any role (dr1 is in no organisation).
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, bearer(await users.token('clinician')))).status).toBe(200);
    });

    it('explains, for a privacy officer, that the requester was denied as a member of the organisation', async () => {
      const po = bearer(await users.token('privacy-officer'));
      const explain = async (user: string) => {
        const r = await t.app.inject({ method: 'GET', url: `/admin/explain?user=${user}&resource=Patient/p2`, headers: po });
        expect(r.statusCode).toBe(200);
        return JSON.parse(r.body) as { allowed: boolean; layers: { layer: string; allows: boolean; reasons: string[] }[] };
      };
      const dept = await explain('u-pxd');
      expect(dept.allowed).toBe(false);
      const layer = dept.layers.find((l) => l.layer === 'consent')!;
      expect(layer.allows).toBe(false);
      expect(layer.reasons[0]).toBe('requester as a consent actor: Organization/org-x, Organization/org-x-dept, Practitioner/pxd, PractitionerRole/r-pxd');
      expect(layer.reasons.some((r) => r.startsWith('Patient/p2: deny') && r.includes('Organization/org-x'))).toBe(true);
      const other = (await explain('u-py')).layers.find((l) => l.layer === 'consent')!;
      expect(other.allows).toBe(true);
      expect(other.reasons[0]).toBe('requester as a consent actor: Organization/org-y, Practitioner/py, PractitionerRole/r-py');
    });

    it('a deny naming a care team applies to its members, also through a team inside it', async () => {
      await patient('p3');
      const [member, nested, outsider] = [await clinician('pct'), await clinician('pct2'), await clinician('pout')];
      await put(
        { resourceType: 'CareTeam', id: 'team-a', status: 'active', participant: [{ member: { reference: 'Practitioner/pct' } }, { member: { reference: 'CareTeam/team-b' } }] },
        { resourceType: 'CareTeam', id: 'team-b', status: 'active', participant: [{ member: { reference: 'Practitioner/pct2' } }] },
      );
      // R4 form: under OPTIN an untyped root provision is a deny where it applies.
      await put({ ...permitConsent('deny-team', 'p3'), provision: { actor: [actorFor('CareTeam/team-a')], action: [action('access')] } });
      expect(await sees(member, 'p3')).toEqual(HIDDEN);
      expect(await sees(nested, 'p3')).toEqual(HIDDEN);
      expect(await sees(outsider, 'p3')).toEqual(VISIBLE);
    });

    it('a deny naming a PractitionerRole applies to the practitioner holding it, and to a user acting in it', async () => {
      await patient('p4');
      await put(org('org-r'), role('r-held', 'pholder', 'org-r'), role('r-other', 'pholder2', 'org-r'));
      const holder = await clinician('pholder');
      const inRole = await clinician('role-user', 'PractitionerRole/r-held');
      const colleague = await clinician('pholder2');
      await put(withholdFrom('deny-role', 'p4', 'PractitionerRole/r-held'));
      expect(await sees(holder, 'p4')).toEqual(HIDDEN);
      expect(await sees(inRole, 'p4')).toEqual(HIDDEN);
      // Same organisation, another role: not named.
      expect(await sees(colleague, 'p4')).toEqual(VISIBLE);
    });

    it('a permit naming an organisation lets its members in, but not through a role that is not in effect', async () => {
      await patient('p5');
      await put(org('org-p'), org('org-p-ward', 'org-p'));
      const [active, ward, inactive, ended, outsider] = [await clinician('pp-active'), await clinician('pp-ward'), await clinician('pp-inactive'), await clinician('pp-ended'), await clinician('pp-out')];
      await put(
        role('r-pp-active', 'pp-active', 'org-p'),
        role('r-pp-ward', 'pp-ward', 'org-p-ward'),
        role('r-pp-inactive', 'pp-inactive', 'org-p', { active: false }),
        role('r-pp-ended', 'pp-ended', 'org-p', { period: { start: '2001-01-01', end: '2002-12-31' } }),
      );
      await put(onlyFor('only-org-p', 'p5', 'Organization/org-p'));
      expect(await sees(active, 'p5')).toEqual(VISIBLE);
      expect(await sees(ward, 'p5')).toEqual(VISIBLE);
      expect(await sees(inactive, 'p5')).toEqual(HIDDEN);
      expect(await sees(ended, 'p5')).toEqual(HIDDEN);
      expect(await sees(outsider, 'p5')).toEqual(HIDDEN);

      const po = bearer(await users.token('privacy-officer'));
      const r = await t.app.inject({ method: 'GET', url: '/admin/explain?user=u-pp-inactive&resource=Patient/p5', headers: po });
      const layer = (JSON.parse(r.body).layers as { layer: string; reasons: string[] }[]).find((l) => l.layer === 'consent')!;
      expect(layer.reasons[0]).toBe('requester as a consent actor: Practitioner/pp-inactive; possibly (counts for denies only) Organization/org-p, PractitionerRole/r-pp-inactive');
    });

    it('a permit naming a care team never opens the record: a clinician could write themselves into the team', async () => {
      await patient('p7');
      const joiner = await clinician('pjoin');
      await put({ resourceType: 'CareTeam', id: 'team-open', status: 'active', participant: [{ member: { reference: 'Practitioner/someone-else' } }] });
      await put(onlyFor('only-team', 'p7', 'CareTeam/team-open'));
      expect(await sees(joiner, 'p7')).toEqual(HIDDEN);
      // The clinician may write CareTeams, and adds themselves to the one the permit names.
      const joined = await t.request('PUT', '/fhir/CareTeam/team-open', { resourceType: 'CareTeam', id: 'team-open', status: 'active', participant: [{ member: { reference: 'Practitioner/someone-else' } }, { member: { reference: 'Practitioner/pjoin' } }] }, joiner);
      expect(joined.status).toBe(200);
      expect(await sees(joiner, 'p7')).toEqual(HIDDEN);
    });

    it('a role or an organisation change takes effect on the next request', async () => {
      await patient('p6');
      await put(org('org-z'), org('org-z-unit'));
      const pz = await clinician('pz');
      await put(withholdFrom('deny-org-z', 'p6', 'Organization/org-z'));
      expect(await sees(pz, 'p6')).toEqual(VISIBLE);

      await put(role('r-pz', 'pz', 'org-z'));
      expect(await sees(pz, 'p6')).toEqual(HIDDEN);
      expect((await t.request('DELETE', '/fhir/PractitionerRole/r-pz')).status).toBe(204);
      expect(await sees(pz, 'p6')).toEqual(VISIBLE);

      // A role in a unit, then the unit placed under org-z, then the role deactivated (a deny still applies).
      await put(role('r-pz-unit', 'pz', 'org-z-unit'));
      expect(await sees(pz, 'p6')).toEqual(VISIBLE);
      await put(org('org-z-unit', 'org-z'));
      expect(await sees(pz, 'p6')).toEqual(HIDDEN);
      await put(role('r-pz-unit', 'pz', 'org-z-unit', { active: false }));
      expect(await sees(pz, 'p6')).toEqual(HIDDEN);
      await put(org('org-z-unit'));
      expect(await sees(pz, 'p6')).toEqual(VISIBLE);
    });
  });
}
