/**
 * The SQLite adapter keeps recently read current versions in memory; a write from any
 * connection — this store's own or another process's — must make the next read fresh.
 */
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, openStore, type VaultDatabase } from '../../src/store/index.js';
import type { ResourceStore } from '../../src/fhir/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { create, rows, tok } from './store-fixtures.js';

describe('SQLite current-version cache', () => {
  let db: TestDatabase;
  let a: ResourceStore;
  let b: ResourceStore;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    a = await openStore(db.options);
    b = await openStore(db.options);
    await a.transaction((tx) => tx.writeVersions([create('Patient', 'c1', rows({}))]));
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.cleanup();
  });

  it('serves a write by another connection on the next read', async () => {
    expect((await a.readCurrent('Patient', 'c1'))?.versionId).toBe(1);
    expect((await a.readCurrent('Patient', 'c1'))?.versionId).toBe(1);
    await b.transaction((tx) => tx.writeVersions([{ ...create('Patient', 'c1', rows({})), versionId: 2, method: 'PUT', expected: { versionId: 1, deleted: false } }]));
    expect((await a.readCurrent('Patient', 'c1'))?.versionId).toBe(2);
  });

  it('re-evaluates visibility when another connection changes a label or a compartment', async () => {
    const hiv = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' };
    const noHiv = { kind: 'not', item: { kind: 'has-label', ...hiv } } as const;
    const ofP1 = { kind: 'in-compartment', compartment: 'Patient', ids: ['p1'] } as const;
    await a.transaction((tx) => tx.writeVersions([create('Observation', 'o1', rows({}), 1, [{ compartment: 'Patient', id: 'p1' }])]));
    expect((await a.readCurrent('Observation', 'o1', noHiv))?.versionId).toBe(1);
    expect((await a.readCurrent('Observation', 'o1', ofP1))?.versionId).toBe(1);
    await b.transaction((tx) =>
      tx.writeVersions([
        { ...create('Observation', 'o1', rows({ token: [tok('_security', hiv.system, hiv.code)] }), 2, [{ compartment: 'Patient', id: 'p2' }]), versionId: 2, method: 'PUT', expected: { versionId: 1, deleted: false } },
      ]),
    );
    expect(await a.readCurrent('Observation', 'o1', noHiv)).toBeUndefined();
    expect(await a.readCurrent('Observation', 'o1', ofP1)).toBeUndefined();
    expect((await a.readCurrent('Observation', 'o1', { kind: 'has-label', ...hiv }))?.versionId).toBe(2);
    expect((await a.readCurrent('Observation', 'o1'))?.versionId).toBe(2);
  });

  it('moves the change marker of a type written by another connection, and only that type', async () => {
    const before = await a.changeMarker('Consent');
    const patients = await a.changeMarker('Patient');
    await b.transaction((tx) => tx.writeVersions([create('Consent', 'k1', rows({}))]));
    expect(await a.changeMarker('Consent')).not.toBe(before);
    expect(await a.changeMarker('Patient')).toBe(patients);
  });

  it('serves a write by another connection made just before one of its own', async () => {
    await a.transaction((tx) => tx.writeVersions([create('Patient', 'x1', rows({})), create('Patient', 'z1', rows({}))]));
    expect((await a.readCurrent('Patient', 'x1'))?.versionId).toBe(1);
    await b.transaction((tx) => tx.writeVersions([{ ...create('Patient', 'x1', rows({})), versionId: 2, method: 'PUT', expected: { versionId: 1, deleted: false } }]));
    // Its own write right after: the epoch it moves had already been moved by the other connection.
    await a.transaction((tx) => tx.writeVersions([{ ...create('Patient', 'z1', rows({})), versionId: 2, method: 'PUT', expected: { versionId: 1, deleted: false } }]));
    expect((await a.readCurrent('Patient', 'x1'))?.versionId).toBe(2);
  });

  it('serves its own writes and deletions on the next read', async () => {
    await a.transaction((tx) =>
      tx.writeVersions([{ type: 'Patient', id: 'c1', versionId: 3, lastUpdated: 1, method: 'DELETE', json: null, index: null, compartments: null, expected: { versionId: 2, deleted: false } }]),
    );
    expect(await a.readCurrent('Patient', 'c1')).toMatchObject({ versionId: 3, deleted: true });
  });
});

