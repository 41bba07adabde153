/**
 * The audit ledger's tables (migration 0016) behind the LedgerStorage port
 * (ledger/ledger-storage.ts). Entries are appended inside the caller's write transaction —
 * a write's audit record and version commitments commit with the write, or not at all —
 * and given the next leaf indexes there: the vault has one writer at a time (SQLite's
 * write lock; PostgreSQL's per-vault advisory lock), so indexes are dense and in commit
 * order. The sequencer later hashes them into the tree (ledger_hashes) and signs.
 */
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { CustodiaError, type Random } from '../kernel/index.js';
import { storedHashIndex, type AuditRecord, type LedgerStorage, type StoredCheckpoint, type TreeNode } from '../ledger/index.js';
import { aadSubject, auditOwners, AUDIT_FILINGS, AUDIT_PATIENTS, blindFiling, chainHeads, CHAIN_HEAD_SQL, CLEAR_FILING, clearFiledSql, clearTailSql, encodeItems, filingMerge, LEAVES, leafRows, MERGED_THROUGH_SQL, nextIndex, patientRows, sealEntries, TAIL_HEAD_SQL, versionRef, type LedgerItems, type PatientFiling } from './ledger-rows.js';
import { bulkInsert, type BulkTable } from './bulk-insert.js';
import type { DialectSql } from './dialect-sql.js';
import type { AtRest } from './at-rest.js';
import type { LedgerAppender } from './ledger-appender.js';
import { TENANT_OWNER } from './key-store.js';
import type { DataKey } from '../crypto/index.js';
import type { DatabaseHandle } from './open-store.js';

const HASHES: BulkTable = { table: 'ledger_hashes', columns: [['n', 'int'], ['hash', 'hexblob']] };

export interface LedgerLog extends LedgerStorage {
  /** Appends audit events and version commitments in the write transaction `db`; returns the first index used. */
  append(db: Kysely<unknown>, items: LedgerItems): Promise<number>;
  /** Appends in a durable transaction of its own that changes nothing but the ledger (audited reads, erasures). */
  appendDurably(items: LedgerItems): Promise<number>;
  /**
   * The same, committed but not necessarily durable yet (SQLite defers the fsync; on
   * PostgreSQL it is durable already); {@link flushAppends} makes every such append so.
   * Whoever answers a request on it must wait for the flush.
   */
  appendUnsynced(items: LedgerItems): Promise<number>;
  flushAppends(): Promise<void>;
  /** The entry at `idx` as committed (opened when sealed): `resource-erased` when its key was destroyed. */
  entry(idx: number): Promise<{ readonly leafHash: Buffer; readonly bytes: Buffer } | undefined>;
  /** For `custodia ledger verify`: up to `limit` leaves from `from` on, in index order, as stored. */
  scanLeaves(from: number, limit: number): Promise<StoredLeaf[]>;
  /**
   * Indexes of audit entries (AuditEvent search, `$access-log`): every audit entry, or those
   * `audit_patients` files under one patient, within the bounds, in index order.
   */
  auditIndexes(query: AuditIndexQuery): Promise<number[]>;
  /**
   * In a sealed vault, files under their blind name (ledger-rows.ts PatientFiling) the
   * `audit_patients` rows still filed under a clear patient id (written before blind
   * filing); how many patients were re-filed. Run as the vault opens, before it appends.
   */
  refileClearPatients(): Promise<number>;
  /** The stored leaves at these indexes (those that exist), in index order. */
  leavesAt(indexes: readonly number[]): Promise<StoredLeaf[]>;
  /** Opens a leaf's stored entry bytes (sealed ones through the key store; `resource-erased` once its key is gone). */
  openLeaf(leaf: StoredLeaf): Buffer;
  /** Up to `limit` stored tree hashes from stored-hash number `from` on, in order. */
  scanHashes(from: number, limit: number): Promise<{ readonly n: number; readonly hash: Buffer }[]>;
  /** Every stored checkpoint, smallest size first. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  /** Up to `limit` resource versions after `afterSeq`, in seq order, with their stored bytes. */
  scanVersions(afterSeq: number, limit: number): Promise<StoredVersionRow[]>;
  /**
   * Data-key rotation: re-seals up to `limit` entries sealed by `keyIds` under their
   * owner's current key (same AAD; the leaf hash, over the plaintext, is untouched).
   * Returns how many moved and which of the keys still seal an entry.
   */
  resealSealedBy(keyIds: readonly string[], limit: number): Promise<LedgerResealProgress>;
  /**
   * Whether this process may run the sequencer: on PostgreSQL one server of those sharing
   * the database holds a session advisory lock (taken here when free); on SQLite, always.
   */
  holdsSequencerLease(): Promise<boolean>;
}

