/**
 * Who a user is for Consent provision actors (app/actor-resolution.ts, app/actor-directory.ts),
 * read from real FHIR resources written through a vault, on every database: roles and their
 * organisations up the `partOf` chain, care teams and groups (nested), links not in effect
 * as "possibly", limits as "unresolved", and the directory's cache following the store's
 * change markers and period boundaries. All times are injected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorDirectory } from '../../src/app/actor-directory.js';
import { DEFAULT_ACTOR_LIMITS, resolveActor, type ActorLimits } from '../../src/app/actor-resolution.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { BASE, startTestVault, type TestVault } from '../helpers/test-vault.js';

const NOW = Date.parse('2025-06-01T00:00:00Z');

type Resource = { resourceType: string; id: string } & Record<string, unknown>;

const ref = (reference: string) => ({ reference });
const role = (id: string, practitioner: string, organization?: string, extra: Record<string, unknown> = {}): Resource => ({
  resourceType: 'PractitionerRole',
  id,
  practitioner: ref(`Practitioner/${practitioner}`),
  ...(organization === undefined ? {} : { organization: ref(`Organization/${organization}`) }),
  ...extra,
});
const org = (id: string, partOf?: string): Resource => ({ resourceType: 'Organization', id, name: id, ...(partOf === undefined ? {} : { partOf: ref(`Organization/${partOf}`) }) });
const careTeam = (id: string, members: (string | { member: string; period?: unknown })[], extra: Record<string, unknown> = {}): Resource => ({
  resourceType: 'CareTeam',
  id,
  status: 'active',
  participant: members.map((m) => (typeof m === 'string' ? { member: ref(m) } : { member: ref(m.member), ...(m.period === undefined ? {} : { period: m.period }) })),
  ...extra,
});
const group = (id: string, members: (string | { entity: string; inactive?: boolean })[], extra: Record<string, unknown> = {}): Resource => ({
  resourceType: 'Group',
  id,
  type: 'practitioner',
  actual: true,
  member: members.map((m) => (typeof m === 'string' ? { entity: ref(m) } : { entity: ref(m.entity), ...(m.inactive === undefined ? {} : { inactive: m.inactive }) })),
  ...extra,
});

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`consent actor resolution on ${dialect}`, () => {
    let t: TestVault;
    beforeAll(async () => {
      t = await startTestVault(dialect);
    }, 120_000);
    afterAll(async () => t?.close());

    async function put(...resources: Resource[]): Promise<void> {
      for (const r of resources) {
        const res = await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r);
        if (res.status >= 300) throw new Error(`PUT ${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
      }
    }
    // The walk's own certainty, memberships included (the vault reports every membership as "possibly": see the test below).
    const resolve = (fhirUser: string, now = NOW, limits?: ActorLimits) => resolveActor(t.vault.store, fhirUser, now, { baseUrl: BASE, trustMemberships: true, ...(limits === undefined ? {} : { limits }) });

    it('a practitioner is their roles, their roles’ organisations, and every organisation above those (partOf)', async () => {
      await put({ resourceType: 'Practitioner', id: 'pr-a' }, org('hosp-a'), org('dept-a', 'hosp-a'), org('ward-a', 'dept-a'), role('r-a1', 'pr-a', 'ward-a'), org('other-a'));
      const r = await resolve('Practitioner/pr-a');
      expect(r.actor).toEqual({
        references: ['Organization/dept-a', 'Organization/hosp-a', 'Organization/ward-a', 'Practitioner/pr-a', 'PractitionerRole/r-a1'],
        possibly: [],
        unresolvedTypes: [],
      });
      expect(r.validUntil).toBe(Number.POSITIVE_INFINITY);
      // A practitioner nothing links to is only themselves; so is a fhirUser of another kind.
      expect((await resolve('Practitioner/nobody')).actor).toEqual({ references: ['Practitioner/nobody'], possibly: [], unresolvedTypes: [] });
      expect((await resolve('Patient/nobody')).actor).toEqual({ references: ['Patient/nobody'], possibly: [], unresolvedTypes: [] });
    });

    it('references under the vault’s own base URL count as local ones', async () => {
      await put(org('org-abs'), { resourceType: 'PractitionerRole', id: 'r-abs', practitioner: ref(`${BASE}/Practitioner/pr-abs`), organization: ref(`${BASE}/Organization/org-abs`) });
      expect((await resolve('Practitioner/pr-abs')).actor.references).toEqual(['Organization/org-abs', 'Practitioner/pr-abs', 'PractitionerRole/r-abs']);
      // A reference to another server names someone else.
      await put({ resourceType: 'PractitionerRole', id: 'r-remote', practitioner: ref('Practitioner/pr-remote'), organization: ref('https://elsewhere.example.org/fhir/Organization/org-abs') });
      expect((await resolve('Practitioner/pr-remote')).actor.references).toEqual(['Practitioner/pr-remote', 'PractitionerRole/r-remote']);
    });

    it('a user acting in a PractitionerRole is surely its practitioner and organisation, and only possibly the practitioner’s other roles', async () => {
      await put(org('org-b1'), org('org-b2'), org('parent-b3'), org('org-b3', 'parent-b3'), role('r-b1', 'pr-b', 'org-b1'), role('r-b2', 'pr-b', 'org-b2'), role('r-b3', 'pr-b', 'org-b3'));
      const r = await resolve('PractitionerRole/r-b1');
      expect(r.actor).toEqual({
        references: ['Organization/org-b1', 'Practitioner/pr-b', 'PractitionerRole/r-b1'],
        possibly: ['Organization/org-b2', 'Organization/org-b3', 'Organization/parent-b3', 'PractitionerRole/r-b2', 'PractitionerRole/r-b3'],
        unresolvedTypes: [],
      });
      // As the practitioner, every role is theirs.
      expect((await resolve('Practitioner/pr-b')).actor.possibly).toEqual([]);
      // Acting in an inactive role: the role and practitioner are still the user; its organisation only possibly.
      await put(role('r-b4', 'pr-b4', 'org-b1', { active: false }));
      expect((await resolve('PractitionerRole/r-b4')).actor).toEqual({ references: ['Practitioner/pr-b4', 'PractitionerRole/r-b4'], possibly: ['Organization/org-b1'], unresolvedTypes: [] });
    });

    it('a role that is inactive, ended or not yet started makes its organisation only possibly the user; the next period boundary bounds the result', async () => {
      await put(
        org('org-c1'),
        org('org-c2'),
        org('org-c3'),
        org('org-c4', 'org-c1'),
        role('r-c1', 'pr-c', 'org-c1', { active: false }),
        role('r-c2', 'pr-c', 'org-c2', { period: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } }),
        role('r-c3', 'pr-c', 'org-c3', { period: { start: '2026-01-01T00:00:00Z' } }),
        // In effect, and its organisation is part of org-c1: that makes org-c1 surely the user's.
        role('r-c4', 'pr-c', 'org-c4', { period: { start: '2025-01-01', end: '2025-08-31' } }),
      );
      const r = await resolve('Practitioner/pr-c');
      expect(r.actor).toEqual({
        references: ['Organization/org-c1', 'Organization/org-c4', 'Practitioner/pr-c', 'PractitionerRole/r-c4'],
        possibly: ['Organization/org-c2', 'Organization/org-c3', 'PractitionerRole/r-c1', 'PractitionerRole/r-c2', 'PractitionerRole/r-c3'],
        unresolvedTypes: [],
      });
      // A period's end is inclusive, to its precision: r-c4 holds through 31 August.
      expect(r.validUntil).toBe(Date.parse('2025-09-01T00:00:00Z'));
      // After r-c4 ends and r-c3 starts.
      const later = await resolve('Practitioner/pr-c', Date.parse('2026-02-01T00:00:00Z'));
      expect(later.actor.references).toEqual(['Organization/org-c3', 'Practitioner/pr-c', 'PractitionerRole/r-c3']);
      expect(later.actor.possibly).toEqual(['Organization/org-c1', 'Organization/org-c2', 'Organization/org-c4', 'PractitionerRole/r-c1', 'PractitionerRole/r-c2', 'PractitionerRole/r-c4']);
      expect(later.validUntil).toBe(Number.POSITIVE_INFINITY);
      // A period that cannot be read is not in effect for sure.
      await put(role('r-c5', 'pr-c5', 'org-c1', { period: { start: '2025-01-01T00:00:00Z', end: '2024-01-01T00:00:00Z' } }));
      expect((await resolve('Practitioner/pr-c5')).actor.possibly).toEqual(['Organization/org-c1', 'PractitionerRole/r-c5']);
    });

    it('care teams of the user, their roles, and care teams containing those; a team or participation not in effect only possibly', async () => {
      await put(
        role('r-d1', 'pr-d'),
        careTeam('team-d1', ['Practitioner/pr-d', 'Patient/someone']),
        careTeam('team-d2', ['CareTeam/team-d1']),
        careTeam('team-d3', ['Practitioner/pr-d'], { status: 'suspended' }),
        careTeam('team-d4', [{ member: 'Practitioner/pr-d', period: { end: '2025-01-01T00:00:00Z' } }]),
        careTeam('team-d5', ['Practitioner/pr-d'], { status: 'entered-in-error' }),
        careTeam('team-d6', ['PractitionerRole/r-d1']),
        careTeam('team-d7', ['CareTeam/team-d3']),
        careTeam('team-d8', ['Practitioner/pr-d'], { period: { start: '2025-01-01', end: '2025-06-14' } }),
        // An organisation in a team does not make its staff members of the team.
        org('org-d'),
        role('r-d2', 'pr-d', 'org-d'),
        careTeam('team-d9', ['Organization/org-d']),
      );
      const r = await resolve('Practitioner/pr-d');
      expect(r.actor).toEqual({
        references: ['CareTeam/team-d1', 'CareTeam/team-d2', 'CareTeam/team-d6', 'CareTeam/team-d8', 'Organization/org-d', 'Practitioner/pr-d', 'PractitionerRole/r-d1', 'PractitionerRole/r-d2'],
        possibly: ['CareTeam/team-d3', 'CareTeam/team-d4', 'CareTeam/team-d7'],
        unresolvedTypes: [],
      });
      expect(r.validUntil).toBe(Date.parse('2025-06-15T00:00:00Z'));
      // A patient (or anyone) who is a participant is in the team too.
      expect((await resolve('Patient/someone')).actor.references).toEqual(['CareTeam/team-d1', 'CareTeam/team-d2', 'Patient/someone']);
    });

    it('groups of the user and groups containing those; an inactive member or group only possibly', async () => {
      await put(
        group('group-e1', ['Practitioner/pr-e']),
        group('group-e2', ['Group/group-e1']),
        group('group-e3', [{ entity: 'Practitioner/pr-e', inactive: true }]),
        group('group-e4', ['Practitioner/pr-e'], { active: false }),
        group('group-e5', ['Group/group-e3']),
        group('group-e6', ['Practitioner/other-e']),
      );
      expect((await resolve('Practitioner/pr-e')).actor).toEqual({
        references: ['Group/group-e1', 'Group/group-e2', 'Practitioner/pr-e'],
        possibly: ['Group/group-e3', 'Group/group-e4', 'Group/group-e5'],
        unresolvedTypes: [],
      });
    });

    it('a limit reached leaves the type unresolved instead of guessing', async () => {
      const limits = (l: Partial<ActorLimits>): ActorLimits => ({ ...DEFAULT_ACTOR_LIMITS, ...l });
      // Roles: a role not looked at may be in any organisation, team or group.
      await put(org('org-f1'), org('org-f2'), role('r-f1', 'pr-f', 'org-f1'), role('r-f2', 'pr-f', 'org-f2'));
      const roles = await resolve('Practitioner/pr-f', NOW, limits({ roles: 1 }));
      expect(roles.actor.unresolvedTypes).toEqual(['CareTeam', 'Group', 'Organization', 'PractitionerRole']);
      expect(roles.actor.references).toHaveLength(3); // the practitioner, one role and its organisation
      expect((await resolve('Practitioner/pr-f', NOW, limits({ roles: 2 }))).actor.unresolvedTypes).toEqual([]);

      // Organisations: a chain longer than the limit.
      await put(org('org-g3'), org('org-g2', 'org-g3'), org('org-g1', 'org-g2'), role('r-g', 'pr-g', 'org-g1'));
      const orgs = await resolve('Practitioner/pr-g', NOW, limits({ organizations: 2 }));
      expect(orgs.actor.unresolvedTypes).toEqual(['Organization']);
      expect(orgs.actor.references).toEqual(expect.arrayContaining(['Organization/org-g1', 'Organization/org-g2']));
      expect((await resolve('Practitioner/pr-g', NOW, limits({ organizations: 3 }))).actor.unresolvedTypes).toEqual([]);

      // Memberships: more teams (groups) than looked at per level.
      await put(careTeam('team-h1', ['Practitioner/pr-h']), careTeam('team-h2', ['Practitioner/pr-h']), group('group-h1', ['Practitioner/pr-h']), group('group-h2', ['Practitioner/pr-h']));
      expect((await resolve('Practitioner/pr-h', NOW, limits({ memberships: 1 }))).actor.unresolvedTypes).toEqual(['CareTeam', 'Group']);
      expect((await resolve('Practitioner/pr-h', NOW, limits({ memberships: 2 }))).actor.unresolvedTypes).toEqual([]);

      // Nesting: teams in teams deeper than the limit (one level followed: k2 in k1's place, not k3).
      await put(careTeam('team-k1', ['Practitioner/pr-k']), careTeam('team-k2', ['CareTeam/team-k1']), careTeam('team-k3', ['CareTeam/team-k2']));
      const shallow = await resolve('Practitioner/pr-k', NOW, limits({ nesting: 1 }));
      expect(shallow.actor.unresolvedTypes).toEqual(['CareTeam']);
      expect(shallow.actor.references).toEqual(['CareTeam/team-k1', 'CareTeam/team-k2', 'Practitioner/pr-k']);
      // Exactly at the limit, with nothing above: fully resolved, nothing left unknown.
      expect((await resolve('Practitioner/pr-k', NOW, limits({ nesting: 0 }))).actor.unresolvedTypes).toEqual(['CareTeam']);
      await put(careTeam('team-m1', ['Practitioner/pr-m']));
      expect((await resolve('Practitioner/pr-m', NOW, limits({ nesting: 0 }))).actor).toEqual({ references: ['CareTeam/team-m1', 'Practitioner/pr-m'], possibly: [], unresolvedTypes: [] });
      const deep = await resolve('Practitioner/pr-k', NOW, limits({ nesting: 2 }));
      expect(deep.actor.references).toEqual(['CareTeam/team-k1', 'CareTeam/team-k2', 'CareTeam/team-k3', 'Practitioner/pr-k']);
      expect(deep.actor.unresolvedTypes).toEqual([]);
    });

    it('a partOf cycle (and an organisation part of itself) ends', async () => {
      await put(org('cyc-a'), org('cyc-b', 'cyc-a'), org('cyc-c', 'cyc-b'), org('cyc-a', 'cyc-c'), org('self-x', 'self-x'), role('r-cyc', 'pr-cyc', 'cyc-a'), role('r-self', 'pr-cyc', 'self-x'));
      const r = await resolve('Practitioner/pr-cyc');
      expect(r.actor).toEqual({
        references: ['Organization/cyc-a', 'Organization/cyc-b', 'Organization/cyc-c', 'Organization/self-x', 'Practitioner/pr-cyc', 'PractitionerRole/r-cyc', 'PractitionerRole/r-self'],
        possibly: [],
        unresolvedTypes: [],
      });
      // Two teams containing each other end too.
      await put(careTeam('cyc-t1', ['Practitioner/pr-cyc']), careTeam('cyc-t2', ['CareTeam/cyc-t1']), careTeam('cyc-t1', ['Practitioner/pr-cyc', 'CareTeam/cyc-t2']));
      const teams = await resolve('Practitioner/pr-cyc');
      expect(teams.actor.references).toEqual(expect.arrayContaining(['CareTeam/cyc-t1', 'CareTeam/cyc-t2']));
      expect(teams.actor.unresolvedTypes).toEqual([]);
    });

    it('reports every CareTeam and Group membership as only possibly, so that writing oneself into a team never opens a permit', async () => {
      await put(careTeam('team-w', ['Practitioner/pr-w']), group('group-w', ['Practitioner/pr-w']));
      const r = await resolveActor(t.vault.store, 'Practitioner/pr-w', NOW, { baseUrl: BASE });
      expect(r.actor).toEqual({ references: ['Practitioner/pr-w'], possibly: ['CareTeam/team-w', 'Group/group-w'], unresolvedTypes: [] });
    });

    it('the directory caches per user, until a role, organisation, team or group changes, or a period it looked at starts or ends', async () => {
      const directory = new ActorDirectory(t.vault.store, { baseUrl: BASE });
      await put(org('org-i1'), org('org-i0'));
      const first = await directory.resolve('Practitioner/pr-i', NOW);
      expect(first.references).toEqual(['Practitioner/pr-i']);
      expect(await directory.resolve('Practitioner/pr-i', NOW + 1000)).toBe(first); // served from the cache

      // A new role: the PractitionerRole change marker moves.
      await put(role('r-i1', 'pr-i', 'org-i1'));
      const withRole = await directory.resolve('Practitioner/pr-i', NOW + 2000);
      expect(withRole.references).toEqual(['Organization/org-i1', 'Practitioner/pr-i', 'PractitionerRole/r-i1']);
      expect(await directory.resolve('Practitioner/pr-i', NOW + 3000)).toBe(withRole);

      // The organisation moves under a parent: the Organization marker.
      await put(org('org-i1', 'org-i0'));
      expect((await directory.resolve('Practitioner/pr-i', NOW + 4000)).references).toContain('Organization/org-i0');
      // A team and a group.
      await put(careTeam('team-i', ['PractitionerRole/r-i1']));
      expect((await directory.resolve('Practitioner/pr-i', NOW + 5000)).possibly).toContain('CareTeam/team-i');
      await put(group('group-i', ['Practitioner/pr-i']));
      expect((await directory.resolve('Practitioner/pr-i', NOW + 6000)).possibly).toContain('Group/group-i');

      // Deleted: gone on the next call.
      expect((await t.request('DELETE', '/fhir/PractitionerRole/r-i1')).status).toBe(204);
      const afterDelete = await directory.resolve('Practitioner/pr-i', NOW + 7000);
      expect(afterDelete.references).toEqual(['Practitioner/pr-i']);
      expect(afterDelete.possibly).toEqual(['Group/group-i']);

      // A role through 10 June: cached until it ends, "possibly" from then on, with no write in between.
      const end = Date.parse('2025-06-11T00:00:00Z');
      await put(role('r-i2', 'pr-i', 'org-i1', { period: { end: '2025-06-10' } }));
      const before = await directory.resolve('Practitioner/pr-i', NOW + 8000);
      expect(before.references).toContain('PractitionerRole/r-i2');
      expect(await directory.resolve('Practitioner/pr-i', end - 1)).toBe(before);
      const after = await directory.resolve('Practitioner/pr-i', end);
      expect(after.references).not.toContain('PractitionerRole/r-i2');
      expect(after.possibly).toEqual(['Group/group-i', 'Organization/org-i0', 'Organization/org-i1', 'PractitionerRole/r-i2']);

      // Users are cached separately.
      expect((await directory.resolve('Practitioner/pr-a', end)).references).toContain('Organization/hosp-a');
    });
  });
}
