/**
 * The IdentityStore adapter (migration 0002) on every dialect, with the same
 * expectations as the domain tests: atomic failure counting, TOTP steps claimed once,
 * recovery codes spent once, conflicts as `identity-conflict`, and the identity flows of
 * the service over the real database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { decodeScrypt, type UserRecord } from '../../src/access/index.js';
import { isCustodiaError } from '../../src/kernel/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { GOOD_PASSWORD, T0, codeFor, harness } from '../access/identity/identity-fixtures.js';

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isCustodiaError(e)) return e.code;
    throw e;
  }
}

const user = (id: string, username: string, over: Partial<UserRecord> = {}): UserRecord => ({
  id,
  username,
  role: 'clinician',
  status: 'active',
  passwordHash: '$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  clearances: [],
  failedLogins: 0,
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`IdentityStore on ${name}`, () => {
    let db: TestDatabase;
    let vdb: VaultDatabase;

    beforeAll(async () => {
      db = await createTestDatabase(name);
      vdb = await openDatabase(db.options);
    });

    afterAll(async () => {
      await vdb?.close();
      await db?.cleanup();
    });

    it('stores and reads users back exactly, and refuses a second username', async () => {
      const u = user('u-1', 'ada', { fhirUser: 'Practitioner/p1', lockedUntil: T0 + 5, failedLogins: 2, totp: { secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', algorithm: 'SHA256', digits: 8, confirmed: false } });
      await vdb.identity.insertUser(u);
      expect(await vdb.identity.findUserById('u-1')).toEqual(u);
      expect(await vdb.identity.findUserByUsername('ada')).toEqual(u);
      expect(await vdb.identity.findUserByUsername('ADA')).toBeUndefined();
      expect(await errorCode(vdb.identity.insertUser(user('u-2', 'ada')))).toBe('identity-conflict');
      expect(await errorCode(vdb.identity.insertUser(user('u-1', 'other')))).toBe('identity-conflict');
      // The failed insert left nothing behind, and later writes still work.
      expect(await vdb.identity.findUserById('u-2')).toBeUndefined();
      expect(await vdb.identity.setUserStatus('u-1', 'disabled', T0 + 1)).toBe(true);
      expect(await vdb.identity.setUserStatus('nope', 'disabled', T0 + 1)).toBe(false);
      expect((await vdb.identity.findUserById('u-1'))?.status).toBe('disabled');
    });

    it('counts failures atomically and applies the lock the domain computes', async () => {
      await vdb.identity.insertUser(user('u-3', 'bea'));
      const counts = await Promise.all(Array.from({ length: 8 }, () => vdb.identity.recordLoginFailure('u-3', T0, (n) => (n >= 5 ? T0 + n * 1000 : undefined))));
      expect(counts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await vdb.identity.findUserById('u-3')).toMatchObject({ failedLogins: 8, lockedUntil: T0 + 8000 });
      await vdb.identity.resetLoginFailures('u-3', T0 + 9);
      const after = await vdb.identity.findUserById('u-3');
      expect(after?.failedLogins).toBe(0);
      expect(after?.lockedUntil).toBeUndefined();
      expect(await vdb.identity.recordLoginFailure('missing', T0, () => undefined)).toBe(0);
    });

    it('claims each TOTP step once, only forwards, even under concurrency', async () => {
      await vdb.identity.insertUser(user('u-4', 'cid'));
      const wins = await Promise.all(Array.from({ length: 6 }, () => vdb.identity.claimTotpStep('u-4', 1000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await vdb.identity.claimTotpStep('u-4', 999)).toBe(false);
      expect(await vdb.identity.claimTotpStep('u-4', 1001)).toBe(true);
      await vdb.identity.clearMfa('u-4', T0);
      expect(await vdb.identity.claimTotpStep('u-4', 5)).toBe(true);
    });

    it('activates a pending TOTP with its recovery codes, spends each code once, clears all on reset', async () => {
      await vdb.identity.insertUser(user('u-5', 'dee'));
      expect(await vdb.identity.activateTotp('u-5', ['h1'], T0)).toBe(false); // nothing pending
      await vdb.identity.setPendingTotp('u-5', { secret: 'ABC', algorithm: 'SHA1', digits: 6, confirmed: false }, T0);
      expect(await vdb.identity.activateTotp('u-5', ['h1', 'h2', 'h3'], T0)).toBe(true);
      expect(await vdb.identity.activateTotp('u-5', ['h4'], T0)).toBe(false); // already active
      // A pending enrolment never replaces an active one.
      await vdb.identity.setPendingTotp('u-5', { secret: 'XYZ', algorithm: 'SHA1', digits: 6, confirmed: false }, T0);
      expect((await vdb.identity.findUserById('u-5'))?.totp).toEqual({ secret: 'ABC', algorithm: 'SHA1', digits: 6, confirmed: true });
      const codes = await vdb.identity.listRecoveryCodes('u-5');
      expect(codes.map((c) => c.hash)).toEqual(['h1', 'h2', 'h3']);
      const first = codes[0]!.id;
      const spent = await Promise.all([vdb.identity.consumeRecoveryCode('u-5', first, T0), vdb.identity.consumeRecoveryCode('u-5', first, T0)]);
      expect(spent.filter(Boolean)).toHaveLength(1);
      expect(await vdb.identity.consumeRecoveryCode('u-4', codes[1]!.id, T0)).toBe(false); // not u-4's
      expect(await vdb.identity.consumeRecoveryCode('u-5', 'not-a-number', T0)).toBe(false);
      expect((await vdb.identity.listRecoveryCodes('u-5')).map((c) => c.hash)).toEqual(['h2', 'h3']);
      expect(await vdb.identity.clearMfa('u-5', T0)).toBe(true);
      expect((await vdb.identity.findUserById('u-5'))?.totp).toBeUndefined();
      expect(await vdb.identity.listRecoveryCodes('u-5')).toEqual([]);
    });

    it('upserts role policies', async () => {
      expect(await vdb.identity.getRolePolicy('admin')).toBeUndefined();
      await vdb.identity.setRolePolicy('admin', { mfaRequired: true }, T0);
      expect(await vdb.identity.getRolePolicy('admin')).toEqual({ mfaRequired: true });
      await vdb.identity.setRolePolicy('admin', { mfaRequired: false }, T0 + 1);
      expect(await vdb.identity.getRolePolicy('admin')).toEqual({ mfaRequired: false });
    });

    it('stores clients and refuses a second client id', async () => {
      const c = {
        clientId: 'app-1',
        name: 'Ward app',
        kind: 'confidential-asymmetric' as const,
        redirectUris: ['https://ward.example/cb', 'https://ward.example/cb2'],
        scope: 'user/*.rs',
        jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] },
        status: 'active' as const,
        createdAt: T0,
        updatedAt: T0,
      };
      await vdb.identity.insertClient(c);
      expect(await vdb.identity.findClient('app-1')).toEqual(c);
      expect(await errorCode(vdb.identity.insertClient({ ...c, name: 'again' }))).toBe('identity-conflict');
      expect(await vdb.identity.findClient('APP-1')).toBeUndefined();
    });

    it('runs the identity flows: sign-in, lockout, TOTP, recovery codes, clients', async () => {
      const h = harness({ throttle: { capacity: 1000, refillPerMinute: 1000 } }, vdb.identity, `flows-${name}`);
      const ip = '192.0.2.44';
      const { user: eve } = await h.service.addUser({ username: 'Eve', role: 'nurse', fhirUser: 'Practitioner/n1', password: GOOD_PASSWORD });
      expect(await errorCode(h.service.addUser({ username: 'eve', role: 'nurse', password: GOOD_PASSWORD }))).toBe('identity-conflict');
      expect((await h.service.authenticate('EVE', GOOD_PASSWORD, ip)).user).toEqual(eve);

      // Unknown user and wrong password: same error, one verification each, same parameters.
      h.hasher.verifies = [];
      expect(await errorCode(h.service.authenticate('nobody-here', GOOD_PASSWORD, ip))).toBe('login-failed');
      expect(await errorCode(h.service.authenticate('eve', 'a wrong password', ip))).toBe('login-failed');
      expect(h.hasher.verifies).toHaveLength(2);
      expect(decodeScrypt(h.hasher.verifies[0]!)?.params).toEqual(decodeScrypt(h.hasher.verifies[1]!)?.params);

      // Lockout on the real database.
      for (let i = 0; i < 4; i++) await errorCode(h.service.authenticate('eve', `wrong ${i} password`, ip));
      expect(await errorCode(h.service.authenticate('eve', GOOD_PASSWORD, ip))).toBe('login-failed');
      h.clock.advance(60_000);
      expect((await h.service.authenticate('eve', GOOD_PASSWORD, ip)).mfaRequired).toBe(false);

      // TOTP and recovery codes.
      await h.service.setRoleMfaRequired('nurse', true);
      expect(await h.service.authenticate('eve', GOOD_PASSWORD, ip)).toMatchObject({ mfaRequired: true, mfaEnrolled: false });
      const e = await h.service.enrollTotp(eve.id);
      const confirmCode = codeFor(e, h.clock.now());
      const { recoveryCodes } = await h.service.confirmTotp(eve.id, confirmCode);
      expect(recoveryCodes).toHaveLength(10);
      expect(await errorCode(h.service.verifySecondFactor(eve.id, confirmCode))).toBe('login-failed'); // step used by the confirmation
      h.clock.advance(30_000);
      const code = codeFor(e, h.clock.now());
      expect((await h.service.verifySecondFactor(eve.id, code)).mfaEnrolled).toBe(true);
      expect(await errorCode(h.service.verifySecondFactor(eve.id, code))).toBe('login-failed');
      expect((await h.service.verifySecondFactor(eve.id, recoveryCodes[0]!)).id).toBe(eve.id);
      expect(await errorCode(h.service.verifySecondFactor(eve.id, recoveryCodes[0]!))).toBe('login-failed');
      await h.service.resetMfa('eve');
      expect(await h.service.authenticate('eve', GOOD_PASSWORD, ip)).toMatchObject({ mfaRequired: true, mfaEnrolled: false });

      // Disabled accounts fail like the rest.
      await h.service.disableUser('eve');
      expect(await errorCode(h.service.authenticate('eve', GOOD_PASSWORD, ip))).toBe('login-failed');

      // Clients.
      const { clientSecret } = await h.service.addClient({ clientId: 'lab-feed', name: 'Lab feed', scope: 'system/Observation.c' });
      expect((await h.service.authenticateClientSecret('lab-feed', clientSecret!)).kind).toBe('confidential-symmetric');
      expect(await errorCode(h.service.authenticateClientSecret('lab-feed', 'guess'))).toBe('client-auth-failed');
    });

    it('keeps its tables and data when the database is opened again (migrations are recorded)', async () => {
      const again = await openDatabase(db.options);
      try {
        expect((await again.identity.findUserById('u-1'))?.username).toBe('ada');
        const migrations = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(again.handle.read);
        expect(migrations.rows.map((r) => r.name)).toContain('0004-identity');
      } finally {
        await again.close();
      }
    });
  });
}