/** Which audit entries to list; every bound is optional and they all hold together. */
export interface AuditIndexQuery {
  /** Only entries filed under this patient in `audit_patients`; otherwise every audit entry. */
  readonly patient?: string;
  /** Only these indexes. */
  readonly indexes?: readonly number[];
  /** Exclusive index bounds (paging). */
  readonly below?: number;
  readonly above?: number;
  /** Inclusive bounds on when the entry was appended (epoch ms; the append time is never before the record's own `at`). */
  readonly appendedFrom?: number;
  readonly appendedTo?: number;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
}

export interface LedgerResealProgress {
  readonly resealed: number;
  /** The keys (of those asked about) that still seal an entry, and how many entries they seal. */
  readonly stillSealing: ReadonlySet<string>;
  readonly remaining: number;
}

/** A ledger row as stored (attacker-reachable: `custodia ledger verify` checks everything in it). */
export interface StoredLeaf {
  readonly idx: number;
  readonly leafHash: Buffer;
  readonly kind: string;
  readonly stored: Buffer;
  readonly keyId: string | null;
  readonly ref: string | null;
}

export interface StoredVersionRow {
  readonly seq: number;
  readonly ref: string;
  readonly deleted: boolean;
  readonly content: Buffer | null;
  readonly keyId: string | null;
}

/** SQLite's synchronous write path (sqlite-fast-path.ts), when the store has one. */
export interface SyncLedgerWrites {
  /** Rows inserted with prepared statements in the write transaction open on the writer. */
  insert(spec: BulkTable, rows: readonly (readonly unknown[])[]): void;
  /**
   * Runs `fn` as a transaction of its own on the writer, synchronously (BEGIN IMMEDIATE …
   * COMMIT), once no other transaction holds it; for ledger-only appends. The commit is not
   * yet durable: {@link flush} makes it so.
   */
  transaction<T>(fn: (query: (sqlText: string, params?: readonly unknown[]) => unknown) => T): Promise<T>;
  /** Resolves once every commit made so far is on stable storage. */
  flush(): Promise<void>;
}

/**
 * `sync`: SQLite's prepared-statement path (the audit of every read goes through it); on
 * PostgreSQL a batch is inserted as one JSON parameter.
 */
