/**
 * The administration API (/admin/*) over HTTP: deny by default. A caller needs the
 * administrative role and a token issued for administration (the custodia/admin scope);
 * accounts with administrative roles are created by the operator only (separation of
 * duties); clearances are the privacy officer's. On every database.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SCOPE } from '../../src/access/index.js';
import { openVaultDatabase } from '../../src/app/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, PASSWORD, type Users, seededVault } from './access-fixtures.js';

const JSON_TYPE = { 'content-type': 'application/json' };

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`admin API on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    let admin: Record<string, string>;
    let po: Record<string, string>;
    const call = (method: string, url: string, headers: Record<string, string>, body?: unknown) => t.request(method, url, body, { ...headers, ...(body === undefined ? {} : JSON_TYPE) });

    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      admin = bearer(await users.token('admin'));
      po = bearer(await users.token('privacy-officer'));
    }, 120_000);
    afterAll(async () => t?.close());

    it('needs the custodia/admin scope as well as the role: an app that signed an administrator in for openid cannot administer', async () => {
      for (const scope of ['openid fhirUser', 'user/*.cruds', 'openid fhirUser user/*.cruds']) {
        const narrow = bearer(await users.token('admin', { scope }));
        const add = await call('POST', '/admin/users', narrow, { username: 'mallory-app', role: 'clinician', password: PASSWORD });
        expect(add.status, scope).toBe(403);
        expect(add.body.issue[0].diagnostics).toContain(ADMIN_SCOPE);
        expect((await call('GET', '/admin/explain?user=u-clinician&resource=Patient/p1', narrow)).status, scope).toBe(403);
        const poNarrow = bearer(await users.token('privacy-officer', { scope }));
        expect((await call('GET', '/admin/btg-reviews', poNarrow)).status, scope).toBe(403);
        expect((await call('PUT', '/admin/users/u-clinician/clearances', poNarrow, { clearances: ['HIV'] })).status, scope).toBe(403);
      }
      expect(await t.vault.identity.getUserByUsername('mallory-app')).toBeUndefined();
    });

    it('never lets other roles or clients in, whatever their scope says', async () => {
      const clinician = bearer(await users.token('clinician', { scope: `user/*.cruds ${ADMIN_SCOPE}` }));
      expect((await call('POST', '/admin/users', clinician, { username: 'eve', role: 'clinician' })).status).toBe(403);
      expect((await call('GET', '/admin/btg-reviews', clinician)).status).toBe(403);
      const client = bearer(await t.vault.tokens.issue({ subject: 'backend', kind: 'client', clientId: 'backend', scope: `system/*.cruds ${ADMIN_SCOPE}`, ttlSeconds: 60 }));
      expect((await call('POST', '/admin/users/u-nurse/disable', client)).status).toBe(403);
      expect((await call('GET', '/admin/explain?user=u-clinician&resource=Patient/p1', bearer('garbage'))).status).toBe(401);
      expect((await t.vault.identity.getUserByUsername('u-nurse'))?.status).toBe('active');
    });

    it('lets an administrator add clinical and patient accounts, but administrative ones only through the operator', async () => {
      const added = await call('POST', '/admin/users', admin, { username: 'ana', role: 'nurse', fhirUser: 'Practitioner/dr2', password: PASSWORD });
      expect(added.status).toBe(201);
      expect(added.body.user).toMatchObject({ username: 'ana', role: 'nurse', fhirUser: 'Practitioner/dr2', status: 'active' });
      expect(JSON.stringify(added.body)).not.toContain(PASSWORD);
      for (const role of ['admin', 'privacy-officer']) {
        const r = await call('POST', '/admin/users', admin, { username: `second-${role}`, role, password: PASSWORD });
        expect(r.status, role).toBe(403);
        expect(r.body.issue[0].diagnostics).toContain('custodia user add');
        expect(await t.vault.identity.getUserByUsername(`second-${role}`)).toBeUndefined();
      }
      // The operator (custodia token without --user) may.
      expect((await call('POST', '/admin/users', bearer(t.token), { username: 'second-po', role: 'privacy-officer', password: PASSWORD })).status).toBe(201);
      // Bad input is a 400 with an OperationOutcome, not a crash.
      expect((await call('POST', '/admin/users', admin, { username: 'x'.repeat(300), role: 'nurse' })).status).toBe(400);
      expect((await call('POST', '/admin/users', admin, { username: 'bo', role: 'surgeon' })).status).toBe(400);
      expect((await call('POST', '/admin/users', admin, { username: 'bo', role: 'nurse', password: 'short' })).status).toBe(400);
    });

    it('lets the privacy officer and the administrator end a token by the id its AuditEvents show; no one else', async () => {
      const suspect = bearer(await users.token('clinician'));
      const read = async (): Promise<number> => (await call('GET', '/fhir/Patient/p1', suspect)).status;
      expect(await read()).toBe(200);
      const jti = decodeJwt(suspect['authorization']!.slice('Bearer '.length)).jti!;
      const urn = `urn:ietf:params:oauth:jti:${jti}`;
      const trail = await call('GET', `/fhir/AuditEvent?policy=${encodeURIComponent(urn)}`, po);
      expect(trail.body.entry.filter((e: any) => e.resource.resourceType === 'AuditEvent').length).toBeGreaterThan(0);
      // Refused to others, and nothing is revoked by the attempt.
      const nurse = bearer(await users.token('nurse', { scope: `user/*.cruds ${ADMIN_SCOPE}` }));
      const narrowPo = bearer(await users.token('privacy-officer', { scope: 'openid fhirUser' }));
      for (const h of [nurse, narrowPo, suspect]) expect((await call('POST', `/admin/tokens/${encodeURIComponent(urn)}/revoke`, h)).status).toBe(403);
      expect(await read()).toBe(200);
      for (const bad of ['a%20b', encodeURIComponent('urn:ietf:params:oauth:jti:'), encodeURIComponent('\u00e9t\u00e9')]) {
        const r = await call('POST', `/admin/tokens/${bad}/revoke`, po);
        expect(r.status, bad).toBe(400);
        expect(r.body.resourceType).toBe('OperationOutcome');
      }
      const revoked = await call('POST', `/admin/tokens/${encodeURIComponent(urn)}/revoke`, po);
      expect(revoked.status, revoked.text).toBe(200);
      expect(revoked.body).toMatchObject({ jti, revoked: true });
      // Until the token would have expired, as the vault recorded it when issuing it (plus five minutes for clock skew).
      expect(Date.parse(revoked.body.revokedUntil)).toBe(decodeJwt(suspect['authorization']!.slice('Bearer '.length)).exp! * 1000 + 300_000);
      expect(await read()).toBe(401);
      // An id this vault never issued (a typo, another vault's): 404, and nothing written.
      for (const typo of [`${jti.slice(0, -1)}${jti.endsWith('0') ? '1' : '0'}`, 'never-issued']) {
        const r = await call('POST', `/admin/tokens/${typo}/revoke`, po);
        expect(r.status, typo).toBe(404);
        expect(r.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
      }
      // The administrator, by the bare id; the revocation is in the operator log, with the id only.
      const other = bearer(await users.token('clinician'));
      const otherJti = decodeJwt(other['authorization']!.slice('Bearer '.length)).jti!;
      expect((await call('POST', `/admin/tokens/${otherJti}/revoke`, admin)).status).toBe(200);
      expect((await call('GET', '/fhir/Patient/p1', other)).status).toBe(401);
      const db = await openVaultDatabase(t.vault.config);
      const log = await db.operatorLog.recent(50).then((all) => all.filter((e) => e.action === 'token.revoke')).finally(() => db.close());
      expect(log.map((e) => e.detail['jti'])).toEqual(expect.arrayContaining([jti, otherJti]));
      expect(log.every((e) => e.detail['by'] === 'id')).toBe(true);
    });

    it('leaves clearances to the privacy officer, and disabling and second-factor resets to the administrator', async () => {
      expect((await call('PUT', '/admin/users/u-nurse/clearances', admin, { clearances: ['HIV'] })).status).toBe(403);
      const set = await call('PUT', '/admin/users/u-nurse/clearances', po, { clearances: ['HIV'] });
      expect(set.status).toBe(200);
      expect(set.body.clearances).toEqual(['HIV']);
      expect((await call('PUT', '/admin/users/u-nurse/clearances', po, { clearances: ['NOT-A-LABEL'] })).status).toBe(400);
      expect((await call('PUT', '/admin/users/u-nurse/clearances', po, { clearances: 'HIV' })).status).toBe(400);
      expect((await call('POST', '/admin/users/u-nurse/disable', po)).status).toBe(403);
      const nurse = bearer(await users.token('nurse'));
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, nurse)).status).toBe(200);
      expect((await call('POST', '/admin/users/u-nurse/reset-mfa', admin)).status).toBe(200);
      expect((await call('POST', '/admin/users/u-nurse/disable', admin)).status).toBe(200);
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, nurse)).status).toBe(401);
      expect((await call('POST', '/admin/users/nobody-here/disable', admin)).status).toBe(404);
    });
  });
}
