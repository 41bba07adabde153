/**
 * Break-the-glass reasons at rest (store/break-glass-store.ts, migration 0021), on every
 * database. A session opened over HTTP keeps its reason only sealed: the row's `reason`
 * column is empty and `reason_sealed` holds it in no encoding the plaintext scan knows,
 * while the review queue (`GET /admin/btg-reviews`) shows it as before. A row from before
 * 0021 (clear reason, nothing sealed) is shown as it is and sealed when the vault opens;
 * a sealed reason copied onto another session does not open; data-key rotation moves the
 * reasons to the new tenant key before the old one is dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVault, resolveConfig } from '../../src/app/index.js';
import { KeyRotation } from '../../src/app/key-rotation.js';
import { envelopeKeyId } from '../../src/crypto/index.js';
import { ManualClock, seededRandom } from '../../src/kernel/index.js';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { encodingsOf } from '../helpers/plaintext-scan.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';

const REASON = 'Unconscious in the emergency department; allergies unknown';
const LEGACY = 'Cardiac arrest on ward 7, no consent on file';

interface Row {
  id: string;
  reason: string;
  reason_sealed: Uint8Array | null;
}

const bytesOf = (v: Uint8Array | null): Buffer => (v === null ? Buffer.alloc(0) : Buffer.from(v));
const leaks = (stored: Buffer, text: string): string[] => encodingsOf(text).filter((e) => stored.includes(e.bytes)).map((e) => e.encoding);
const legacyRow = (id: string, reason: string): [string, unknown[]] => [
  "INSERT INTO break_glass_sessions (id, user_id, patient_id, reason, started_at, expires_at, review) VALUES (?, 'u-legacy', 'p-legacy', ?, 1, 2, 'pending')",
  [id, reason],
];

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`break-the-glass reasons at rest on ${name}`, () => {
    describe('through the vault', () => {
      let tv: TestVault;
      let raw: RawDatabase;
      let sessionId: string;

      beforeAll(async () => {
        tv = await startTestVault(name);
        raw = await openRawDatabase(tv.db);
      });
      afterAll(async () => {
        await raw?.close();
        await tv?.close();
      });

      it('stores a session opened over HTTP with its reason sealed, and the review queue shows it', async () => {
        const patient = await tv.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Lovelace', given: ['Ada'] }] });
        expect(patient.status).toBe(201);
        const user = (await tv.vault.identity.addUser({ username: 'bob', role: 'clinician', fhirUser: 'Practitioner/bob', password: 'correct horse battery staple 1815' })).user;
        const token = await tv.vault.tokens.issue({ subject: user.id, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/bob', scope: 'user/*.rs', ttlSeconds: 3600 });
        const read = await tv.request('GET', `/fhir/Patient/${patient.body.id}`, undefined, { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': REASON, 'x-break-glass-patient': patient.body.id });
        expect(read.status).toBe(200);

        const rows = await raw.query<Row>('SELECT id, reason, reason_sealed FROM break_glass_sessions');
        expect(rows).toHaveLength(1);
        sessionId = rows[0]!.id;
        expect(rows[0]!.reason).toBe('');
        expect(bytesOf(rows[0]!.reason_sealed).length).toBeGreaterThan(REASON.length);
        expect(leaks(bytesOf(rows[0]!.reason_sealed), REASON)).toEqual([]);

        const queue = await tv.request('GET', '/admin/btg-reviews');
        expect(queue.status).toBe(200);
        expect(queue.body).toEqual([expect.objectContaining({ id: sessionId, patientId: patient.body.id, reason: REASON, review: 'pending', purposeOfUse: 'BTG' })]);
        // The running session is found (its reason opened) on the next request: it goes through and opens no second one.
        expect((await tv.request('GET', `/fhir/Patient/${patient.body.id}`, undefined, { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': REASON, 'x-break-glass-patient': patient.body.id })).status).toBe(200);
        expect(await raw.query('SELECT id FROM break_glass_sessions')).toHaveLength(1);
      });

      it('seals a reason stored in clear before migration 0021 when the vault opens', async () => {
        await raw.query(...legacyRow('legacy-1', LEGACY));
        // Shown as it is until then.
        expect((await tv.request('GET', '/admin/btg-reviews')).body.map((s: { reason: string }) => s.reason)).toContain(LEGACY);
        // A restart of the vault on the same database.
        const config = tv.vault.config;
        const again = await createVault(resolveConfig({ dataDir: config.dataDir, database: config.database, ...(config.postgresSchema === undefined ? {} : { postgresSchema: config.postgresSchema }), baseUrl: config.fhirBaseUrl, logLevel: 'silent' }), { random: seededRandom('reopen') });
        try {
          const row = (await raw.query<Row>("SELECT id, reason, reason_sealed FROM break_glass_sessions WHERE id = 'legacy-1'"))[0]!;
          expect(row.reason).toBe('');
          expect(leaks(bytesOf(row.reason_sealed), LEGACY)).toEqual([]);
          expect((await again.breakGlass.list()).map((s) => [s.id, s.reason]).sort()).toEqual([['legacy-1', LEGACY], [sessionId, REASON]].sort());
        } finally {
          await again.close();
        }
      });
    });

    describe('in the store', () => {
      let db: TestDatabase;
      let vdb: VaultDatabase;
      let raw: RawDatabase;
      const clock = new ManualClock(Date.UTC(2026, 10, 1));

      beforeAll(async () => {
        db = await createTestDatabase(name);
        vdb = await openDatabase(db.options);
        raw = await openRawDatabase(db);
      });
      afterAll(async () => {
        await raw?.close();
        await vdb?.close();
        await db?.cleanup();
      });

      const session = (id: string, reason: string) => ({ id, userId: 'u-1', patientId: 'p-1', reason, purposeOfUse: 'BTG' as const, startedAt: 10, expiresAt: 20, review: 'pending' as const });

      it('refuses a sealed reason moved onto another session (decrypt-failed)', async () => {
        await vdb.breakGlass.insert(session('s-a', REASON));
        await vdb.breakGlass.insert(session('s-b', 'Another reason of some length'));
        expect((await vdb.breakGlass.get('s-a'))?.reason).toBe(REASON);
        const a = (await raw.query<Row>("SELECT id, reason, reason_sealed FROM break_glass_sessions WHERE id = 's-a'"))[0]!;
        await raw.query("UPDATE break_glass_sessions SET reason_sealed = ? WHERE id = 's-b'", [bytesOf(a.reason_sealed)]);
        await expect(vdb.breakGlass.get('s-b')).rejects.toMatchObject({ code: 'decrypt-failed' });
        await raw.query("DELETE FROM break_glass_sessions WHERE id = 's-b'");
      });

      it('moves the reasons to the new tenant key on data-key rotation, clear rows sealed first', async () => {
        await raw.query(...legacyRow('legacy-2', LEGACY));
        expect(await vdb.breakGlass.sealClearReasons()).toBe(1);
        expect(await vdb.breakGlass.sealClearReasons()).toBe(0);
        const keyOf = async (id: string): Promise<string> => envelopeKeyId(bytesOf((await raw.query<Row>('SELECT id, reason, reason_sealed FROM break_glass_sessions WHERE id = ?', [id]))[0]!.reason_sealed));
        const before = await keyOf('s-a');
        expect(await keyOf('legacy-2')).toBe(before);
        const rotation = new KeyRotation(db.keys, vdb.sealedData, db.options.atRest, vdb.operatorLog, clock);
        await rotation.retireDataKeys('test');
        await rotation.resealAll();
        for (const id of ['s-a', 'legacy-2']) {
          const after = await keyOf(id);
          expect(after).not.toBe(before);
          expect(db.keys.ownerOf(after)).toBe('tenant');
        }
        expect(db.keys.lookup(before)).toBeUndefined(); // dropped: nothing is sealed under it any more
        expect((await vdb.breakGlass.list({}, 10)).map((s) => [s.id, s.reason]).sort()).toEqual([['legacy-2', LEGACY], ['s-a', REASON]]);
      });
    });
  });
}
