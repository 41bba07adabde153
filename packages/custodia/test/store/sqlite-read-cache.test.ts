/**
 * The SQLite adapter keeps recently read current versions in memory; a write from any
 * connection — this store's own or another process's — must make the next read fresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import type { ResourceStore } from '../../src/fhir/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { create, rows } from './store-fixtures.js';

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

  it('serves its own writes and deletions on the next read', async () => {
    await a.transaction((tx) =>
      tx.writeVersions([{ type: 'Patient', id: 'c1', versionId: 3, lastUpdated: 1, method: 'DELETE', json: null, index: null, compartments: null, expected: { versionId: 2, deleted: false } }]),
    );
    expect(await a.readCurrent('Patient', 'c1')).toMatchObject({ versionId: 3, deleted: true });
  });
});
