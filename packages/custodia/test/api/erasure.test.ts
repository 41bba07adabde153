/**
 * Erasure by crypto-shredding (issue 4 §4), over HTTP on every database: who may erase,
 * legal holds and retention refuse it, reads answer 410 and searches and history forget the
 * patient, shared records and everyone else stay intact and searchable, nothing can be
 * added to an erased record, and a backup of the database taken before the erasure,
 * restored and served with the current key store, still cannot show the patient.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, POSTGRES_URL, isAvailable } from '../helpers/databases.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, type Users, seededVault } from './access-fixtures.js';
import { createVault, openVaultDatabase, resolveConfig, type Vault } from '../../src/app/index.js';
import { buildServer } from '../../src/server/index.js';
import { systemClock } from '../../src/kernel/index.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const REASON = { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Art. 17 request of 2026-11-20, ticket 4711' }] };

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`erasure on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    let po: Record<string, string>;
    const op = (): Record<string, string> => bearer(t.token);
    const call = (method: string, url: string, headers: Record<string, string>, body?: unknown) => t.request(method, url, body, { ...headers, ...(body === undefined ? {} : JSON_TYPE) });
    const total = async (q: string): Promise<number> => (await call('GET', `/fhir/${q}${q.includes('?') ? '&' : '?'}_summary=count`, op())).body.total as number;

    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      po = bearer(await users.token('privacy-officer'));
      // History for p1, and a record shared by both patients (sealed under the tenant key).
      expect((await call('PUT', '/fhir/Observation/o-p1', op(), { resourceType: 'Observation', id: 'o-p1', status: 'amended', code: { text: 'pulse' }, subject: { reference: 'Patient/p1' } })).status).toBe(200);
      const appt = { resourceType: 'Appointment', id: 'appt-shared', status: 'booked', participant: [{ actor: { reference: 'Patient/p1' }, status: 'accepted' }, { actor: { reference: 'Patient/p2' }, status: 'accepted' }] };
      expect((await call('PUT', '/fhir/Appointment/appt-shared', op(), appt)).status).toBe(201);
    }, 120_000);
    afterAll(async () => t?.close());

    it('is for administrators and the privacy officer, with a reason', async () => {
      for (const role of ['clinician', 'nurse', 'patient'] as const) {
        expect((await call('POST', '/fhir/Patient/p1/$erase', bearer(await users.token(role)), REASON)).status, role).toBe(403);
      }
      // The role alone is not enough: the token must be issued for administration.
      expect((await call('POST', '/fhir/Patient/p1/$erase', bearer(await users.token('privacy-officer', { scope: 'user/*.cruds' })), REASON)).status).toBe(403);
      const noReason = await call('POST', '/fhir/Patient/p1/$erase', po, {});
      expect(noReason.status).toBe(400);
      expect((await call('POST', '/fhir/Patient/nobody/$erase', po, REASON)).status).toBe(404);
      expect((await call('GET', '/fhir/Patient/p1', op())).status).toBe(200);
    });

    it('is refused under a legal hold, with the reason, until the hold is released', async () => {
      expect((await call('PUT', '/admin/legal-holds/p1', po, { reason: 'Litigation hold, case 2026-CV-118' })).status).toBe(200);
      const refused = await call('POST', '/fhir/Patient/p1/$erase', po, REASON);
      expect(refused.status).toBe(409);
      expect(refused.body.issue[0].code).toBe('business-rule');
      expect(refused.body.issue[0].diagnostics).toContain('case 2026-CV-118');
      expect((await call('GET', '/fhir/Patient/p1', op())).status).toBe(200);
      expect((await call('DELETE', '/admin/legal-holds/p1', po)).body).toEqual({ released: true });
    });

    it("destroys the patient's keys: reads answer 410, searches and history forget them", async () => {
      const before = { observations: await total('Observation'), p2obs: await total('Observation?subject=Patient/p2') };
      const res = await call('POST', '/fhir/Patient/p1/$erase', po, REASON);
      expect(res.status).toBe(200);
      const out = Object.fromEntries((res.body.parameter as { name: string; valueInteger?: number }[]).map((p) => [p.name, p.valueInteger]));
      expect(out['keysDestroyed']).toBe(1);
      expect(out['resourcesErased']).toBeGreaterThanOrEqual(4); // Patient, Observation, Condition, HIV Condition, Consent, AuditEvent…
      expect(out['versionsErased']).toBeGreaterThan(out['resourcesErased']!);
      expect(out['sharedRecordsKept']).toBe(1);
      for (const url of ['/fhir/Patient/p1', '/fhir/Observation/o-p1', '/fhir/Condition/c-p1', '/fhir/Observation/o-p1/_history/1']) {
        const r = await call('GET', url, op());
        expect(r.status, url).toBe(410);
        expect(r.body.resourceType).toBe('OperationOutcome');
        expect(r.body.issue[0].diagnostics, url).toMatch(/erased/);
      }
      expect(await total('Patient?family=Family-p1')).toBe(0);
      expect(await total('Observation?subject=Patient/p1')).toBe(0);
      expect(await total('Observation')).toBe(before.observations - 1);
      const history = await call('GET', '/fhir/Observation/_history', op());
      expect(JSON.stringify(history.body)).not.toContain('"id":"o-p1"');
      // Everyone else intact and searchable; the shared record stays.
      expect((await call('GET', '/fhir/Patient/p2', op())).status).toBe(200);
      expect(await total('Patient?family=Family-p2')).toBe(1);
      expect(await total('Observation?subject=Patient/p2')).toBe(before.p2obs);
      expect((await call('GET', '/fhir/Appointment/appt-shared', op())).status).toBe(200);
      // Erasing twice says so.
      expect((await call('POST', '/fhir/Patient/p1/$erase', po, REASON)).status).toBe(410);
    });

    it('takes nothing new into an erased record', async () => {
      const r = await call('POST', '/fhir/Observation', op(), { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/p1' } });
      expect(r.status).toBe(410);
      expect((await call('PUT', '/fhir/Patient/p1', op(), { resourceType: 'Patient', id: 'p1', gender: 'male' })).status).toBe(410);
    });

    it('was recorded in the operator log, with the reason and counts but nothing of the patient', async () => {
      const db = await openVaultDatabase(t.vault.config);
      try {
        const entries = await db.operatorLog.recent(50);
        expect(entries.some((e) => e.action === 'patient.erase' && e.detail['phase'] === 'start' && e.detail['patient'] === 'p1')).toBe(true);
        const erase = entries.find((e) => e.action === 'patient.erase' && e.detail['phase'] === 'done');
        expect(erase).toBeDefined();
        expect(erase!.actor).not.toBe('operator');
        expect(erase!.detail).toMatchObject({ patient: 'p1', reason: 'Art. 17 request of 2026-11-20, ticket 4711', keys: 1, sharedKept: 1 });
        expect(JSON.stringify(entries)).not.toContain('Family-p1');
        expect(entries.some((e) => e.action === 'legal-hold.place' && e.detail['patient'] === 'p1')).toBe(true);
      } finally {
        await db.close();
      }
    });
  });
}

/** A vault on a given data directory and database, as `custodia serve` builds it. */
async function openVault(dataDir: string, database: string, schema?: string): Promise<{ vault: Vault; get: (url: string) => Promise<number>; close: () => Promise<void> }> {
  const config = resolveConfig({ dataDir, database, baseUrl: 'http://127.0.0.1:8080/fhir', logLevel: 'silent', ...(schema === undefined ? {} : { postgresSchema: schema }) });
  const vault = await createVault(config, { clock: systemClock, identity: { scrypt: { logN: 4, r: 8, p: 1 } } });
  const app = buildServer(vault);
  await app.ready();
  const token = await vault.tokens.issue({ subject: 'test-operator', scope: 'system/*.cruds', ttlSeconds: 600 });
  return {
    vault,
    get: async (url) => (await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })).statusCode,
    close: async () => {
      await app.close();
      await vault.close();
    },
  };
}

