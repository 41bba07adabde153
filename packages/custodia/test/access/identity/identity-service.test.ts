/**
 * The identity flows on the in-memory store: users, sign-in that never tells which
 * accounts exist, TOTP enrolment and second factors, recovery codes, role policies and
 * clients. The same flows run on SQLite and PostgreSQL in test/store/identity-store.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ScryptHasher, decodeScrypt, parsePublicJwks, type User } from '../../../src/access/index.js';
import { isCustodiaError, seededRandom } from '../../../src/kernel/index.js';
import { COMMON, GOOD_PASSWORD, TEST_SCRYPT, codeFor, harness, type Harness } from './identity-fixtures.js';

const IP = '192.0.2.1';

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isCustodiaError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a failure');
}

describe('users', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it('adds a user with a role, a normalised username and a fhirUser', async () => {
    const { user, generatedPassword } = await h.service.addUser({ username: 'Dr.House', role: 'clinician', fhirUser: 'Practitioner/p-1', password: GOOD_PASSWORD });
    expect(user).toMatchObject({ username: 'dr.house', role: 'clinician', fhirUser: 'Practitioner/p-1', status: 'active', mfaEnrolled: false });
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generatedPassword).toBeUndefined();
    expect(user).not.toHaveProperty('passwordHash');
    const stored = await h.store.findUserById(user.id);
    expect(decodeScrypt(stored!.passwordHash)?.params).toEqual(TEST_SCRYPT);
    expect(stored!.passwordHash).not.toContain(GOOD_PASSWORD);
    // Full-width input is the same username.
    expect((await h.service.getUserByUsername('ＤＲ.ＨＯＵＳＥ'))?.id).toBe(user.id);
  });

  it('generates a strong password when none is given, and it works', async () => {
    const { user, generatedPassword } = await h.service.addUser({ username: 'sam', role: 'admin' });
    expect(generatedPassword).toMatch(/^[0-9a-hjkmnp-tv-z]{5}(-[0-9a-hjkmnp-tv-z]{5}){3}$/);
    expect((await h.service.authenticate('sam', generatedPassword!, IP)).user.id).toBe(user.id);
  });

  it('refuses duplicates, bad roles, bad usernames, mismatched fhirUsers and weak passwords', async () => {
    await h.service.addUser({ username: 'ann', role: 'nurse', password: GOOD_PASSWORD });
    expect((await errorOf(h.service.addUser({ username: 'ANN', role: 'nurse', password: GOOD_PASSWORD }))).code).toBe('identity-conflict');
    expect((await errorOf(h.service.addUser({ username: 'bea', role: 'surgeon', password: GOOD_PASSWORD }))).code).toBe('request-malformed');
    expect((await errorOf(h.service.addUser({ username: 'has space', role: 'nurse', password: GOOD_PASSWORD }))).code).toBe('request-malformed');
    expect((await errorOf(h.service.addUser({ username: 'pat', role: 'patient', fhirUser: 'Practitioner/1', password: GOOD_PASSWORD }))).code).toBe('request-malformed');
    expect((await errorOf(h.service.addUser({ username: 'doc', role: 'clinician', fhirUser: 'Patient/1', password: GOOD_PASSWORD }))).code).toBe('request-malformed');
    expect((await errorOf(h.service.addUser({ username: 'doc', role: 'clinician', fhirUser: 'Observation/1', password: GOOD_PASSWORD }))).code).toBe('request-malformed');
    expect((await errorOf(h.service.addUser({ username: 'doc', role: 'clinician', password: [...COMMON][0]! }))).code).toBe('password-rejected');
    const pat = await h.service.addUser({ username: 'pat', role: 'patient', fhirUser: 'Patient/example', password: GOOD_PASSWORD });
    expect(pat.user.fhirUser).toBe('Patient/example');
    await h.service.addUser({ username: 'pr', role: 'nurse', fhirUser: 'PractitionerRole/r1', password: GOOD_PASSWORD });
  });

  it('disables, enables and reports unknown users to administrators', async () => {
    await h.service.addUser({ username: 'ann', role: 'nurse', password: GOOD_PASSWORD });
    expect((await h.service.disableUser('ann')).status).toBe('disabled');
    expect((await errorOf(h.service.authenticate('ann', GOOD_PASSWORD, IP))).code).toBe('login-failed');
    expect((await h.service.enableUser('ann')).status).toBe('active');
    expect((await h.service.authenticate('ann', GOOD_PASSWORD, IP)).user.status).toBe('active');
    expect((await errorOf(h.service.disableUser('nobody'))).code).toBe('identity-not-found');
    expect((await errorOf(h.service.resetMfa('nobody'))).code).toBe('identity-not-found');
  });
});

describe('sign-in', () => {
  let h: Harness;
  beforeEach(async () => {
    h = harness({ throttle: { capacity: 1000, refillPerMinute: 1000 } });
    await h.service.addUser({ username: 'alice', role: 'clinician', password: GOOD_PASSWORD });
    await h.service.addUser({ username: 'dora', role: 'clinician', password: GOOD_PASSWORD });
    await h.service.disableUser('dora');
    await h.service.addUser({ username: 'lock', role: 'clinician', password: GOOD_PASSWORD });
    for (let i = 0; i < 5; i++) await errorOf(h.service.authenticate('lock', `wrong password ${i}`, IP));
  });

  it('succeeds with the right password, normalised with NFKC', async () => {
    const r = await h.service.authenticate('ALICE', `ｃｏｒｒｅｃｔ horse battery staple`, IP);
    expect(r).toMatchObject({ mfaRequired: false, mfaEnrolled: false, user: { username: 'alice', role: 'clinician' } });
  });

  it('answers an unknown user, a wrong password, a locked and a disabled account alike, after the same work', async () => {
    const alice = (await h.store.findUserByUsername('alice'))!;
    const cases: [string, string][] = [
      ['nobody', GOOD_PASSWORD], // unknown
      ['alice', 'wrong password!!'], // wrong password
      ['lock', GOOD_PASSWORD], // locked (right password)
      ['dora', GOOD_PASSWORD], // disabled (right password)
      ['not a valid name!', GOOD_PASSWORD], // cannot even be a username
      ['alice', 'x'.repeat(10_000)], // absurdly long password
    ];
    const errors: { code: string; message: string }[] = [];
    for (const [user, pw] of cases) {
      h.hasher.verifies = [];
      errors.push(await errorOf(h.service.authenticate(user, pw, IP)));
      // Exactly one scrypt verification each time, with the same parameters.
      expect(h.hasher.verifies).toHaveLength(1);
      expect(decodeScrypt(h.hasher.verifies[0]!)?.params).toEqual(decodeScrypt(alice.passwordHash)?.params);
    }
    expect(new Set(errors.map((e) => JSON.stringify(e))).size).toBe(1);
    expect(errors[0]!.code).toBe('login-failed');
    // Nothing in the message names the account or the reason.
    expect(errors[0]!.message).not.toMatch(/alice|nobody|lock|disabled|unknown user/i);
  });

  it('upgrades a hash made with older parameters on a successful sign-in', async () => {
    const older = harness({ hasher: new ScryptHasher(seededRandom('older'), { logN: 3, r: 8, p: 1 }) }, h.store);
    await older.service.addUser({ username: 'olga', role: 'nurse', password: GOOD_PASSWORD });
    expect(decodeScrypt((await h.store.findUserByUsername('olga'))!.passwordHash)?.params.logN).toBe(3);
    await h.service.authenticate('olga', GOOD_PASSWORD, IP);
    const upgraded = (await h.store.findUserByUsername('olga'))!.passwordHash;
    expect(decodeScrypt(upgraded)?.params).toEqual(TEST_SCRYPT);
    expect((await h.service.authenticate('olga', GOOD_PASSWORD, IP)).user.username).toBe('olga');
  });
});

describe('second factor', () => {
  let h: Harness;
  let user: User;
  beforeEach(async () => {
    h = harness({ throttle: { capacity: 1000, refillPerMinute: 1000 } });
    user = (await h.service.addUser({ username: 'carol', role: 'admin', password: GOOD_PASSWORD })).user;
  });

  async function enrol(): Promise<{ secret: string; algorithm: 'SHA1' | 'SHA256' | 'SHA512'; digits: number; period: number; recoveryCodes: readonly string[] }> {
    const e = await h.service.enrollTotp(user.id);
    const { recoveryCodes } = await h.service.confirmTotp(user.id, codeFor(e, h.clock.now()));
    // Two steps on: the confirming code's step is used, the one before "now" is not.
    h.clock.advance(60_000);
    return { ...e, recoveryCodes };
  }

  it('a role policy requires MFA; the result says whether the user must still enrol', async () => {
    expect((await h.service.authenticate('carol', GOOD_PASSWORD, IP)).mfaRequired).toBe(false);
    expect(await h.service.setRoleMfaRequired('admin', true)).toEqual({ mfaRequired: true });
    expect(await h.service.authenticate('carol', GOOD_PASSWORD, IP)).toMatchObject({ mfaRequired: true, mfaEnrolled: false });
    await h.service.setRoleMfaRequired('admin', false);
    expect((await h.service.getRolePolicy('admin')).mfaRequired).toBe(false);
    expect((await errorOf(h.service.setRoleMfaRequired('janitor', true))).code).toBe('request-malformed');
  });

  it('enrolment returns an otpauth URI, then confirmation returns 10 recovery codes once', async () => {
    const e = await h.service.enrollTotp(user.id);
    expect(e).toMatchObject({ algorithm: 'SHA1', digits: 6, period: 30 });
    expect(e.otpauthUri).toBe(`otpauth://totp/Custodia:carol?secret=${e.secret}&issuer=Custodia&algorithm=SHA1&digits=6&period=30`);
    expect(e.secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits
    // Not active until confirmed; a wrong code does not confirm.
    expect((await h.service.getUser(user.id))?.mfaEnrolled).toBe(false);
    expect((await errorOf(h.service.confirmTotp(user.id, '000000'))).code).toBe('login-failed');
    const { recoveryCodes } = await h.service.confirmTotp(user.id, codeFor(e, h.clock.now()));
    expect(recoveryCodes).toHaveLength(10);
    expect((await h.service.getUser(user.id))?.mfaEnrolled).toBe(true);
    // Stored hashed only.
    const stored = await h.store.listRecoveryCodes(user.id);
    expect(stored).toHaveLength(10);
    for (const c of recoveryCodes) expect(JSON.stringify(stored)).not.toContain(c.replace(/-/g, ''));
    // A second enrolment is refused until an administrator resets the first.
    expect((await errorOf(h.service.enrollTotp(user.id))).code).toBe('identity-conflict');
  });

  it('honours other algorithms and lengths', async () => {
    const h2 = harness({ totp: { algorithm: 'SHA512', digits: 8 } });
    const u = (await h2.service.addUser({ username: 'eve', role: 'nurse', password: GOOD_PASSWORD })).user;
    const e = await h2.service.enrollTotp(u.id);
    expect(e.secret).toMatch(/^[A-Z2-7]{103}$/); // 64 bytes
    expect(e.otpauthUri).toContain('algorithm=SHA512&digits=8');
    await h2.service.confirmTotp(u.id, codeFor(e, h2.clock.now()));
    h2.clock.advance(30_000);
    expect((await h2.service.verifySecondFactor(u.id, codeFor(e, h2.clock.now()))).id).toBe(u.id);
  });

  it('a user with TOTP must pass it; codes of the neighbouring steps work, each step only once', async () => {
    const e = await enrol();
    expect(await h.service.authenticate('carol', GOOD_PASSWORD, IP)).toMatchObject({ mfaRequired: true, mfaEnrolled: true });
    const now = h.clock.now();
    const previous = codeFor(e, now - 30_000);
    expect((await h.service.verifySecondFactor(user.id, previous, IP)).id).toBe(user.id);
    // The same code again: refused (RFC 6238 §5.2).
    expect((await errorOf(h.service.verifySecondFactor(user.id, previous))).code).toBe('login-failed');
    // The current code (a later step) is still fine, with spaces as apps display it.
    const current = codeFor(e, now);
    expect((await h.service.verifySecondFactor(user.id, `${current.slice(0, 3)} ${current.slice(3)}`)).id).toBe(user.id);
    expect((await errorOf(h.service.verifySecondFactor(user.id, current))).code).toBe('login-failed');
    // An earlier step than one already used is refused too.
    h.clock.advance(30_000);
    expect((await errorOf(h.service.verifySecondFactor(user.id, codeFor(e, h.clock.now() - 60_000)))).code).toBe('login-failed');
    // Two steps ahead is outside the window.
    expect((await errorOf(h.service.verifySecondFactor(user.id, codeFor(e, h.clock.now() + 60_000)))).code).toBe('login-failed');
    expect((await h.service.verifySecondFactor(user.id, codeFor(e, h.clock.now() + 30_000))).id).toBe(user.id);
  });

  it('recovery codes work once each', async () => {
    const e = await enrol();
    const [first, second] = e.recoveryCodes as [string, string];
    expect((await h.service.verifySecondFactor(user.id, first)).id).toBe(user.id);
    expect((await errorOf(h.service.verifySecondFactor(user.id, first))).code).toBe('login-failed');
    expect((await h.service.verifySecondFactor(user.id, second.toUpperCase().replace(/-/g, ' '))).id).toBe(user.id);
    expect(await h.store.listRecoveryCodes(user.id)).toHaveLength(8);
    // Concurrent use of one code: exactly one wins.
    const third = e.recoveryCodes[2]!;
    const results = await Promise.allSettled([h.service.verifySecondFactor(user.id, third), h.service.verifySecondFactor(user.id, third)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('reset-mfa removes the authenticator and the recovery codes', async () => {
    const e = await enrol();
    expect((await h.service.resetMfa('carol')).mfaEnrolled).toBe(false);
    expect(await h.store.listRecoveryCodes(user.id)).toHaveLength(0);
    expect((await errorOf(h.service.verifySecondFactor(user.id, e.recoveryCodes[0]!))).code).toBe('login-failed');
    expect((await errorOf(h.service.verifySecondFactor(user.id, codeFor(e, h.clock.now())))).code).toBe('login-failed');
    expect((await h.service.authenticate('carol', GOOD_PASSWORD, IP)).mfaRequired).toBe(false);
    // And a new authenticator can be enrolled.
    await h.service.enrollTotp(user.id);
  });

  it('a second factor for a user without one, unknown or disabled, fails like a wrong code', async () => {
    expect((await errorOf(h.service.verifySecondFactor(user.id, '123456'))).code).toBe('login-failed');
    expect((await errorOf(h.service.verifySecondFactor('no-such-id', '123456'))).code).toBe('login-failed');
    const e = await enrol();
    await h.service.disableUser('carol');
    expect((await errorOf(h.service.verifySecondFactor(user.id, codeFor(e, h.clock.now())))).code).toBe('login-failed');
  });
});

describe('clients', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  const rsaJwk = { kty: 'RSA', kid: 'k1', alg: 'RS384', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw', e: 'AQAB' };

  it('confidential-symmetric clients get a secret once; it authenticates them', async () => {
    const { client, clientSecret } = await h.service.addClient({ clientId: 'ehr-app', name: 'EHR App', redirectUris: ['https://ehr.example/cb', 'https://ehr.example/cb'], scope: 'openid  fhirUser user/*.rs' });
    expect(client).toMatchObject({ kind: 'confidential-symmetric', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['https://ehr.example/cb'], scope: 'openid fhirUser user/*.rs' });
    expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(client).not.toHaveProperty('secretHash');
    const stored = await h.store.findClient('ehr-app');
    expect(stored?.secretHash).toMatch(/^\$sha256\$/);
    expect(stored?.secretHash).not.toContain(clientSecret);
    expect((await h.service.authenticateClientSecret('ehr-app', clientSecret!)).clientId).toBe('ehr-app');
    for (const [id, secret] of [['ehr-app', `${clientSecret}x`], ['ehr-app', ''], ['nope', clientSecret!], ['x'.repeat(500), 's']] as const) {
      expect((await errorOf(h.service.authenticateClientSecret(id, secret))).code).toBe('client-auth-failed');
    }
    expect((await errorOf(h.service.addClient({ clientId: 'ehr-app', name: 'again' }))).code).toBe('identity-conflict');
  });

  it('public clients need a redirect URI and have no secret', async () => {
    const { client, clientSecret } = await h.service.addClient({ clientId: 'spa', name: 'Patient portal', public: true, redirectUris: ['http://127.0.0.1:5173/callback', 'org.example.portal:/cb'] });
    expect(client).toMatchObject({ kind: 'public', tokenEndpointAuthMethod: 'none' });
    expect(clientSecret).toBeUndefined();
    expect((await errorOf(h.service.authenticateClientSecret('spa', ''))).code).toBe('client-auth-failed');
    expect((await errorOf(h.service.addClient({ clientId: 'spa2', name: 'x', public: true }))).code).toBe('request-malformed');
    expect((await errorOf(h.service.addClient({ clientId: 'spa3', name: 'x', public: true, redirectUris: ['https://a.example/cb'], jwksUri: 'https://a.example/jwks' }))).code).toBe('request-malformed');
  });

  it('backend services register public keys by JWKS or JWKS URI', async () => {
    const inline = await h.service.addClient({ clientId: 'bulk-export', name: 'Bulk export', jwks: JSON.stringify({ keys: [rsaJwk] }), scope: 'system/*.rs' });
    expect(inline.client).toMatchObject({ kind: 'confidential-asymmetric', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [rsaJwk] } });
    expect(inline.clientSecret).toBeUndefined();
    const byUri = await h.service.addClient({ clientId: 'svc', name: 'Service', jwksUri: 'https://svc.example/.well-known/jwks.json' });
    expect(byUri.client.jwksUri).toBe('https://svc.example/.well-known/jwks.json');
    expect((await h.service.getClient('bulk-export'))?.jwks?.keys[0]?.['kid']).toBe('k1');
    expect(await h.service.getClient('missing')).toBeUndefined();
  });

  it('backend services may register the subject of their TLS client certificate instead (RFC 8705 tls_client_auth)', async () => {
    const { client, clientSecret } = await h.service.addClient({ clientId: 'lab', name: 'Lab system', tlsSubjectDn: ' cn=lab-system,  O=Hospital\\, Inc. ', scope: 'system/Observation.cruds' });
    expect(client).toMatchObject({ kind: 'confidential-asymmetric', tokenEndpointAuthMethod: 'tls_client_auth', tlsSubjectDn: 'CN=lab-system,O=Hospital\\, Inc.' });
    expect(clientSecret).toBeUndefined();
    expect((await h.service.getClient('lab'))?.tlsSubjectDn).toBe('CN=lab-system,O=Hospital\\, Inc.');
    expect((await errorOf(h.service.authenticateClientSecret('lab', ''))).code).toBe('client-auth-failed');
    for (const input of [
      { clientId: 'b', name: 'x', tlsSubjectDn: 'lab-system' },
      { clientId: 'b', name: 'x', tlsSubjectDn: 'CN=a', jwksUri: 'https://svc.example/jwks' },
      { clientId: 'b', name: 'x', tlsSubjectDn: 'CN=a', jwks: JSON.stringify({ keys: [rsaJwk] }) },
      { clientId: 'b', name: 'x', tlsSubjectDn: 'CN=a', public: true, redirectUris: ['https://a.example/cb'] },
    ]) {
      expect((await errorOf(h.service.addClient(input))).code).toBe('request-malformed');
    }
  });

  it('refuses private keys, bad redirect URIs, bad ids and bad scopes', async () => {
    for (const jwks of ['not json', '{}', '{"keys":[]}', JSON.stringify({ keys: [{ ...rsaJwk, d: 'secret' }] }), JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-384', x: 'a' }] })]) {
      expect(() => parsePublicJwks(jwks)).toThrow();
    }
    const bad = [
      { clientId: 'a', name: 'x', redirectUris: ['http://evil.example/cb'] },
      { clientId: 'a', name: 'x', redirectUris: ['https://a.example/cb#frag'] },
      { clientId: 'a', name: 'x', redirectUris: ['javascript:alert(1)'] },
      { clientId: 'a', name: 'x', redirectUris: ['/relative'] },
      { clientId: 'has space', name: 'x' },
      { clientId: 'a', name: '' },
      { clientId: 'a', name: 'bell\u0007' },
      { clientId: 'a', name: 'x', scope: 'bad"scope' },
      { clientId: 'a', name: 'x', jwksUri: 'http://svc.example/jwks' },
      { clientId: 'a', name: 'x', jwks: '{"keys":[]}', jwksUri: 'https://svc.example/jwks' },
    ];
    for (const input of bad) expect((await errorOf(h.service.addClient(input))).code).toBe('request-malformed');
  });
});
