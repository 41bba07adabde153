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

    it('counts attempts atomically before their check, and refuses them once the lock the domain computes is set', async () => {
      await vdb.identity.insertUser(user('u-3', 'bea'));
      const lock = (n: number) => (n >= 5 ? T0 + n * 1000 : undefined);
      // Eight at once, half of them from a second connection (another server): five are counted, the lock set by the fifth refuses the rest.
      const other = await openDatabase(db.options);
      try {
        const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? vdb : other).identity.claimLoginAttempt('u-3', T0, lock)));
        expect(claims.filter((c) => c !== undefined).map((c) => c!.failures).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
        expect(claims.filter((c) => c === undefined)).toHaveLength(3);
      } finally {
        await other.close();
      }
      expect(await vdb.identity.findUserById('u-3')).toMatchObject({ failedLogins: 5, lockedUntil: T0 + 5000 });
      // Once the lock ran out, the next attempt is counted and locks again at once; taken back (the right password, a second factor to come), the old lock is put back.
      const next = await vdb.identity.claimLoginAttempt('u-3', T0 + 5000, (n) => (n >= 5 ? T0 + 5000 + n * 1000 : undefined));
      expect(next).toEqual({ failures: 6, lockSet: true, previousLock: T0 + 5000 });
      await vdb.identity.releaseLoginAttempt('u-3', next!, T0 + 5000, lock);
      expect(await vdb.identity.findUserById('u-3')).toMatchObject({ failedLogins: 5, lockedUntil: T0 + 5000 });
      // Below the threshold a release leaves no lock.
      await vdb.identity.resetLoginFailures('u-3', T0 + 9);
      const after = await vdb.identity.findUserById('u-3');
      expect(after?.failedLogins).toBe(0);
      expect(after?.lockedUntil).toBeUndefined();
      const one = await vdb.identity.claimLoginAttempt('u-3', T0 + 10, lock);
      await vdb.identity.releaseLoginAttempt('u-3', one!, T0 + 10, lock);
      expect(await vdb.identity.findUserById('u-3')).toMatchObject({ failedLogins: 0 });
      expect(await vdb.identity.claimLoginAttempt('missing', T0, () => undefined)).toBeUndefined();
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

    it('checks at most five guesses before the lock, whatever number of servers guess at once', async () => {
      const other = await openDatabase(db.options);
      try {
        // Two servers (two connections, two services) with generous throttles: only the lockout is measured.
        const a = harness({ throttle: { capacity: 1000, refillPerMinute: 1000 } }, vdb.identity, `race-a-${name}`);
        const b = harness({ throttle: { capacity: 1000, refillPerMinute: 1000 } }, other.identity, `race-b-${name}`);
        const { user: rae } = await a.service.addUser({ username: 'rae', role: 'nurse', password: GOOD_PASSWORD });
        const stored = (await vdb.identity.findUserById(rae.id))!.passwordHash;
        a.hasher.verifies = [];
        b.hasher.verifies = [];
        const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => errorCode((i % 2 === 0 ? a : b).service.authenticate('rae', `guess number ${i}`, `198.51.100.${i}`))));
        expect(outcomes.every((c) => c === 'login-failed')).toBe(true);
        // Every attempt did one verification; only five were against the account's hash, the rest against the dummy.
        const checked = [...a.hasher.verifies, ...b.hasher.verifies];
        expect(checked).toHaveLength(12);
        expect(checked.filter((h) => h === stored)).toHaveLength(5);
        expect((await vdb.identity.findUserById(rae.id))?.failedLogins).toBe(5);
      } finally {
        await other.close();
      }
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
