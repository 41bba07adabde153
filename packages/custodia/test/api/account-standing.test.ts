/**
 * A user's token holds only while the account does (access/user-standing.ts): disabling an
 * account ends its tokens on the next request, break-the-glass included; a clearance
 * withdrawn after issue is no longer honoured; disabling the account, or resetting its
 * password or second factor, voids every token issued before (re-enabling does not bring
 * them back). On every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEARANCES } from '../../src/access/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, blockPractitioner, PASSWORD, type Users, seededVault } from './access-fixtures.js';

const BTG_HEADERS = { 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': 'Unconscious in the emergency department', 'x-break-glass-patient': 'p2' };

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`tokens follow the account on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    /** A token for a fresh clinician account (Practitioner/dr1 is blocked by p2's consent; dr3 is not). */
    const clinician = async (username: string, clearances: string[] = [], fhirUser = 'Practitioner/dr1') => {
      const r = await t.vault.identity.addUser({ username, role: 'clinician', password: PASSWORD, fhirUser });
      if (clearances.length > 0) await t.vault.identity.setClearances(username, clearances, CLEARANCES);
      return t.vault.tokens.issue({ subject: r.user.id, kind: 'user', role: 'clinician', fhirUser, scope: 'user/*.cruds', ttlSeconds: 3600, clearances });
    };

    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      expect((await t.request('PUT', '/fhir/Consent/block-dr1', blockPractitioner('block-dr1', 'p2', 'dr1'))).status).toBe(201);
    }, 120_000);
    afterAll(async () => t?.close());

    it('ends a disabled account’s tokens at once, and an enabled account’s unexpired ones work again', async () => {
      const token = bearer(await clinician('kim'));
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, token)).status).toBe(200);
      await t.vault.identity.disableUser('kim');
      const refused = await t.request('GET', '/fhir/Patient/p1', undefined, token);
      expect(refused.status).toBe(401);
      // Exactly the answer to a token that was never valid.
      const garbage = await t.request('GET', '/fhir/Patient/p1', undefined, bearer('not-a-token'));
      expect(refused.body).toEqual(garbage.body);
      // Re-enabling the account does not bring its older tokens back; new ones work.
      await t.vault.identity.enableUser('kim');
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, token)).status).toBe(401);
      const kim = (await t.vault.identity.getUserByUsername('kim'))!;
      const fresh = await t.vault.tokens.issue({ subject: kim.id, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/dr1', scope: 'user/*.cruds', ttlSeconds: 3600 });
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, bearer(fresh))).status).toBe(200);
    });

    it('ends the tokens issued before an operator password reset or a second-factor reset', async () => {
      for (const reset of [(u: string) => t.vault.identity.setPassword(u), (u: string) => t.vault.identity.resetMfa(u)]) {
        const username = `reset-${Math.random().toString(36).slice(2, 8)}`;
        const token = bearer(await clinician(username));
        expect((await t.request('GET', '/fhir/Patient/p1', undefined, token)).status).toBe(200);
        await reset(username);
        expect((await t.request('GET', '/fhir/Patient/p1', undefined, token)).status).toBe(401);
      }
    });

    it('never lets break-the-glass override a disabled account, and opens no session for it', async () => {
      const token = await clinician('lee');
      await t.vault.identity.disableUser('lee');
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, { ...bearer(token), ...BTG_HEADERS })).status).toBe(401);
      // A BTG purpose carried in the token fares no better.
      const r = await t.vault.identity.addUser({ username: 'lee-btg', role: 'clinician', password: PASSWORD, fhirUser: 'Practitioner/dr1' });
      const btgToken = await t.vault.tokens.issue({ subject: r.user.id, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/dr1', scope: 'user/*.cruds', ttlSeconds: 3600, purposeOfUse: 'BTG', breakGlassReason: 'Cardiac arrest on arrival', patient: 'p2' });
      await t.vault.identity.disableUser('lee-btg');
      expect((await t.request('GET', '/fhir/Patient/p2', undefined, bearer(btgToken))).status).toBe(401);
      const queue = await t.app.inject({ method: 'GET', url: '/admin/btg-reviews', headers: bearer(await users.token('privacy-officer', { scope: 'openid custodia/admin' })) });
      expect(queue.statusCode).toBe(200);
      expect(JSON.parse(queue.body)).toEqual([]);
    });

    it('stops honouring a clearance withdrawn after the token was issued', async () => {
      const token = bearer(await clinician('max', ['HIV'], 'Practitioner/dr3'));
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, token)).status).toBe(200);
      await t.vault.identity.setClearances('max', [], CLEARANCES);
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, token)).status).toBe(404);
      expect((await t.request('GET', '/fhir/Condition?_id=c-hiv&_summary=count', undefined, token)).body.total).toBe(0);
      // A clearance the account never had is never honoured, whatever the token says.
      const r = await t.vault.identity.addUser({ username: 'ned', role: 'clinician', password: PASSWORD, fhirUser: 'Practitioner/dr3' });
      const claimed = await t.vault.tokens.issue({ subject: r.user.id, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/dr3', scope: 'user/*.cruds', ttlSeconds: 3600, clearances: ['HIV'] });
      expect((await t.request('GET', '/fhir/Condition/c-hiv', undefined, bearer(claimed))).status).toBe(404);
    });

    it('refuses a token whose role or fhirUser is not the account’s, and one for an account that does not exist', async () => {
      const r = await t.vault.identity.addUser({ username: 'ola', role: 'nurse', password: PASSWORD, fhirUser: 'Practitioner/dr2' });
      const asClinician = await t.vault.tokens.issue({ subject: r.user.id, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/dr2', scope: 'user/*.cruds', ttlSeconds: 3600 });
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, bearer(asClinician))).status).toBe(401);
      const asOther = await t.vault.tokens.issue({ subject: r.user.id, kind: 'user', role: 'nurse', fhirUser: 'Practitioner/dr9', scope: 'user/*.cruds', ttlSeconds: 3600 });
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, bearer(asOther))).status).toBe(401);
      const nobody = await t.vault.tokens.issue({ subject: 'no-such-user', kind: 'user', role: 'nurse', scope: 'user/*.cruds', ttlSeconds: 3600 });
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, bearer(nobody))).status).toBe(401);
      const asNurse = await t.vault.tokens.issue({ subject: r.user.id, kind: 'user', role: 'nurse', fhirUser: 'Practitioner/dr2', scope: 'user/*.cruds', ttlSeconds: 3600 });
      expect((await t.request('GET', '/fhir/Patient/p1', undefined, bearer(asNurse))).status).toBe(200);
    });
  });
}