describe('SQLite current-version cache across this process’s own writes', () => {
  let db: TestDatabase;
  let a: VaultDatabase;
  let raw: BetterSqlite3.Database;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    a = await openDatabase(db.options);
    raw = new BetterSqlite3(db.options.database);
    await a.resources.transaction((tx) => tx.writeVersions([create('Patient', 'kept', rows({})), create('Patient', 'written', rows({}))]));
  });
  afterAll(async () => {
    raw.close();
    await a.close();
    await db.cleanup();
  });

  // Whether a read is served from the cache is seen by moving the row away underneath it:
  // a commit by a plain connection that does not move the store epoch (as the audit writer
  // thread's ledger appends do not) leaves cached versions valid, so only a cached version
  // of the moved row can still be read under its id.
  const hideUnderneath = (id: string): void => {
    raw.prepare("UPDATE resources SET res_id = res_id || '-moved' WHERE res_type = 'Patient' AND res_id = ?").run(id);
  };

  it('keeps other resources cached when it writes versions, and serves its own write', async () => {
    expect((await a.resources.readCurrent('Patient', 'kept'))?.versionId).toBe(1);
    expect((await a.resources.readCurrent('Patient', 'written'))?.versionId).toBe(1);
    hideUnderneath('kept');
    await a.resources.transaction((tx) => tx.writeVersions([{ ...create('Patient', 'written', rows({})), versionId: 2, method: 'PUT', expected: { versionId: 1, deleted: false } }]));
    expect((await a.resources.readCurrent('Patient', 'written'))?.versionId).toBe(2);
    expect((await a.resources.readCurrent('Patient', 'kept'))?.versionId).toBe(1);
  });

  it('empties the cache after a transaction that changed rows some other way', async () => {
    // A break-the-glass session: rows of another table, written by plain SQL in a store transaction.
    await a.breakGlass.insert({ id: 's1', userId: 'u1', patientId: 'p1', reason: 'unconscious, allergies unknown', purposeOfUse: 'BTG', startedAt: 1, expiresAt: 2, review: 'pending' });
    expect(await a.resources.readCurrent('Patient', 'kept')).toBeUndefined();
    expect((await a.resources.readCurrent('Patient', 'written'))?.versionId).toBe(2);
    // And its next versions-only write keeps what was cached after that again.
    hideUnderneath('written');
    await a.resources.transaction((tx) => tx.writeVersions([create('Patient', 'third', rows({}))]));
    expect((await a.resources.readCurrent('Patient', 'written'))?.versionId).toBe(2);
  });
});

describe('SQLite per-request lookups remembered until the next commit', () => {
  let db: TestDatabase;
  let a: VaultDatabase;
  let b: VaultDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    a = await openDatabase(db.options);
    b = await openDatabase(db.options);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.cleanup();
  });

  it('sees a break-the-glass session opened through another connection, and its expiry', async () => {
    const T = 1_800_000_000_000;
    expect(await a.breakGlass.active('u1', T)).toEqual([]);
    await b.breakGlass.insert({ id: 's1', userId: 'u1', patientId: 'p1', reason: 'unconscious, allergies unknown', purposeOfUse: 'BTG', startedAt: T, expiresAt: T + 60_000, review: 'pending' });
    expect((await a.breakGlass.active('u1', T + 1)).map((s) => s.id)).toEqual(['s1']);
    expect(await a.breakGlass.active('u1', T + 60_000)).toEqual([]);
    expect(await a.breakGlass.active('u2', T + 1)).toEqual([]);
  });

  it('sees a token revoked through another connection', async () => {
    expect(await a.oauth.isRevoked('jti-1')).toBe(false);
    await b.oauth.revokeAccessToken('jti-1', 1_900_000_000);
    expect(await a.oauth.isRevoked('jti-1')).toBe(true);
    expect(await a.oauth.isRevoked('jti-2')).toBe(false);
  });
});
