/**
 * Several vaults may share one PostgreSQL database, each in its own schema: migrations,
 * writes and the write lock of one must not touch another.
 */
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { isCatalogRace } from '../../src/store/open-store.js';
import { createTestDatabase, isAvailable } from '../helpers/databases.js';
import { create, rows } from './store-fixtures.js';

describe.skipIf(!isAvailable('postgres'))('two vaults in one PostgreSQL database', () => {
  it('keep their own tables and migrations', async () => {
    const a = await createTestDatabase('postgres');
    const b = await createTestDatabase('postgres');
    try {
      const storeA = await openStore(a.options);
      await storeA.transaction((tx) => tx.writeVersions([create('Patient', 'only-in-a', rows({}))]));
      // The second schema is migrated although the first already has kysely's migration tables.
      const storeB = await openStore(b.options);
      expect(await storeB.readCurrent('Patient', 'only-in-a')).toBeUndefined();
      await storeB.transaction((tx) => tx.writeVersions([create('Patient', 'only-in-a', rows({}))]));
      expect(await storeA.countResources()).toBe(1);
      expect(await storeB.countResources()).toBe(1);
      await storeA.optimize();
      await storeB.close();
      await storeA.close();
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });
});

describe('a migration run that another vault raced in the catalog', () => {
  // As kysely and pg throw them: the pg error as the cause of the run's error.
  const pgError = (code: string) => Object.assign(new Error('listing failed'), { cause: Object.assign(new Error('pg'), { code }) });

  it('is tried again when it failed listing the tables, before any migration ran (schema, table or column dropped meanwhile)', () => {
    expect(isCatalogRace(pgError('3F000'), undefined)).toBe(true);
    expect(isCatalogRace(pgError('42P01'), undefined)).toBe(true);
    expect(isCatalogRace(pgError('42703'), undefined)).toBe(true);
    expect(isCatalogRace(pgError('3F000'), [{ status: 'NotExecuted' }])).toBe(true);
  });

  it('is not tried again for any other failure, or once a migration has run', () => {
    expect(isCatalogRace(pgError('42601'), undefined)).toBe(false);
    expect(isCatalogRace(new Error('no code'), undefined)).toBe(false);
    expect(isCatalogRace(pgError('3F000'), [{ status: 'Success' }, { status: 'Error' }])).toBe(false);
    // A missing table inside a migration is that migration's own failure.
    expect(isCatalogRace(pgError('42P01'), [{ status: 'Error' }])).toBe(false);
    expect(isCatalogRace(pgError('42703'), [{ status: 'Error' }])).toBe(false);
  });
});
