/**
 * Patient chains (ledger/patient-chain.ts) as each append path writes them, on both
 * databases: on SQLite the audit writer thread (audits alone) and the writer's own
 * transaction (anything else), on PostgreSQL the one in-process path; appended
 * concurrently, every entry about one patient links to exactly the previous entry about
 * that patient, and an event naming several patients is followed by one account each.
 * Patients are filed under a blind name, rows filed under a clear id are re-filed, and
 * finding those (as the vault opens) is two seeks on the primary key, never a scan.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { chainLinkOf, decodeEntry, type AuditRecord, type LedgerEntry } from '../../src/ledger/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { openRawDatabase } from '../helpers/raw-database.js';
import { clearFiledSql, FILING_MERGE_SPAN } from '../../src/store/ledger-rows.js';
import { create, rows } from './store-fixtures.js';

function event(patients: string[], n: number, query?: string): AuditRecord {
  return {
    type: 'rest',
    subtype: patients.length === 1 ? 'read' : 'search-type',
    agent: { who: 'Practitioner/dr-a', roles: ['clinician'] },
    at: 1_800_000_000_000 + n,
    action: 'R',
    outcome: '0',
    patients,
    entities: patients.flatMap((p) => [`Patient/${p}/_history/1`, `Observation/of-${p}`]),
    ...(query === undefined ? {} : { query }),
  };
}

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`patient chains on ${dialect}`, () => {
    let db: TestDatabase;
    let vault: VaultDatabase;
    beforeEach(async () => {
      db = await createTestDatabase(dialect);
      vault = await openDatabase(db.options);
    });
    afterEach(async () => {
      await vault.close();
      await db.cleanup();
    });

    it('links every entry about a patient to the previous one, whichever path appended it', async () => {
      await vault.resources.transaction((tx) => tx.writeVersions([create('Patient', 'p1', rows({})), create('Patient', 'p2', rows({})), create('Patient', 'p3', rows({}))]));
      const groups = [['p1'], ['p2'], ['p1', 'p2', 'p3'], ['p3'], [], ['p2', 'p1']];
      const appends: Promise<number>[] = [];
      for (let i = 0; i < 240; i++) {
        const audits = [event(groups[i % groups.length]!, i, 'name=Doe')];
        // Every fourth append goes through the writer's own transaction (it carries an item besides audits).
        appends.push(vault.ledger.appendUnsynced(i % 4 === 3 ? { audits, erasures: [] } : { audits }));
        if (i % 9 === 0) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(appends);
      await vault.ledger.flushAppends();

      const leaves = await vault.ledger.scanLeaves(0, 10_000);
      const entries: [number, LedgerEntry][] = leaves.filter((l) => l.kind === 'audit' || l.kind === 'access').map((l) => [l.idx, decodeEntry(vault.ledger.openLeaf(l))]);
      const heads = new Map<string, number>();
      const perPatient = new Map<string, number>();
      let accountsDue: string[] = [];
      let of = -1;
      for (const [idx, entry] of entries) {
        if (entry.kind === 'access') {
          // The accounts follow their event, one per patient, in order; each says only what is the patient's own.
          expect(entry.of).toBe(of);
          expect(entry.event.patients).toEqual([accountsDue.shift()]);
          expect(entry.event.query).toBeUndefined();
          expect(entry.event.entities).toEqual([`Patient/${entry.event.patients[0]}/_history/1`]);
        } else {
          expect(accountsDue).toEqual([]);
          if (entry.kind === 'audit' && entry.event.patients.length > 1) {
            accountsDue = [...entry.event.patients];
            of = idx;
            expect(entry.prev).toBeUndefined();
          }
        }
        const link = chainLinkOf(entry);
        if (entry.kind === 'audit' && entry.event.patients.length === 1) expect(link).toBeDefined();
        if (link === undefined) continue;
        expect(link.prev).toBe(heads.get(link.patient) ?? null);
        heads.set(link.patient, idx);
        perPatient.set(link.patient, (perPatient.get(link.patient) ?? 0) + 1);
      }
      expect(accountsDue).toEqual([]);
      // p1: its own reads (40) and the two shared events' accounts (40 + 40).
      expect(perPatient.get('p1')).toBe(120);
      expect(perPatient.get('p3')).toBe(80);
      // What audit_patients files under a patient is exactly their chain.
      const filed = await vault.ledger.auditIndexes({ patient: 'p1', order: 'asc', limit: 10_000 });
      expect(filed).toHaveLength(120);
      expect(filed[filed.length - 1]).toBe(heads.get('p1'));
    });

    it('keeps every chain whole and every patient\'s filing complete across merges of the tail (migration 0024)', async () => {
      const patients = Array.from({ length: 40 }, (_, i) => `m${i}`);
      await vault.resources.transaction((tx) => tx.writeVersions(patients.map((p) => create('Patient', p, rows({})))));
      const appends: Promise<number>[] = [];
      // Past FILING_MERGE_SPAN twice: batches of ten events through the writer thread, every seventh through the writer's own transaction.
      // The thread commits everything sent while it was busy as one transaction, and a merge happens at the first append past the span,
      // so a backlog of hundreds of requests moved the first merge as late as index 11,535 and left room for no second one (CI,
      // 2026-12-01: through 8,175). Waiting for what was sent every 100 requests keeps a transaction under 1,200 entries: two merges.
      for (let i = 0; i < 1000; i++) {
        const audits = Array.from({ length: 10 }, (_, k) => event(k === 9 ? [patients[i % 40]!, patients[(i + 7) % 40]!] : [patients[(i * 10 + k) % 40]!], i * 10 + k));
        appends.push(vault.ledger.appendUnsynced(i % 7 === 3 ? { audits, erasures: [] } : { audits }));
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
        if (i % 100 === 99) await Promise.all(appends);
      }
      await Promise.all(appends);
      await vault.ledger.flushAppends();
      const heads = new Map<string, number>();
      const chains = new Map<string, number[]>();
      for (let from = 0; ; ) {
        const leaves = await vault.ledger.scanLeaves(from, 2000);
        if (leaves.length === 0) break;
        from = leaves[leaves.length - 1]!.idx + 1;
        for (const l of leaves) {
          if (l.kind !== 'audit' && l.kind !== 'access') continue;
          const link = chainLinkOf(decodeEntry(vault.ledger.openLeaf(l)));
          if (link === undefined) continue;
          expect(link.prev, `entry ${l.idx}`).toBe(heads.get(link.patient) ?? null);
          heads.set(link.patient, l.idx);
          chains.set(link.patient, [...(chains.get(link.patient) ?? []), l.idx]);
        }
      }
      expect([...chains.values()].reduce((n, c) => n + c.length, 0)).toBe(9 * 1000 + 2 * 1000); // a two-patient event links through its two accounts
      for (const p of patients) {
        expect(await vault.ledger.auditIndexes({ patient: p, order: 'asc', limit: 100_000 })).toEqual(chains.get(p));
        const newest = await vault.ledger.auditIndexes({ patient: p, order: 'desc', limit: 3 });
        expect(newest).toEqual(chains.get(p)!.slice(-3).reverse());
      }
      const raw = await openRawDatabase(db);
      try {
        const count = async (sqlText: string): Promise<number> => Number(Object.values((await raw.query<Record<string, unknown>>(sqlText))[0]!)[0]);
        if (dialect === 'sqlite') {
          expect(await count('SELECT through FROM audit_filing_merges')).toBeGreaterThanOrEqual(2 * FILING_MERGE_SPAN - 1);
          expect(await count('SELECT COUNT(*) FROM audit_filings')).toBeLessThan(FILING_MERGE_SPAN);
        } else expect(await count('SELECT COUNT(*) FROM audit_filings')).toBe(0);
      } finally {
        await raw.close();
      }
    });

    it('files patients in audit_patients under a blind name, and re-files rows written under a clear id', async () => {
      await vault.resources.transaction((tx) => tx.writeVersions([create('Patient', 'p1', rows({})), create('Patient', 'A2', rows({}))]));
      // Both paths: the writer thread (audits alone) and the writer's own transaction.
      for (let i = 0; i < 6; i++) await vault.ledger.appendUnsynced(i % 2 === 0 ? { audits: [event(['p1'], i)] } : { audits: [event(['p1', 'A2'], i)], erasures: [] });
      await vault.ledger.flushAppends();
      const raw = await openRawDatabase(db);
      try {
        const filedRows = async (): Promise<{ patient: string; idx: number }[]> =>
          // Filed in audit_patients or, on SQLite, still in the tail (migration 0024).
          (await raw.query<{ patient: string; idx: number | string }>('SELECT patient, idx FROM audit_patients UNION ALL SELECT patient, idx FROM audit_filings ORDER BY idx')).map((r) => ({ patient: r.patient, idx: Number(r.idx) }));
        const before = await filedRows();
        // p1: 3 own reads and 3 accounts; A2: 3 accounts. (Clear ids on both sides of the blind names' range: 'A2' < 'b:' < 'p1'.)
        expect(before).toHaveLength(9);
        for (const r of before) expect(r.patient).toMatch(/^b:[A-Za-z0-9_-]{22}$/);
        expect(new Set(before.map((r) => r.patient)).size).toBe(2);
        const p1 = await vault.ledger.auditIndexes({ patient: 'p1', order: 'asc', limit: 100 });
        expect(p1).toHaveLength(6);

        // As a vault before blind filing wrote them: under the clear ids.
        const p1Name = before.find((r) => r.idx === p1[0])!.patient;
        for (const table of ['audit_patients', 'audit_filings']) await raw.query(`UPDATE ${table} SET patient = CASE WHEN patient = ? THEN 'p1' ELSE 'A2' END`, [p1Name]);
        expect(await vault.ledger.auditIndexes({ patient: 'p1', order: 'asc', limit: 100 })).toEqual([]);
        expect(await vault.ledger.refileClearPatients()).toBe(2);
        expect(await vault.ledger.refileClearPatients()).toBe(0);
        expect(await filedRows()).toEqual(before);
        expect(await vault.ledger.auditIndexes({ patient: 'p1', order: 'asc', limit: 100 })).toEqual(p1);

        // The chain goes on from where it was.
        const next = await vault.ledger.appendUnsynced({ audits: [event(['p1'], 99)] });
        await vault.ledger.flushAppends();
        const [leaf] = await vault.ledger.scanLeaves(next, 1);
        expect(chainLinkOf(decodeEntry(vault.ledger.openLeaf(leaf!)))?.prev).toBe(p1[p1.length - 1]);
      } finally {
        await raw.close();
      }
    });

    it('finds the rows to re-file by two seeks on the primary key, never a scan of audit_patients', async () => {
      const raw = await openRawDatabase(db);
      try {
        // Enough blind rows that a scan would cost something, and the planner's statistics for them.
        const rows = 20_000;
        if (dialect === 'postgres') {
          await raw.query(`INSERT INTO audit_patients SELECT 'b:' || md5((g % 2000)::text), g, g FROM generate_series(1, ${rows}) g`);
          await raw.query('ANALYZE audit_patients');
        } else {
          await raw.query(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${rows}) INSERT INTO audit_patients SELECT 'b:' || hex(n % 2000), n, n FROM g`);
          await raw.query('ANALYZE');
        }
        const plan =
          dialect === 'postgres'
            ? (await raw.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${clearFiledSql('postgres')}`)).map((r) => r['QUERY PLAN'])
            : (await raw.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${clearFiledSql('sqlite')}`)).map((r) => r.detail);
        const text = plan.join('\n');
        if (dialect === 'postgres') {
          expect(text).not.toMatch(/Seq Scan/);
          expect(text.match(/Index (Only )?Scan using audit_patients_pkey/g)).toHaveLength(2);
        } else {
          expect(text).not.toMatch(/SCAN audit_patients/);
          expect(text.match(/SEARCH audit_patients USING PRIMARY KEY/g)).toHaveLength(2);
        }
        expect(await vault.ledger.refileClearPatients()).toBe(0);
      } finally {
        await raw.close();
      }
    });
  });
}
