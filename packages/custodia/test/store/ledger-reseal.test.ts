/**
 * Data-key rotation over the audit ledger (ledger-log.ts `resealSealedBy`), on both
 * databases: with no index on `key_id` (migration 0023) it re-seals in one pass in index
 * order, batch by batch. Every entry sealed by a retired key moves to its owner's new key
 * and still opens to the same bytes; `remaining` counts down to 0 by what each batch moved;
 * a batch never returns more than its limit; a key the caller stops asking about mid-pass
 * leaves the rest going; and an entry under a retired key behind the pass is found by the
 * next one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { envelopeKeyId } from '../../src/crypto/index.js';
import type { AuditRecord } from '../../src/ledger/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { openRawDatabase } from '../helpers/raw-database.js';
import { create, rows } from './store-fixtures.js';

function read(patient: string, n: number): AuditRecord {
  return { type: 'rest', subtype: 'read', agent: { who: 'Practitioner/dr-a' }, at: 1_800_000_000_000 + n, action: 'R', outcome: '0', patients: [patient], entities: [`Patient/${patient}/_history/1`] };
}

const PATIENTS = ['p0', 'p1', 'p2', 'p3', 'p4'];

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`re-sealing the ledger under new data keys on ${dialect}`, () => {
    let db: TestDatabase;
    let vault: VaultDatabase;
    beforeEach(async () => {
      db = await createTestDatabase(dialect);
      vault = await openDatabase(db.options);
      await vault.resources.transaction((tx) => tx.writeVersions(PATIENTS.map((p) => create('Patient', p, rows({})))));
      for (let i = 0; i < 60; i++) await vault.ledger.appendDurably({ audits: [read(PATIENTS[i % PATIENTS.length]!, i)] });
    });
    afterEach(async () => {
      await vault.close();
      await db.cleanup();
    });

    const sealedBy = async (keyIds: ReadonlySet<string>) => (await vault.ledger.scanLeaves(0, 100_000)).filter((l) => l.keyId !== null && keyIds.has(l.keyId));

    it('moves every sealed entry in one pass, counting down, each batch within its limit, and the entries open to the same bytes', async () => {
      const before = await vault.ledger.scanLeaves(0, 100_000);
      const opened = new Map(before.map((l) => [l.idx, vault.ledger.openLeaf(l)]));
      db.keys.retireActiveKeys();
      const retired = db.keys.retiredKeys().map((k) => k.id);
      const total = (await sealedBy(new Set(retired))).length;
      expect(total).toBe(60);
      let remaining = total;
      let batches = 0;
      for (;;) {
        const r = await vault.ledger.resealSealedBy(retired, 7);
        batches++;
        expect(r.resealed).toBeLessThanOrEqual(7);
        expect(r.remaining).toBe(remaining - r.resealed);
        remaining = r.remaining;
        if (r.remaining === 0) {
          expect(r.stillSealing.size).toBe(0);
          break;
        }
        // Within a pass no key is said to be done: the caller would drop it.
        expect(r.stillSealing).toEqual(new Set(retired));
        expect(batches).toBeLessThan(20);
      }
      expect(batches).toBe(Math.ceil(total / 7));
      expect(await sealedBy(new Set(retired))).toEqual([]);
      for (const leaf of await vault.ledger.scanLeaves(0, 100_000)) {
        expect(vault.ledger.openLeaf(leaf).equals(opened.get(leaf.idx)!)).toBe(true);
        if (leaf.keyId !== null) expect(leaf.keyId).toBe(envelopeKeyId(leaf.stored));
      }
      // Each patient's entries are under the patient's new key.
      const p0 = db.keys.activeKey('Patient/p0').id;
      expect((await vault.ledger.scanLeaves(0, 100_000)).filter((l) => l.keyId === p0)).toHaveLength(12);
    });

    it('goes on when emptied keys drop out mid-pass, and a later pass finds an entry left behind the first', async () => {
      const sealedBefore = (await vault.ledger.scanLeaves(0, 100_000)).filter((l) => l.keyId !== null);
      db.keys.retireActiveKeys();
      const retired = db.keys.retiredKeys().map((k) => k.id);
      expect(await vault.ledger.resealSealedBy(retired, 7)).toMatchObject({ resealed: 7, remaining: 53 });
      // The caller stops asking about keys that seal nothing (on SQLite the tenant's, made for the writer thread): the rest go on.
      const sealing = new Set(sealedBefore.map((l) => l.keyId!));
      const fewer = retired.filter((k) => sealing.has(k));
      expect(fewer).toHaveLength(PATIENTS.length);
      expect(await vault.ledger.resealSealedBy(fewer, 7)).toMatchObject({ resealed: 7, remaining: 46 });
      // The first entry moved goes back under its retired key (a re-seal is the one change the database allows to a leaf), behind the pass.
      const behind = sealedBefore[0]!;
      const raw = await openRawDatabase(db);
      try {
        await raw.query('UPDATE ledger_leaves SET entry = ?, key_id = ? WHERE idx = ?', [behind.stored, behind.keyId, behind.idx]);
      } finally {
        await raw.close();
      }
      const seen: number[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await vault.ledger.resealSealedBy(fewer, 7);
        seen.push(r.remaining);
        if (r.remaining === 0) break;
      }
      // The pass runs out (a short last batch) with the one behind it still sealed by a retired key: counted, and the next pass moves it.
      expect(seen).toEqual([39, 32, 25, 18, 11, 4, 1, 0]);
      expect(await sealedBy(new Set(retired))).toEqual([]);
      const leaf = (await vault.ledger.leavesAt([behind.idx]))[0]!;
      expect(vault.ledger.openLeaf(leaf).equals(vault.ledger.openLeaf(behind))).toBe(true);
    });
  });
}
