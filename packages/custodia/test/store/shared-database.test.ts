/**
 * Several vaults may share one PostgreSQL database, each in its own schema: migrations,
 * writes and the write lock of one must not touch another.
 */
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
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