async function seedTwo(vault: Vault): Promise<void> {
  for (const id of ['a', 'b']) {
    await vault.store.transaction(async () => undefined);
    const app = buildServer(vault);
    await app.ready();
    const token = await vault.tokens.issue({ subject: 'test-operator', scope: 'system/*.cruds', ttlSeconds: 600 });
    const put = (r: Record<string, unknown>) => app.inject({ method: 'PUT', url: `/fhir/${r['resourceType'] as string}/${r['id'] as string}`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, payload: JSON.stringify(r) });
    expect((await put({ resourceType: 'Patient', id, name: [{ family: `Restore-${id}` }] })).statusCode).toBe(201);
    expect((await put({ resourceType: 'Observation', id: `obs-${id}`, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${id}` } })).statusCode).toBe(201);
    await app.close();
  }
}

describe('a backup taken before an erasure, restored and served with the current key store', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-erasure-backup-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on sqlite: custodia.db copied before the erasure and put back in place still cannot show the patient', async () => {
    const dataDir = join(dir, 'sqlite');
    const database = join(dataDir, 'custodia.db');
    let v = await openVault(dataDir, database);
    await seedTwo(v.vault);
    // A consistent copy, as an operator's backup job takes it.
    const backup = join(dir, 'backup.db');
    const src = new BetterSqlite3(database, { readonly: true });
    src.exec(`VACUUM INTO '${backup}'`);
    src.close();
    await v.vault.erasure!.erasePatient('a', 'operator', 'test');
    expect(await v.get('/fhir/Patient/a')).toBe(410);
    await v.close();
    // Restore: the old file replaces the current one.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${database}${suffix}`, { force: true });
    execFileSync('cp', [backup, database]);
    const restored = new BetterSqlite3(database, { readonly: true });
    expect((restored.prepare("SELECT COUNT(*) AS n FROM resource_versions WHERE res_id IN ('a', 'obs-a') AND content IS NOT NULL").get() as { n: number }).n).toBe(2);
    restored.close();
    v = await openVault(dataDir, database);
    try {
      expect(await v.get('/fhir/Patient/a')).toBe(410);
      expect(await v.get('/fhir/Observation/obs-a')).toBe(410);
      expect(await v.get('/fhir/Patient/b')).toBe(200);
      expect(await v.get('/fhir/Observation/obs-b')).toBe(200);
      const s = await v.vault.keyRotation!.status();
      expect(s.versions.erased).toBe(2);
    } finally {
      await v.close();
    }
    // The replay removed the ciphertext from the restored file again.
    const after = new BetterSqlite3(database, { readonly: true });
    expect((after.prepare("SELECT COUNT(*) AS n FROM resource_versions WHERE res_id IN ('a', 'obs-a') AND content IS NOT NULL").get() as { n: number }).n).toBe(0);
    after.close();
  });

  it.skipIf(POSTGRES_URL === undefined)('on postgres: a pg_dump taken before the erasure, restored, still cannot show the patient', async () => {
    const dataDir = join(dir, 'pg');
    const schema = `t_erase_${Date.now().toString(36)}`;
    const psql = (sqlText: string): string => execFileSync('psql', [POSTGRES_URL!, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sqlText], { encoding: 'utf8' });
    let v = await openVault(dataDir, POSTGRES_URL!, schema);
    try {
      await seedTwo(v.vault);
      const dump = execFileSync('pg_dump', ['--schema', schema, POSTGRES_URL!], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      await v.vault.erasure!.erasePatient('a', 'operator', 'test');
      await v.close();
      psql(`DROP SCHEMA ${schema} CASCADE`);
      const file = join(dir, 'dump.sql');
      writeFileSync(file, dump);
      execFileSync('psql', [POSTGRES_URL!, '-v', 'ON_ERROR_STOP=1', '-q', '-f', file], { encoding: 'utf8' });
      expect(psql(`SELECT COUNT(*) FROM ${schema}.resource_versions WHERE res_id IN ('a', 'obs-a') AND content IS NOT NULL`)).toMatch(/\b2\b/);
      v = await openVault(dataDir, POSTGRES_URL!, schema);
      expect(await v.get('/fhir/Patient/a')).toBe(410);
      expect(await v.get('/fhir/Observation/obs-a')).toBe(410);
      expect(await v.get('/fhir/Patient/b')).toBe(200);
      expect(psql(`SELECT COUNT(*) FROM ${schema}.resource_versions WHERE res_id IN ('a', 'obs-a') AND content IS NOT NULL`)).toMatch(/\b0\b/);
    } finally {
      await v.close().catch(() => undefined);
      psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
});
