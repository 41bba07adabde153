/**
 * The audit writer thread (store/ledger-append-thread.ts) on a SQLite file: audited
 * reads' records appended by it, concurrently with the vault's own write transactions
 * (which append their version commitments and records themselves), give one dense log in
 * commit order, each entry sealed under the right key and bound to its leaf; the cache of
 * current versions outlives the thread's commits but not another connection's writes;
 * closing the store settles every append it accepted; and the WAL is checkpointed only
 * past the vault's own threshold (store/wal-checkpoints.ts), not SQLite's 1,000 pages,
 * also after a bulk load. Appends made while the ring is full wait and go in order; a
 * malformed record fails its own append, not those batched with it; appends made while
 * another connection holds the write lock wait for it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase, TENANT_OWNER, type VaultDatabase } from '../../src/store/index.js';
import { chainLinkOf, decodeEntry, hashLeaf, type AuditRecord } from '../../src/ledger/index.js';
import { envelopeKeyId } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { create, rows } from './store-fixtures.js';
import { openSqlite } from '../../src/store/sqlite-database.js';
import { WAL_CHECKPOINT_PAGES, WAL_SIZE_LIMIT } from '../../src/store/wal-checkpoints.js';

const built = existsSync(fileURLToPath(new URL('../../dist/store/ledger-append-thread.js', import.meta.url)));

function read(patient: string, n: number): AuditRecord {
  return {
    type: 'rest',
    subtype: 'read',
    agent: { who: 'Practitioner/dr-a', roles: ['clinician'], address: '10.0.0.7' },
    purposeOfUse: 'TREAT',
    at: 1_800_000_000_000 + n,
    action: 'R',
    outcome: '0',
    patients: [patient],
    entities: [`Patient/${patient}/_history/1`],
  };
}

describe.skipIf(!built)('audit writer thread (SQLite file)', () => {
  let db: TestDatabase;
  let vault: VaultDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    vault = await openDatabase(db.options);
  });
  afterEach(async () => {
    await vault.close();
    await db.cleanup();
  });

  it('waits for a write lock another connection holds, and then commits every append', async () => {
    const holder = new BetterSqlite3(db.options.database);
    holder.exec('BEGIN IMMEDIATE');
    const appends = Array.from({ length: 20 }, (_, i) => vault.ledger.appendUnsynced({ audits: [read('p1', i)] }));
    let settled = 0;
    for (const a of appends) void a.then(() => settled++, () => settled++);
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(0);
    holder.exec('COMMIT');
    holder.close();
    const firsts = await Promise.all(appends);
    expect([...firsts].sort((x, y) => x - y)).toEqual(firsts.map((_, i) => i));
    expect((await vault.ledger.scanLeaves(0, 100)).length).toBe(20);
  });

  it('fails a batch at once, not request by request, when the write lock is held past the busy timeout', async () => {
    // The lock is held for 25 s. The thread takes the appends in at most two batches, each of
    // which fails after the 10 s busy timeout (by 20 s); committing each request of a failed
    // batch alone would wait 10 s per request and commit some of them once the lock is free.
    const holder = new BetterSqlite3(db.options.database);
    holder.exec('BEGIN IMMEDIATE');
    const released = new Promise<void>((resolve) =>
      setTimeout(() => {
        holder.exec('COMMIT');
        holder.close();
        resolve();
      }, 25_000),
    );
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => vault.ledger.appendUnsynced({ audits: [read('p1', i)] })));
    await released;
    expect(outcomes.map((o) => o.status)).toEqual(outcomes.map(() => 'rejected'));
  }, 60_000);

  it('appends concurrently with write transactions into one dense log, each entry sealed and bound to its leaf', async () => {
    // p1 and p2 exist (their writes create their data keys); ghost does not.
    await vault.resources.transaction((tx) => tx.writeVersions([create('Patient', 'p1', rows({})), create('Patient', 'p2', rows({}))]));
    const appends: Promise<number>[] = [];
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      appends.push(vault.ledger.appendUnsynced({ audits: [read(['p1', 'p2', 'ghost'][i % 3]!, i)] }));
      if (i % 25 === 0) writes.push(vault.resources.transaction((tx) => tx.writeVersions([create('Observation', `o${i}`, rows({}), 1_700_000_000_000, [{ compartment: 'Patient', id: 'p1' }])])));
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    const firsts = await Promise.all(appends);
    await Promise.all(writes);

    const leaves = await vault.ledger.scanLeaves(0, 10_000);
    expect(leaves.map((l) => l.idx)).toEqual(leaves.map((_, i) => i));
    expect(new Set(firsts).size).toBe(300);
    const p1Key = db.keys.activeKey('Patient/p1').id;
    const tenantKey = db.keys.activeKey(TENANT_OWNER).id;
    for (const [i, first] of firsts.entries()) {
      const leaf = leaves[first]!;
      const bytes = vault.ledger.openLeaf(leaf);
      expect(hashLeaf(bytes).equals(leaf.leafHash)).toBe(true);
      const entry = decodeEntry(bytes);
      // Each append's index is where its own record is.
      expect(entry).toMatchObject({ kind: 'audit', event: { at: 1_800_000_000_000 + i } });
      expect(leaf.keyId).toBe(envelopeKeyId(leaf.stored));
      if (i % 3 === 0) expect(leaf.keyId).toBe(p1Key);
      // A record about a patient without a key is sealed under the tenant's: it creates no key.
      if (i % 3 === 2) expect(leaf.keyId).toBe(tenantKey);
    }
    expect(db.keys.hasActiveKey('Patient/ghost')).toBe(false);
    // Sealed entries are bound to their leaf: moved to another index they do not open.
    expect(() => vault.ledger.openLeaf({ ...leaves[firsts[0]!]!, idx: firsts[1]! })).toThrow();
    // The writes' own version commitments are in the same log.
    expect(leaves.filter((l) => l.kind === 'version')).toHaveLength(2 + 12);
  });

  it('keeps the cache of current versions across its commits, and drops it for another connection’s write', async () => {
    await vault.resources.transaction((tx) => tx.writeVersions([create('Patient', 'c1', rows({}))]));
    expect((await vault.resources.readCurrent('Patient', 'c1'))?.versionId).toBe(1);
    // A change that does not pass through the store (no epoch): while only the writer thread
    // commits, the cached version is what a read gets — the cache was not emptied.
    const raw = new BetterSqlite3(db.options.database);
    try {
      raw.prepare("UPDATE resources SET version_id = 42 WHERE res_type = 'Patient' AND res_id = 'c1'").run();
      await vault.ledger.appendUnsynced({ audits: [read('c1', 1)] });
      await new Promise((r) => setImmediate(r));
      expect((await vault.resources.readCurrent('Patient', 'c1'))?.versionId).toBe(1);
      // Another connection's write through a store moves the epoch: the next read is fresh.
      const other = await openDatabase(db.options);
      try {
        await other.resources.transaction((tx) => tx.writeVersions([create('Patient', 'c2', rows({}))]));
      } finally {
        await other.close();
      }
      await new Promise((r) => setImmediate(r));
      // (The current row now names a version that does not exist.)
      expect(await vault.resources.readCurrent('Patient', 'c1')).toBeUndefined();
    } finally {
      raw.close();
    }
  });

  it('checkpoints the WAL past the vault’s threshold, not SQLite’s default 1,000 pages, on its connection and the writer’s', async () => {
    // Records about 5,000 patients: each dirties pages of its own in audit_patients and the key_id index.
    for (let b = 0; b < 100; b++) await Promise.all(Array.from({ length: 50 }, (_, i) => vault.ledger.appendUnsynced({ audits: [read(`w${b * 50 + i}`, i)] })));
    // At SQLite's default the WAL would restart after 1,000 pages (4 MiB) and stay near that size.
    const walPages = statSync(`${db.options.database}-wal`).size / 4096;
    expect(walPages).toBeGreaterThan(1_500);
    expect(walPages).toBeLessThan(WAL_CHECKPOINT_PAGES + 1_000);
    // The server's own writer connection takes the same policy.
    const h = openSqlite(db.options.database);
    try {
      expect(h.writer.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_CHECKPOINT_PAGES);
      expect(h.writer.pragma('journal_size_limit', { simple: true })).toBe(WAL_SIZE_LIMIT);
    } finally {
      await h.close();
    }
  });

  it('goes back to the vault’s checkpoint threshold on the writer after a bulk load, not to SQLite’s default', async () => {
    await vault.resources.bulkLoad(async () => {});
    // Writes through the server's writer connection, spread over many patients' compartments.
    for (let b = 0; b < 40; b++) {
      await vault.resources.transaction((tx) => tx.writeVersions(Array.from({ length: 50 }, (_, i) => create('Observation', `b${b}-${i}`, rows({}), 1_700_000_000_000, [{ compartment: 'Patient', id: `q${b * 50 + i}` }]))));
    }
    expect(statSync(`${db.options.database}-wal`).size / 4096).toBeGreaterThan(1_500);
  });

  it('holds appends back while the ring is full, and writes every one of them in order', async () => {
    // The largest record a read can make (1,000 entities of 256 characters), four to an
    // append: 60 appends are about 62 MB of requests, nearly four times what the 16 MiB ring holds.
    const big = (n: number): AuditRecord => ({ ...read('p1', n), entities: Array.from({ length: 1000 }, (_, i) => `Observation/${String(i).padStart(4, '0')}${'x'.repeat(239)}`) });
    const firsts = await Promise.all(Array.from({ length: 60 }, (_, i) => vault.ledger.appendUnsynced({ audits: [0, 1, 2, 3].map((k) => big(4 * i + k)) })));
    expect(firsts).toEqual(Array.from({ length: 60 }, (_, i) => 4 * i));
    const leaves = await vault.ledger.scanLeaves(0, 1_000);
    expect(leaves).toHaveLength(240);
    expect(decodeEntry(vault.ledger.openLeaf(leaves[239]!))).toMatchObject({ kind: 'audit', event: { at: 1_800_000_000_000 + 239 } });
  });

  it('fails only the append whose record is malformed, not the appends committed with it', async () => {
    const appends = Array.from({ length: 40 }, (_, i) => vault.ledger.appendUnsynced({ audits: [i === 17 ? ({ ...read('p3', i), action: 'X' } as unknown as AuditRecord) : read('p3', i)] }));
    const outcomes = await Promise.allSettled(appends);
    expect(outcomes.map((o) => o.status)).toEqual(outcomes.map((_, i) => (i === 17 ? 'rejected' : 'fulfilled')));
    expect((outcomes[17] as PromiseRejectedResult).reason).toMatchObject({ code: 'storage-unavailable' });
    const leaves = await vault.ledger.scanLeaves(0, 1_000);
    expect(leaves.map((l) => l.idx)).toEqual(Array.from({ length: 39 }, (_, i) => i));
    expect(leaves.map((l) => (decodeEntry(vault.ledger.openLeaf(l)) as { event: AuditRecord }).event.at - 1_800_000_000_000)).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 17));
  });

  it('links every chain exactly while another process appends about the same patients between its commits', async () => {
    // A second store on the same file is another process's connections, with its own audit
    // writer thread: each thread remembers chain heads between its commits, and must drop
    // them once the other has committed.
    const other = await openDatabase(db.options);
    try {
      const appends: Promise<number>[] = [];
      for (let i = 0; i < 200; i++) {
        const into = Math.floor(i / 3) % 2 === 0 ? vault : other;
        appends.push(into.ledger.appendUnsynced({ audits: [read(['p1', 'p2'][i % 2]!, i)] }));
        if (i % 5 === 0) await Promise.all(appends);
      }
      await Promise.all(appends);
    } finally {
      await other.close();
    }
    const leaves = await vault.ledger.scanLeaves(0, 10_000);
    expect(leaves).toHaveLength(200);
    const last = new Map<string, number>();
    for (const leaf of leaves) {
      const entry = decodeEntry(vault.ledger.openLeaf(leaf));
      const link = chainLinkOf(entry)!;
      expect(link.prev).toBe(last.get(link.patient) ?? null);
      last.set(link.patient, leaf.idx);
    }
    expect(await vault.ledger.auditIndexes({ patient: 'p1', order: 'asc', limit: 1_000 })).toHaveLength(100);
  });

  it('writes every append it accepted before the store closes, and refuses appends after', async () => {
    const appends = Array.from({ length: 200 }, (_, i) => vault.ledger.appendUnsynced({ audits: [read('p9', i)] }));
    const settled = Promise.allSettled(appends);
    await vault.close();
    expect((await settled).every((o) => o.status === 'fulfilled')).toBe(true);
    await expect(vault.ledger.appendUnsynced({ audits: [read('p9', 999)] })).rejects.toThrow(/closed/);
    vault = await openDatabase(db.options);
    expect(await vault.ledger.appendedSize()).toBe(200);
  });
});
