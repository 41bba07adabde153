/**
 * Second-factor secrets at rest (store/identity-secrets.ts), on every database: a TOTP
 * shared secret (RFC 6238), pending or confirmed, is nowhere in the stored row — nor, on
 * SQLite, in the database file, WAL or key store — in any encoding (base32 as shown,
 * raw bytes, utf8, base64, hex: helpers/plaintext-scan.ts), yet the user signs in with
 * codes computed from it. Someone with write access to the database gets nothing from
 * moving a sealed secret onto another user or planting a clear one: that verification
 * fails closed (`decrypt-failed`), and an administrator's reset still works. Data-key
 * rotation moves the secrets to the new tenant key before the old one is dropped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAR_AT_REST, openDatabase, sealedAtRest, type VaultDatabase } from '../../src/store/index.js';
import { base32Decode, base32Encode, type TotpEnrolmentStart } from '../../src/access/index.js';
import { isCustodiaError, ManualClock, secureRandom } from '../../src/kernel/index.js';
import { ENVELOPE_VERSION, envelopeKeyId } from '../../src/crypto/index.js';
import { KeyRotation } from '../../src/app/key-rotation.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, testKeyStore, type TestDatabase } from '../helpers/databases.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { encodingsOf, filesUnder } from '../helpers/plaintext-scan.js';
import { GOOD_PASSWORD, codeFor, harness, type Harness } from '../access/identity/identity-fixtures.js';

const IP = '192.0.2.10';
const STEP = 30_000;

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isCustodiaError(e)) return e.code;
    throw e;
  }
}

/** Every byte string a secret could be found as: its base32 text and raw bytes in every encoding the scan knows. */
function secretForms(e: Pick<TotpEnrolmentStart, 'secret'>): Buffer[] {
  const raw = base32Decode(e.secret)!;
  const forms = [...encodingsOf(e.secret).map((x) => x.bytes), raw, Buffer.from(raw.toString('hex'), 'ascii'), Buffer.from(raw.toString('base64'), 'ascii'), Buffer.from(raw.toString('base64url'), 'ascii')];
  // base32 without its last (partial) character, in case a padding difference hides it.
  forms.push(Buffer.from(e.secret.slice(0, -1), 'ascii'));
  return forms;
}

function leaks(haystack: Buffer, e: Pick<TotpEnrolmentStart, 'secret'>): boolean {
  return secretForms(e).some((f) => haystack.includes(f));
}