export function ledgerLog(
  handle: Pick<DatabaseHandle, 'read' | 'transaction'>,
  d: DialectSql,
  at: AtRest,
  random: Random,
  now: () => number,
  paths: {
    /** SQLite: the writer connection's synchronous path (appends inside a write, and in-process audit batches). */
    readonly sync?: SyncLedgerWrites | undefined;
    /** SQLite files: the audit writer thread, which takes the batches of audit records. */
    readonly appender?: LedgerAppender | undefined;
    /** PostgreSQL: the sequencer lease. */
    readonly lease?: (() => Promise<boolean>) | undefined;
  } = {},
): LedgerLog {
  const { sync, appender } = paths;
  const lease = paths.lease ?? (async () => true);
  /** Whether the writer connection committed an append that is not yet flushed (flushAppends). */
  let unflushed = false;
  /**
   * Data-key rotation's pass over the ledger (resealSealedBy): which keys it re-seals, the
   * index it has read up to, how many entries those keys sealed as it started (counted once
   * it outlasts a batch), and how many it has moved since: its progress, without a count of
   * the whole table per batch. Keys
   * drop out of the rotation as they are emptied and the pass goes on for the rest; a key it
   * did not start with starts a new pass.
   */
  let resealPass: { readonly keys: ReadonlySet<string>; after: number; atStart: number | undefined; moved: number } | undefined;
  const resealPassFor = (keyIds: readonly string[]): NonNullable<typeof resealPass> => {
    if (resealPass === undefined || !keyIds.every((k) => resealPass!.keys.has(k))) resealPass = { keys: new Set(keyIds), after: -1, atStart: undefined, moved: 0 };
    return resealPass;
  };
  const restartPass = (pass: NonNullable<typeof resealPass>): void => {
    pass.after = -1;
    pass.atStart = undefined;
    pass.moved = 0;
  };
  /** The data keys the writer thread may seal `audits` with: each patient's live key, and the tenant's. */
  const handedKeys = (audits: readonly AuditRecord[]): [string, DataKey][] | null => {
    const keys = at.keys;
    if (!at.sealed || keys === undefined) return null;
    const owners = new Set([TENANT_OWNER]);
    for (const r of audits) for (const owner of auditOwners(r)) if (at.hasLiveKey(owner)) owners.add(owner);
    return [...owners].map((o) => [o, keys.activeKey(o)]);
  };
  /** The key patients are filed blind under in `audit_patients` (ledger-rows.ts; made on first use); null in a clear vault. The writer thread is handed it. */
  const filingKey = (): Buffer | null => (at.sealed && at.keys !== undefined ? at.keys.indexKey() : null);
  /** How patients are named in `audit_patients`: blind under {@link filingKey}, or by id in a clear vault. */
  let filing: PatientFiling | undefined;
  const fileOf = (): PatientFiling => {
    if (filing === undefined) {
      const key = filingKey();
      filing = key === null ? CLEAR_FILING : blindFiling(key);
    }
    return filing;
  };
  const read = handle.read;
  /**
   * SQLite files patients in the tail first (migration 0024: it logs whole pages, and a
   * row per read spread over patients cost a page per read). PostgreSQL logs a whole page
   * only at its first change after a checkpoint and the changed row after that: it files
   * straight into audit_patients, and its tail stays empty.
   */
  const tailed = d.name === 'sqlite';
  const insert = async (db: Kysely<unknown>, spec: BulkTable, rows: unknown[][], blobs: readonly number[]): Promise<void> => {
    if (rows.length === 0) return;
    if (sync !== undefined) return sync.insert(spec, rows);
    // The JSON path takes BLOBs as hex.
    await bulkInsert(db, d, spec, rows.map((r) => r.map((v, i) => (blobs.includes(i) && Buffer.isBuffer(v) ? v.toString('hex') : v))));
  };
  return {
    async append(db, items) {
      const next = nextIndex((await sql<{ n: number | string | null }>`SELECT MAX(idx) AS n FROM ledger_leaves`.execute(db)).rows[0]?.n);
      const t = now();
      const patients = [...new Set((items.audits ?? []).flatMap((r) => r.patients))];
      const heads = new Map<string, number>();
      const file = fileOf();
      if (patients.length > 0) {
        const byName = new Map(patients.map((p) => [file(p), p]));
        // A name's newest row is in the tail when it has one there (migration 0024); else in audit_patients.
        const newest = async (table: string, names: readonly string[]): Promise<void> => {
          if (names.length === 0) return;
          const found = await sql<{ patient: string; n: number | string }>`SELECT patient, MAX(idx) AS n FROM ${sql.table(table)} WHERE ${d.inTexts('patient', names)} GROUP BY patient`.execute(db);
          for (const r of found.rows) {
            const p = byName.get(r.patient);
            if (p !== undefined) heads.set(p, Number(r.n));
          }
        };
        if (tailed) await newest(AUDIT_FILINGS.table, [...byName.keys()]);
        await newest(AUDIT_PATIENTS.table, [...byName].filter(([, p]) => !heads.has(p)).map(([name]) => name));
      }
      const rows = sealEntries(at, encodeItems(random, items, t, next, () => heads), next);
      if (rows.length === 0) return next;
      await insert(db, LEAVES, leafRows(rows, next, t), [1, 3]);
      await insert(db, tailed ? AUDIT_FILINGS : AUDIT_PATIENTS, patientRows(rows, next, t, file), []);
      if (tailed) {
        const last = next + rows.length - 1;
        const through = Number((await sql.raw<{ through: number | string }>(MERGED_THROUGH_SQL).execute(db)).rows[0]?.through ?? -1);
        for (const [q, params] of filingMerge(through, last)) await db.executeQuery(CompiledQuery.raw(q, [...params]));
      }
      return next;
    },

    async appendDurably(items) {
      const next = await this.appendUnsynced(items);
      await this.flushAppends();
      return next;
    },

    appendUnsynced(items) {
      // Audit records alone (every audited read): the writer thread, which answers once they are durable.
      if (appender !== undefined && items.audits !== undefined && items.versions === undefined && items.reseals === undefined && items.erasures === undefined) {
        return appender.append(items.audits, handedKeys(items.audits), filingKey(), now());
      }
      if (sync === undefined) return handle.transaction((db) => this.append(db, items), { ledgerOnly: true });
      // SQLite: one synchronous transaction, no async driver round trips (one per audited read batch).
      unflushed = true;
      return sync.transaction((query) => {
        const next = nextIndex(query('SELECT MAX(idx) FROM ledger_leaves'));
        const t = now();
        const file = fileOf();
        const headOf = (name: string): unknown => query(TAIL_HEAD_SQL, [name]) ?? query(CHAIN_HEAD_SQL, [name]);
        const rows = sealEntries(at, encodeItems(random, items, t, next, (patients) => chainHeads(patients, file, headOf)), next);
        if (rows.length > 0) {
          sync.insert(LEAVES, leafRows(rows, next, t));
          sync.insert(AUDIT_FILINGS, patientRows(rows, next, t, file));
          const last = next + rows.length - 1;
          for (const [q, params] of filingMerge(Number(query(MERGED_THROUGH_SQL)), last)) query(q, params);
        }
        return next;
      });
    },

    async entry(idx) {
      const row = (await sql<{ leaf_hash: Buffer; entry: Buffer; key_id: string | null }>`SELECT leaf_hash, entry, key_id FROM ledger_leaves WHERE idx = ${idx}`.execute(read)).rows[0];
      if (row === undefined) return undefined;
      const bytes = row.key_id === null ? Buffer.from(row.entry) : at.openSecret('ledger', aadSubject(idx), row.entry);
      return { leafHash: Buffer.from(row.leaf_hash), bytes };
    },

    async scanLeaves(from, limit) {
      const rows = (
        await sql<{ idx: number | string; leaf_hash: Buffer; kind: string; entry: Buffer; key_id: string | null; ref: string | null }>`
          SELECT idx, leaf_hash, kind, entry, key_id, ref FROM ledger_leaves WHERE idx >= ${from} ORDER BY idx LIMIT ${limit}`.execute(read)
      ).rows;
      return rows.map((r) => ({ idx: Number(r.idx), leafHash: Buffer.from(r.leaf_hash), kind: r.kind, stored: Buffer.from(r.entry), keyId: r.key_id, ref: r.ref }));
    },

    async auditIndexes(q) {
      const byPatient = q.patient !== undefined;
      const where = [byPatient ? sql`patient = ${fileOf()(q.patient!)}` : sql`kind = 'audit'`];
      if (q.indexes !== undefined) where.push(d.inKeys('idx', q.indexes));
      if (q.below !== undefined) where.push(sql`idx < ${q.below}`);
      if (q.above !== undefined) where.push(sql`idx > ${q.above}`);
      if (q.appendedFrom !== undefined) where.push(sql`at >= ${q.appendedFrom}`);
      if (q.appendedTo !== undefined) where.push(sql`at <= ${q.appendedTo}`);
      const order = sql.raw(q.order === 'asc' ? 'ASC' : 'DESC');
      const first = (table: string) => sql<{ idx: number | string }>`SELECT idx FROM ${sql.table(table)} WHERE ${sql.join(where, sql` AND `)} ORDER BY idx ${order} LIMIT ${q.limit}`;
      // A patient's entries are in audit_patients and in the tail (migration 0024): the first of each, in index order, then the first of both.
      const query = byPatient
        ? sql<{ idx: number | string }>`SELECT idx FROM (${first(AUDIT_PATIENTS.table)}) AS merged UNION ALL SELECT idx FROM (${first(AUDIT_FILINGS.table)}) AS tail ORDER BY idx ${order} LIMIT ${q.limit}`
        : first(LEAVES.table);
      const rows = (await query.execute(read)).rows;
      return rows.map((r) => Number(r.idx));
    },

    async leavesAt(indexes) {
      if (indexes.length === 0) return [];
      const rows = (
        await sql<{ idx: number | string; leaf_hash: Buffer; kind: string; entry: Buffer; key_id: string | null; ref: string | null }>`
          SELECT idx, leaf_hash, kind, entry, key_id, ref FROM ledger_leaves WHERE ${d.inKeys('idx', indexes)} ORDER BY idx`.execute(read)
      ).rows;
      return rows.map((r) => ({ idx: Number(r.idx), leafHash: Buffer.from(r.leaf_hash), kind: r.kind, stored: Buffer.from(r.entry), keyId: r.key_id, ref: r.ref }));
    },

    openLeaf(leaf) {
      return leaf.keyId === null ? leaf.stored : at.openSecret('ledger', aadSubject(leaf.idx), leaf.stored);
    },

    async scanHashes(from, limit) {
      const rows = (await sql<{ n: number | string; hash: Buffer }>`SELECT n, hash FROM ledger_hashes WHERE n >= ${from} ORDER BY n LIMIT ${limit}`.execute(read)).rows;
      return rows.map((r) => ({ n: Number(r.n), hash: Buffer.from(r.hash) }));
    },

    async checkpoints() {
      const rows = (await sql<{ size: number | string; note: string; at: number | string }>`SELECT size, note, at FROM ledger_checkpoints ORDER BY size`.execute(read)).rows;
      return rows.map((r) => ({ size: Number(r.size), note: r.note, at: Number(r.at) }));
    },

    async scanVersions(afterSeq, limit) {
      const rows = (
        await sql<{ seq: number | string; res_type: string; res_id: string; version_id: number | string; deleted: number | string; content: Buffer | null; key_id: string | null }>`
          SELECT seq, res_type, res_id, version_id, deleted, content, key_id FROM resource_versions WHERE seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`.execute(read)
      ).rows;
      return rows.map((r) => ({
        seq: Number(r.seq),
        ref: versionRef(r.res_type, r.res_id, Number(r.version_id)),
        deleted: Number(r.deleted) === 1,
        content: r.content === null ? null : Buffer.from(r.content),
        keyId: r.key_id,
      }));
    },

    async refileClearPatients() {
      const file = fileOf();
      if (file === CLEAR_FILING) return 0;
      return handle.transaction(
        async (db) => {
          // Two seeks on the primary key, on either database; the tail (migration 0024) is short.
          const clear = new Set((await sql.raw<{ patient: string }>(clearFiledSql(d.name)).execute(db)).rows.map((r) => r.patient));
          for (const r of (await sql.raw<{ patient: string }>(clearTailSql(d.name)).execute(db)).rows) clear.add(r.patient);
          for (const patient of clear) {
            await sql`UPDATE audit_patients SET patient = ${file(patient)} WHERE patient = ${patient}`.execute(db);
            await sql`UPDATE audit_filings SET patient = ${file(patient)} WHERE patient = ${patient}`.execute(db);
          }
          return clear.size;
        },
        { ledgerOnly: true },
      );
    },

    async resealSealedBy(keyIds, limit) {
      if (keyIds.length === 0) return { resealed: 0, stillSealing: new Set<string>(), remaining: 0 };
      // No index on key_id (migration 0023): one pass in index order, resumed where the last batch stopped.
      const pass = resealPassFor(keyIds);
      const counted = async (): Promise<Map<string, number>> =>
        new Map(
          (await sql<{ key_id: string; n: number | string }>`SELECT key_id, COUNT(*) AS n FROM ledger_leaves WHERE ${d.inTexts('key_id', keyIds)} GROUP BY key_id`.execute(read)).rows.map((r) => [r.key_id, Number(r.n)]),
        );
      const batch = async (after: number) =>
        (await sql<{ idx: number | string; entry: Buffer; key_id: string }>`
          SELECT idx, entry, key_id FROM ledger_leaves WHERE idx > ${after} AND ${d.inTexts('key_id', keyIds)} ORDER BY idx LIMIT ${limit}`.execute(read)).rows;
      let rows = await batch(pass.after);
      // The last pass ended at the last batch: what is left (behind it) is for a new one, started now.
      if (rows.length === 0 && pass.after >= 0) {
        restartPass(pass);
        rows = await batch(-1);
      }
      const moves: { idx: number; from: string; content: Buffer; keyId: string }[] = [];
      for (const r of rows) {
        const idx = Number(r.idx);
        pass.after = idx;
        const owner = at.keys?.ownerOf(r.key_id);
        if (owner === undefined) continue;
        try {
          const bytes = at.openSecret('ledger', aadSubject(idx), r.entry);
          const sealed = at.sealFor(owner, 'ledger', aadSubject(idx), bytes);
          if (sealed.content !== null && sealed.keyId !== null) moves.push({ idx, from: r.key_id, content: sealed.content, keyId: sealed.keyId });
        } catch (e) {
          // Its patient was erased meanwhile: the entry stays unreadable, as it should.
          if (!(e instanceof CustodiaError && e.code === 'resource-erased')) throw e;
        }
      }
      let resealed = 0;
      if (moves.length > 0) {
        resealed = await handle.transaction(async (db) => {
          let n = 0;
          for (const m of moves) n += Number((await sql`UPDATE ledger_leaves SET entry = ${m.content}, key_id = ${m.keyId} WHERE idx = ${m.idx} AND key_id = ${m.from}`.execute(db)).numAffectedRows ?? 0);
          return n;
        }, { ledgerOnly: true });
      }
      pass.moved += resealed;
      // At the end of a pass, counted again: exact. Within one the progress is what moved since
      // it started, and an entry sealed meanwhile may not be in it, so no key is said to be done
      // (the caller would drop it) and `remaining` is never 0 before the pass has ended.
      if (rows.length < limit) {
        restartPass(pass);
        const left = [...(await counted())].filter(([, n]) => n > 0);
        return { resealed, stillSealing: new Set(left.map(([k]) => k)), remaining: left.reduce((n, [, c]) => n + c, 0) };
      }
      // Counted once a pass outlasts its first batch: what is left now and what moved so far.
      pass.atStart ??= [...(await counted()).values()].reduce((a, b) => a + b, 0) + pass.moved;
      return { resealed, stillSealing: new Set(keyIds), remaining: Math.max(1, pass.atStart - pass.moved) };
    },

    flushAppends: async () => {
      if (!unflushed) return;
      unflushed = false;
      await sync?.flush();
    },

    holdsSequencerLease: () => lease(),

    async appendedSize() {
      return Number((await sql<{ n: number | string | null }>`SELECT MAX(idx) AS n FROM ledger_leaves`.execute(read)).rows[0]?.n ?? -1) + 1;
    },

    async leafHashes(from, to) {
      const rows = (await sql<{ leaf_hash: Buffer }>`SELECT leaf_hash FROM ledger_leaves WHERE idx >= ${from} AND idx < ${to} ORDER BY idx`.execute(read)).rows;
      if (rows.length !== to - from) throw new CustodiaError('ledger-invalid', `Ledger leaves ${from}–${to - 1} are not all stored`);
      return rows.map((r) => Buffer.from(r.leaf_hash));
    },

    async readHashes(nodes: readonly TreeNode[]) {
      if (nodes.length === 0) return [];
      const ns = nodes.map((n) => storedHashIndex(n));
      const rows = (await sql<{ n: number | string; hash: Buffer }>`SELECT n, hash FROM ledger_hashes WHERE ${d.inKeys('n', ns)}`.execute(read)).rows;
      const byN = new Map(rows.map((r) => [Number(r.n), Buffer.from(r.hash)]));
      return ns.map((n) => {
        const h = byN.get(n);
        if (h === undefined) throw new CustodiaError('ledger-invalid', 'A tree hash the proof needs is not stored (the tree is not integrated that far)');
        return h;
      });
    },

    async latestCheckpoint() {
      const row = (await sql<{ size: number | string; note: string; at: number | string }>`SELECT size, note, at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`.execute(read)).rows[0];
      return row === undefined ? undefined : { size: Number(row.size), note: row.note, at: Number(row.at) };
    },

    async checkpointAt(size) {
      const row = (await sql<{ size: number | string; note: string; at: number | string }>`SELECT size, note, at FROM ledger_checkpoints WHERE size = ${size}`.execute(read)).rows[0];
      return row === undefined ? undefined : { size: Number(row.size), note: row.note, at: Number(row.at) };
    },

    integrate: (firstStored, hashes, checkpoint: StoredCheckpoint, fromSize) =>
      handle.transaction(async (db) => {
      const latest = Number((await sql<{ s: number | string | null }>`SELECT MAX(size) AS s FROM ledger_checkpoints`.execute(db)).rows[0]?.s ?? 0);
      // Another sequencer (another server on the same database) got there first.
      if (latest !== fromSize) return false;
      await insert(db, HASHES, hashes.map((h, i) => [firstStored + i, h]), [1]);
      await sql`INSERT INTO ledger_checkpoints (size, note, at) VALUES (${checkpoint.size}, ${checkpoint.note}, ${checkpoint.at})`.execute(db);
      return true;
      }, { ledgerOnly: true }),
  };
}
