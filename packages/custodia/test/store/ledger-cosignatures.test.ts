/**
 * `ledger_cosignatures` on every database: the first line per (size, witness) is kept,
 * the newest size per witness and the sizes with a quorum are found, a scan pages in
 * (size, witness) order, and the table is append-only (triggers refuse UPDATE and DELETE).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`ledger cosignatures on ${dialect}`, () => {
    let db: TestDatabase;
    let vdb: VaultDatabase;
    let raw: RawDatabase;

    beforeAll(async () => {
      db = await createTestDatabase(dialect);
      vdb = await openDatabase(db.options);
      raw = await openRawDatabase(db);
      const add = (size: number, witness: string, line = `— ${witness} line-${size}\n`): Promise<void> => vdb.cosignatures.add({ size, witness, line, at: 1000 + size });
      await add(5, 'w1+00000001');
      await add(5, 'w2+00000002');
      await add(9, 'w1+00000001');
      await add(12, 'w2+00000002');
      await add(12, 'w3+00000003');
      await add(14, 'w1+00000001');
      await add(5, 'w1+00000001', 'a second line for the same size');
    });

    afterAll(async () => {
      await raw?.close();
      await vdb?.close();
      await db?.cleanup();
    });

    it('keeps the first line per size and witness', async () => {
      const at5 = await vdb.cosignatures.at(5);
      expect(at5).toEqual([
        { size: 5, witness: 'w1+00000001', line: '— w1+00000001 line-5\n', at: 1005 },
        { size: 5, witness: 'w2+00000002', line: '— w2+00000002 line-5\n', at: 1005 },
      ]);
      expect(await vdb.cosignatures.at(6)).toEqual([]);
    });

    it('finds the newest size per witness and the sizes a quorum cosigned, newest first', async () => {
      expect(await vdb.cosignatures.latestSizes(['w1+00000001', 'w2+00000002', 'w9+00000009'])).toEqual(new Map([['w1+00000001', 14], ['w2+00000002', 12]]));
      expect(await vdb.cosignatures.latestSizes([])).toEqual(new Map());
      expect(await vdb.cosignatures.quorumSizes(['w1+00000001', 'w2+00000002', 'w3+00000003'], 2, 10)).toEqual([12, 5]);
      expect(await vdb.cosignatures.quorumSizes(['w1+00000001', 'w2+00000002'], 2, 10)).toEqual([5]);
      expect(await vdb.cosignatures.quorumSizes(['w1+00000001', 'w2+00000002', 'w3+00000003'], 1, 2)).toEqual([14, 12]);
      expect(await vdb.cosignatures.quorumSizes([], 1, 10)).toEqual([]);
      expect(await vdb.cosignatures.quorumSizes(['w1+00000001', 'w2+00000002', 'w3+00000003'], 1, 10, 12)).toEqual([14, 12]);
      expect(await vdb.cosignatures.quorumSizes(['w1+00000001', 'w2+00000002', 'w3+00000003'], 2, 10, 13)).toEqual([]);
    });

    it('scans in (size, witness) order, page by page', async () => {
      const seen: string[] = [];
      for (let size = -1, witness = ''; ; ) {
        const page = await vdb.cosignatures.scan(size, witness, 2);
        if (page.length === 0) break;
        seen.push(...page.map((r) => `${r.size}/${r.witness}`));
        ({ size, witness } = page.at(-1)!);
      }
      expect(seen).toEqual(['5/w1+00000001', '5/w2+00000002', '9/w1+00000001', '12/w2+00000002', '12/w3+00000003', '14/w1+00000001']);
    });

    it('refuses to change or remove a cosignature', async () => {
      await expect(raw.query("UPDATE ledger_cosignatures SET line = 'x' WHERE size = 5")).rejects.toThrow(/append-only/);
      await expect(raw.query('DELETE FROM ledger_cosignatures WHERE size = 5')).rejects.toThrow(/append-only/);
      expect(await vdb.cosignatures.at(5)).toHaveLength(2);
    });
  });
}