describe('AtRest secrets (unit)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seals under the tenant key bound to purpose and subject; clear passes bytes through', () => {
    const keys = testKeyStore(dir);
    try {
      const at = sealedAtRest(keys, secureRandom);
      const secret = Buffer.from('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 'utf8');
      const sealed = at.sealSecret('totp', 'u-1', secret);
      expect(sealed[0]).toBe(ENVELOPE_VERSION);
      expect(keys.ownerOf(envelopeKeyId(sealed))).toBe('tenant');
      expect(sealed.includes(secret)).toBe(false);
      expect(at.openSecret('totp', 'u-1', sealed).equals(secret)).toBe(true);
      for (const [purpose, subject] of [['totp', 'u-2'], ['recovery', 'u-1'], ['totp', 'u-1\u0000']] as const) {
        expect(() => at.openSecret(purpose, subject, sealed)).toThrow(expect.objectContaining({ code: purpose === 'totp' && subject.includes('\u0000') ? 'internal' : 'decrypt-failed' }));
      }
      expect(() => at.openSecret('totp', 'u-1', secret)).toThrow(expect.objectContaining({ code: 'decrypt-failed' }));
      const flipped = Buffer.from(sealed);
      flipped[flipped.length - 1]! ^= 1;
      expect(() => at.openSecret('totp', 'u-1', flipped)).toThrow(expect.objectContaining({ code: 'decrypt-failed' }));
      expect(CLEAR_AT_REST.sealSecret('totp', 'u-1', secret).equals(secret)).toBe(true);
      expect(CLEAR_AT_REST.openSecret('totp', 'u-1', secret).equals(secret)).toBe(true);
    } finally {
      keys.close();
    }
  });
});

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`second-factor secrets at rest on ${name}`, () => {
    let db: TestDatabase;
    let vdb: VaultDatabase;
    let raw: RawDatabase;
    let h: Harness;
    let clock: ManualClock;
    const enrolments = new Map<string, TotpEnrolmentStart>();
    const ids = new Map<string, string>();

    const column = async (username: string): Promise<string | null> =>
      (await raw.query<{ totp_secret: string | null }>('SELECT totp_secret FROM identity_users WHERE username = ?', [username]))[0]!.totp_secret;

    /** Adds `username`, enrols and confirms an authenticator; returns the enrolment. */
    async function enrolled(username: string): Promise<TotpEnrolmentStart> {
      const { user } = await h.service.addUser({ username, role: 'clinician', password: GOOD_PASSWORD });
      ids.set(username, user.id);
      const e = await h.service.enrollTotp(user.id);
      await h.service.confirmTotp(user.id, codeFor(e, clock.now()));
      enrolments.set(username, e);
      return e;
    }

    async function signIn(username: string, code: string): Promise<string> {
      const login = await h.service.authenticate(username, GOOD_PASSWORD, IP);
      expect(login.mfaRequired).toBe(true);
      return errorCode(h.service.verifySecondFactor(login.user.id, code, IP));
    }

    beforeAll(async () => {
      db = await createTestDatabase(name);
      vdb = await openDatabase(db.options);
      raw = await openRawDatabase(db);
      h = harness({}, vdb.identity, `secrets-${name}`);
      clock = h.clock;
    });

    afterAll(async () => {
      await raw?.close();
      await vdb?.close();
      await db?.cleanup();
    });

    it('stores a pending and a confirmed secret sealed, in no readable encoding, and the user signs in with its codes', async () => {
      const { user } = await h.service.addUser({ username: 'ada', role: 'clinician', password: GOOD_PASSWORD });
      ids.set('ada', user.id);
      const e = await h.service.enrollTotp(user.id);
      enrolments.set('ada', e);

      const pending = (await column('ada'))!;
      expect(leaks(Buffer.from(pending, 'utf8'), e)).toBe(false);
      const envelope = Buffer.from(pending, 'base64');
      expect(envelope[0]).toBe(ENVELOPE_VERSION);
      expect(db.keys.ownerOf(envelopeKeyId(envelope))).toBe('tenant');
      expect(leaks(envelope, e)).toBe(false);
      // The pending secret is shown again from the sealed row.
      expect((await h.service.pendingTotpEnrolment(user.id))?.secret).toBe(e.secret);

      const { recoveryCodes } = await h.service.confirmTotp(user.id, codeFor(e, clock.now()));
      const confirmed = (await column('ada'))!;
      expect(leaks(Buffer.from(confirmed, 'utf8'), e)).toBe(false);
      expect(leaks(Buffer.from(confirmed, 'base64'), e)).toBe(false);

      // Recovery codes are stored as hashes only.
      const hashes = await raw.query<{ code_hash: string }>('SELECT code_hash FROM identity_recovery_codes WHERE user_id = ?', [user.id]);
      expect(hashes).toHaveLength(recoveryCodes.length);
      for (const c of recoveryCodes) for (const form of [c, c.replace(/-/g, '')]) expect(hashes.some((x) => x.code_hash.includes(form))).toBe(false);

      if (name === 'sqlite') {
        // The database file, its WAL and shared memory, and the key store: the secret is in none of them.
        const found = [...filesUnder(dirname(db.options.database))].filter(([, bytes]) => leaks(bytes, e)).map(([p]) => p);
        expect(found).toEqual([]);
      }

      clock.advance(STEP);
      expect(await signIn('ada', codeFor(e, clock.now()))).toBe('ok');
      clock.advance(STEP);
      const right = codeFor(e, clock.now());
      expect(await signIn('ada', right.replace(/^./, (d) => String((Number(d) + 1) % 10)))).toBe('login-failed');
    });

    it('moves the secrets to the new tenant key on data-key rotation before the old key is dropped', async () => {
      const e = await enrolled('cy');
      const before = envelopeKeyId(Buffer.from((await column('cy'))!, 'base64'));
      const rotation = new KeyRotation(db.keys, vdb.sealedData, db.options.atRest, vdb.operatorLog, clock);
      await rotation.retireDataKeys('test');
      await rotation.resealAll();
      for (const who of ['ada', 'cy']) {
        const after = envelopeKeyId(Buffer.from((await column(who))!, 'base64'));
        expect(after).not.toBe(before);
        expect(db.keys.ownerOf(after)).toBe('tenant');
      }
      expect(db.keys.lookup(before)).toBeUndefined(); // dropped: nothing is sealed under it any more
      expect(db.keys.retiredKeys()).toEqual([]);
      clock.advance(STEP);
      expect(await signIn('cy', codeFor(e, clock.now()))).toBe('ok');
      expect(await signIn('ada', codeFor(enrolments.get('ada')!, clock.now()))).toBe('ok');
    });

    it('fails closed when a sealed secret is copied onto another user, and leaves the owner unharmed', async () => {
      const own = await enrolled('bea');
      const ada = enrolments.get('ada')!;
      await raw.query('UPDATE identity_users SET totp_secret = (SELECT totp_secret FROM identity_users WHERE username = ?) WHERE username = ?', ['ada', 'bea']);
      clock.advance(STEP);
      // Neither ada's codes nor bea's own open bea's account now.
      expect(await signIn('bea', codeFor(ada, clock.now()))).toBe('decrypt-failed');
      expect(await signIn('bea', codeFor(own, clock.now()))).toBe('decrypt-failed');
      expect(await signIn('ada', codeFor(ada, clock.now()))).toBe('ok');
      // Fail-closed does not lock out the administrator's remedy: reset, then enrol again.
      expect((await h.service.resetMfa('bea')).mfaEnrolled).toBe(false);
      expect(await column('bea')).toBeNull();
      const again = await h.service.enrollTotp(ids.get('bea')!);
      await h.service.confirmTotp(ids.get('bea')!, codeFor(again, clock.now()));
      clock.advance(STEP);
      expect(await signIn('bea', codeFor(again, clock.now()))).toBe('ok');
    });

    it('refuses a secret planted or left in clear (written before secrets were sealed) with decrypt-failed', async () => {
      const { user } = await h.service.addUser({ username: 'dan', role: 'clinician', password: GOOD_PASSWORD });
      const planted = base32Encode(Buffer.alloc(20, 7));
      await raw.query("UPDATE identity_users SET totp_secret = ?, totp_algorithm = 'SHA1', totp_digits = 6, totp_confirmed = 1 WHERE id = ?", [planted, user.id]);
      clock.advance(STEP);
      const code = codeFor({ secret: planted, algorithm: 'SHA1', digits: 6, period: 30 }, clock.now());
      expect(await signIn('dan', code)).toBe('decrypt-failed');
      // Not base64 at all, or a pending clear secret shown back: the same.
      await raw.query("UPDATE identity_users SET totp_secret = 'not base64!', totp_confirmed = 0 WHERE id = ?", [user.id]);
      expect(await errorCode(h.service.pendingTotpEnrolment(user.id))).toBe('decrypt-failed');
      // The account itself stays manageable: the row is looked up without opening the secret.
      expect((await h.service.getUser(user.id))?.username).toBe('dan');
      expect((await h.service.resetMfa('dan')).mfaEnrolled).toBe(false);
      // A rotation leaves clear rows alone (under no key) and still finishes.
      const rotation = new KeyRotation(db.keys, vdb.sealedData, db.options.atRest, vdb.operatorLog, clock);
      await raw.query('UPDATE identity_users SET totp_secret = ? WHERE id = ?', [planted, user.id]);
      await rotation.retireDataKeys('test');
      await rotation.resealAll();
      expect(db.keys.retiredKeys()).toEqual([]);
      expect(await column('dan')).toBe(planted);
    });
  });
}
