/**
 * SQLite's hot paths, on better-sqlite3 prepared statements directly. better-sqlite3 is
 * synchronous, so a statement costs microseconds when it is not wrapped in kysely's
 * async connection handling; bulk import and reads by id spend their time here.
 * Semantics are those of `write-versions.ts` and `read-queries.ts` exactly: the store
 * suite runs the same expectations against both paths (SQLite here, PostgreSQL there).
 *
 * The write path runs on the write connection inside the transaction the adapter
 * opened with BEGIN IMMEDIATE, so it commits or rolls back with everything else.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { CustodiaError } from '../kernel/index.js';
import { isVisible, needsTokens, SEE_ALL, type StoredVersion, type VersionWrite, type Visibility, type VisibilityFacts } from '../fhir/index.js';
import { toStoredVersion, VERSION_COLUMNS, type VersionRow } from './read-queries.js';
import type { AtRest } from './at-rest.js';
import { INDEX_KINDS, indexRowValues, type IndexKind } from './index-row-values.js';
import { BULK_TABLES } from './bulk-insert.js';
import { INDEX_TABLES, VISIBILITY_FACT_ROWS } from './schema.js';
import { assertDistinctTargets } from './write-versions.js';
import { storedDigest, type StoredDigest } from './stored-digest.js';
import { preparedInserts, ROWS_PER_INSERT, type InsertRows } from './prepared-inserts.js';
import { AUDIT_FILINGS, AUDIT_PATIENTS, LEAVES } from './ledger-rows.js';

interface WriteStatements {
  readonly insertResource: BetterSqlite3.Statement;
  readonly moveCurrent: BetterSqlite3.Statement;
  readonly insertVersion: BetterSqlite3.Statement;
  /** Every index row of a resource (a new live version replaces them all). */
  readonly deleteIndex: readonly BetterSqlite3.Statement[];
  /** Every index row but the visibility facts (a deletion keeps those; see write-versions.ts). */
  readonly deleteSearchRows: readonly BetterSqlite3.Statement[];
  readonly insertCompartment: BetterSqlite3.Statement;
  readonly insertIndex: Readonly<Record<IndexKind, BetterSqlite3.Statement>>;
  /** The same, {@link ROWS_PER_INSERT} rows per statement: one call into SQLite instead of 32. */
  readonly insertIndexMany: Readonly<Record<IndexKind, BetterSqlite3.Statement>>;
}


function prepareWrites(db: BetterSqlite3.Database): WriteStatements {
  const insertIndex = {} as Record<IndexKind, BetterSqlite3.Statement>;
  const insertIndexMany = {} as Record<IndexKind, BetterSqlite3.Statement>;
  for (const kind of INDEX_KINDS) {
    const spec = BULK_TABLES[kind];
    const head = `INSERT INTO ${spec.table} (${spec.columns.map(([n]) => n).join(', ')}) VALUES `;
    const row = `(${spec.columns.map(() => '?').join(', ')})`;
    insertIndex[kind] = db.prepare(head + row);
    insertIndexMany[kind] = db.prepare(head + Array.from({ length: ROWS_PER_INSERT }, () => row).join(', '));
  }
  return {
    insertResource: db.prepare('INSERT INTO resources (res_type, res_id, version_id, last_updated, deleted) VALUES (?, ?, ?, ?, ?) RETURNING pk'),
    moveCurrent: db.prepare('UPDATE resources SET version_id = ?, last_updated = ?, deleted = ? WHERE res_type = ? AND res_id = ? AND version_id = ? RETURNING pk'),
    insertVersion: db.prepare(
      'INSERT INTO resource_versions (res_pk, res_type, res_id, version_id, last_updated, deleted, method, content, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteIndex: [...Object.values(INDEX_TABLES), 'sp_compartment'].map((t) => db.prepare(`DELETE FROM ${t} WHERE res_pk = ?`)),
    deleteSearchRows: Object.values(INDEX_TABLES).map((t) =>
      t === VISIBILITY_FACT_ROWS.labels.table
        ? db.prepare(`DELETE FROM ${t} WHERE res_pk = ? AND param <> '${VISIBILITY_FACT_ROWS.labels.param}'`)
        : db.prepare(`DELETE FROM ${t} WHERE res_pk = ?`),
    ),
    insertCompartment: db.prepare('INSERT INTO sp_compartment (res_pk, res_type, compartment, comp_id) VALUES (?, ?, ?, ?)'),
    insertIndex,
    insertIndexMany,
  };
}

/** Collects a batch's index rows per table and inserts them {@link ROWS_PER_INSERT} at a time. */
class IndexRowBuffer {
  readonly #pending = new Map<IndexKind, unknown[]>();
  readonly #rows = new Map<IndexKind, number>();
  constructor(private readonly s: WriteStatements) {}

  add(kind: IndexKind, values: readonly unknown[]): void {
    let flat = this.#pending.get(kind);
    if (flat === undefined) this.#pending.set(kind, (flat = []));
    for (const v of values) flat.push(v);
    const n = (this.#rows.get(kind) ?? 0) + 1;
    if (n < ROWS_PER_INSERT) {
      this.#rows.set(kind, n);
      return;
    }
    this.s.insertIndexMany[kind].run(...flat);
    flat.length = 0;
    this.#rows.set(kind, 0);
  }

  flush(): void {
    for (const [kind, flat] of this.#pending) {
      const n = this.#rows.get(kind) ?? 0;
      if (n === 0) continue;
      const width = flat.length / n;
      for (let i = 0; i < flat.length; i += width) this.s.insertIndex[kind].run(...flat.slice(i, i + width));
      flat.length = 0;
      this.#rows.set(kind, 0);
    }
  }
}

export interface SqliteFastPath {
  /** Appends the versions; returns the SHA-256 of each as stored (the ledger commits to it). */
  writeVersions(writes: readonly VersionWrite[]): StoredDigest[];
  /** The current version if it exists and `visibility` allows it (same rule as the SQL of read-queries.ts). */
  readCurrent(type: string, id: string, visibility?: Visibility): StoredVersion | undefined;
  /** ResourceStore.changeMarker. */
  changeMarker(type: string): string;
  /**
   * `compute()`'s result, remembered until the database next changes (any commit, by any
   * connection). For small per-request lookups whose answer only a commit can change.
   */
  memo<T>(key: string, compute: () => T): T;
  /** Call right after BEGIN of every write transaction on the writer: starts counting its changes (see {@link committed}). */
  began(): void;
  /**
   * Call after every commit by this process: `touchedData` when it may have changed resource
   * data (anything but an audit-ledger append). The per-request lookups are forgotten; of
   * the current versions, only those the transaction wrote, if every row it changed was
   * changed by `writeVersions`, a ledger insert or the epoch bump, else all of them.
   */
  committed(touchedData: boolean): void;
  /** In a write transaction that may change data (anything but an audit-ledger append), before COMMIT: other processes' caches must drop what they hold. */
  bumpEpoch(): void;
  /** A read on the read connection, synchronously; statements are cached by SQL text (a small fixed set). */
  readNow(sqlText: string, params: readonly unknown[]): unknown[];
  /**
   * Inserts rows into `spec`'s table on the write connection, inside the transaction the
   * adapter has open there, {@link ROWS_PER_INSERT} rows per statement. Values as SQLite
   * takes them (Buffers for BLOBs, not hex).
   */
  readonly insertRows: InsertRows;
  /**
   * The first column of the first row of a query (a fixed text, bound parameters), on the
   * write connection (inside its transaction); for a statement that returns no rows, the
   * rows it changed. Only the ledger's own statements come here (ledger-log.ts), so their
   * changes are accounted as ledger rows.
   */
  writerValue(sqlText: string, params?: readonly unknown[]): unknown;
}

/** A current version with what its visibility depends on (loaded the first time a caller needs it). */
interface CachedCurrent {
  /** The row as stored; opened (decrypted) only once visibility allows it, so an erased record the caller may not see stays a 404. */
  readonly row: VersionRow;
  readonly pk: number;
  version?: StoredVersion;
  facts?: VisibilityFacts;
  /** `facts` with the token rows, for predicates that test them (SMART scope restrictions). */
  factsWithTokens?: VisibilityFacts;
}

/**
 * Current versions recently read, valid while the data has not changed. Any commit by
 * another connection moves `PRAGMA data_version` on this one; the store epoch (migration
 * 0018), which every commit that may change data increments, then tells whether it was
 * one that did (another process's write) or an audit-ledger append (the audit writer
 * thread's, one per batch of audited reads), which leaves the cache valid. A stale entry
 * is never served. Bounded by the bytes of JSON it holds.
 */
class CurrentVersionCache {
  readonly #entries = new Map<string, CachedCurrent>();
  /** Per-type change markers, under the same validity rule. */
  readonly markers = new Map<string, string>();
  /** Results of other per-request reads (SqliteFastPath.memo), under the same validity rule. */
  readonly memo = new Map<string, unknown>();
  #bytes = 0;
  #dataVersion = -1;
  #epoch = -1;
  constructor(
    private readonly dataVersion: BetterSqlite3.Statement,
    private readonly epoch: BetterSqlite3.Statement,
    private readonly maxBytes: number,
  ) {}

  /** Whether data_version was read in this turn of the event loop (and nothing was written since). */
  #checkedThisTurn = false;

  /** This process committed a change to resource data: everything cached may be stale. */
  clear(): void {
    this.#entries.clear();
    this.markers.clear();
    this.memo.clear();
    this.#bytes = 0;
  }

  /**
   * This process committed a change it cannot account for: everything goes, and the next
   * check reads the epoch afresh (this process's own commits do not move data_version, so
   * without that the epoch this cache holds would stay behind the store's).
   */
  forgetAll(): void {
    this.clear();
    this.#dataVersion = -1;
  }

  /**
   * This process committed a transaction whose only changes to resource data were the
   * current versions of `refs` (`Type/id`), moving the store epoch from `epochBefore` to
   * `epochAfter`: those entries, the change markers and the per-request lookups go; every
   * other current version is as it was, and the new epoch is this cache's own. Unless the
   * epoch had moved before the transaction began since this cache last checked it (another
   * process changed data meanwhile): then everything goes.
   */
  forget(refs: Iterable<string>, epochBefore: number, epochAfter: number): void {
    if (epochBefore !== this.#epoch) {
      this.forgetAll();
      return;
    }
    this.#epoch = epochAfter;
    for (const ref of refs) {
      const e = this.#entries.get(ref);
      if (e === undefined) continue;
      this.#entries.delete(ref);
      this.#bytes -= e.row.content?.byteLength ?? 0;
    }
    this.markers.clear();
    this.memo.clear();
  }

  /**
   * Empties the cache if the database changed since data_version was last read. It is
   * read at most once per turn of the event loop: another process's commit that lands
   * later in the same turn is concurrent with every request being served in it, so
   * answering from the state at the check is still a state the request could have seen
   * (the check is the read's linearization point). `data_version` is read on the write
   * connection, where it changes only for other connections' commits (other processes,
   * the audit writer thread): this process's own commits that change data call clear().
   */
  validate(): void {
    if (this.#checkedThisTurn) return;
    this.#checkedThisTurn = true;
    setImmediate(() => (this.#checkedThisTurn = false));
    const v = Number(this.dataVersion.get());
    if (v === this.#dataVersion) return;
    this.#dataVersion = v;
    const e = Number(this.epoch.get());
    if (e !== this.#epoch) {
      this.clear();
      this.#epoch = e;
    }
  }

  get(key: string): CachedCurrent | undefined {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, e: CachedCurrent): void {
    const size = e.row.content?.byteLength ?? 0;
    if (size > this.maxBytes / 16) return;
    this.#entries.set(key, e);
    this.#bytes += size;
    for (const [k, old] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= old.row.content?.byteLength ?? 0;
    }
  }
}

const CACHE_BYTES = 32 * 1024 * 1024;

export function sqliteFastPath(writer: BetterSqlite3.Database, reader: BetterSqlite3.Database, at: AtRest): SqliteFastPath {
  let w: WriteStatements | undefined;
  const cache = new CurrentVersionCache(writer.prepare('PRAGMA data_version').pluck(), writer.prepare('SELECT n FROM store_epoch').pluck(), CACHE_BYTES);
  const bumpEpoch = writer.prepare('UPDATE store_epoch SET n = n + 1 RETURNING n').pluck();
  /**
   * What the write transaction open on the writer has changed, for {@link SqliteFastPath.committed}:
   * the connection's change count as it began, the changes made by the operations this file
   * can account for (versions written, ledger rows, the epoch), and the resources written.
   * SQLite counts every row any INSERT, UPDATE or DELETE changes (triggers included), so a
   * change by anything else (an erasure's UPDATE, a consent or key table) leaves the
   * transaction's count above the accounted one, and the whole cache goes, as before.
   */
  const totalChanges = writer.prepare('SELECT total_changes()').pluck();
  const changesNow = (): number => Number(totalChanges.get());
  let open: { readonly start: number; accounted: number; readonly wrote: Set<string>; epochBefore?: number; epochAfter?: number } | undefined;
  const accounted = <T>(fn: () => T): T => {
    const before = open === undefined ? 0 : changesNow();
    const result = fn();
    if (open !== undefined) open.accounted += changesNow() - before;
    return result;
  };
  const inserts = preparedInserts(writer);
  const read = reader.prepare(
    `SELECT r.pk, ${VERSION_COLUMNS}
     FROM resources r JOIN resource_versions v ON v.res_pk = r.pk AND v.version_id = r.version_id
     WHERE r.res_type = ? AND r.res_id = ?`,
  );
  // The rows visibility-sql.ts looks at: the resource's compartments and `_security` labels.
  const compartmentsOf = reader.prepare('SELECT compartment, comp_id AS id FROM sp_compartment WHERE res_pk = ?');
  const labelsOf = reader.prepare("SELECT system, code FROM sp_token WHERE res_pk = ? AND param = '_security'");
  const tokensOf = reader.prepare('SELECT param, system, code FROM sp_token WHERE res_pk = ?');
  // Versions are append-only and seq only grows: the newest seq of a type marks its last change.
  const newestSeq = reader.prepare('SELECT MAX(seq) FROM resource_versions WHERE res_type = ?').pluck();
  const statements = new Map<string, BetterSqlite3.Statement>();
  const writerValues = new Map<string, BetterSqlite3.Statement>();
  const factsOf = (e: CachedCurrent): VisibilityFacts => ({
    type: e.row.res_type,
    id: e.row.res_id,
    compartments: compartmentsOf.all(e.pk) as { compartment: string; id: string }[],
    labels: labelsOf.all(e.pk) as { system: string | null; code: string | null }[],
  });
  const writeVersions = (writes: readonly VersionWrite[]): StoredDigest[] => {
    for (const v of writes) open?.wrote.add(`${v.type}/${v.id}`);
    return accounted(() => writeAll(writes));
  };
  const writeAll = (writes: readonly VersionWrite[]): StoredDigest[] => {
    if (writes.length === 0) return [];
    const digests: StoredDigest[] = [];
    assertDistinctTargets(writes);
    at.prepare(writes);
    w ??= prepareWrites(writer);
    const s = w;
    const buffer = new IndexRowBuffer(s);
    for (const v of writes) {
      const deleted = v.json === null ? 1 : 0;
      let pk: number;
      if (v.expected === null) {
        // A duplicate (type, id) violates UNIQUE: another writer created it first.
        pk = Number((s.insertResource.get(v.type, v.id, v.versionId, v.lastUpdated, deleted) as { pk: number }).pk);
      } else {
        const row = s.moveCurrent.get(v.versionId, v.lastUpdated, deleted, v.type, v.id, v.expected.versionId) as { pk: number } | undefined;
        if (row === undefined) throw new CustodiaError('version-conflict', 'A concurrent write changed the resource; retry against its current version');
        pk = Number(row.pk);
        for (const del of deleted === 1 ? s.deleteSearchRows : s.deleteIndex) del.run(pk);
      }
      const sealed = at.sealVersion(v);
      s.insertVersion.run(pk, v.type, v.id, v.versionId, v.lastUpdated, deleted, v.method, sealed.content, sealed.keyId);
      digests.push(storedDigest(v, sealed.content));
      if (v.json === null || v.index === null) continue;
      const index = at.indexRows(v.type, v.index);
      for (const kind of INDEX_KINDS) for (const values of indexRowValues(index, kind)) buffer.add(kind, [pk, v.type, ...values]);
      for (const c of v.compartments ?? []) s.insertCompartment.run(pk, v.type, c.compartment, c.id);
    }
    // One write per resource per call (assertDistinctTargets): no later delete in this batch touches these rows.
    buffer.flush();
    return digests;
  };
  return {
    writeVersions,
    readCurrent(type, id, visibility = SEE_ALL) {
      cache.validate();
      const key = `${type}/${id}`;
      let e = cache.get(key);
      if (e === undefined) {
        const row = read.get(type, id) as (VersionRow & { pk: number }) | undefined;
        if (row === undefined) return undefined;
        e = { row, pk: Number(row.pk) };
        cache.set(key, e);
      }
      if (visibility.kind !== 'all') {
        // The predicate in memory over the same rows the SQL would test (a store test
        // checks isVisible against the SQL for every query shape on both databases).
        e.facts ??= factsOf(e);
        if (needsTokens(visibility)) e.factsWithTokens ??= { ...e.facts, tokens: tokensOf.all(e.pk) as { param: string; system: string | null; code: string | null }[] };
        if (!isVisible(visibility, needsTokens(visibility) ? e.factsWithTokens! : e.facts)) return undefined;
      }
      e.version ??= toStoredVersion(e.row, at);
      return e.version;
    },
    memo<T>(key: string, compute: () => T): T {
      cache.validate();
      if (cache.memo.has(key)) return cache.memo.get(key) as T;
      const value = compute();
      if (cache.memo.size >= 10_000) cache.memo.clear();
      cache.memo.set(key, value);
      return value;
    },
    began() {
      open = { start: changesNow(), accounted: 0, wrote: new Set() };
    },
    committed(touchedData) {
      const done = open;
      open = undefined;
      if (!touchedData) return;
      if (done?.epochBefore !== undefined && done.epochAfter !== undefined && changesNow() - done.start === done.accounted) cache.forget(done.wrote, done.epochBefore, done.epochAfter);
      else cache.forgetAll();
    },
    bumpEpoch() {
      const n = Number(accounted(() => bumpEpoch.get()));
      if (open === undefined) return;
      open.epochBefore ??= n - 1;
      open.epochAfter = n;
    },
    // Ledger rows (leaves, the patient index) hold no resource data; any other table's rows are not accounted for.
    insertRows: (spec, rows) => (spec.table === LEAVES.table || spec.table === AUDIT_PATIENTS.table || spec.table === AUDIT_FILINGS.table ? accounted(() => inserts(spec, rows)) : inserts(spec, rows)),
    writerValue(sqlText, params = []) {
      let st = writerValues.get(sqlText);
      if (st === undefined) {
        st = writer.prepare(sqlText);
        if (st.reader) st.pluck();
        writerValues.set(sqlText, st);
      }
      const statement = st;
      return statement.reader ? statement.get(...params) : accounted(() => statement.run(...params).changes);
    },
    readNow(sqlText, params) {
      let stmt = statements.get(sqlText);
      if (stmt === undefined) {
        if (statements.size >= 64) statements.clear();
        stmt = reader.prepare(sqlText);
        statements.set(sqlText, stmt);
      }
      return stmt.all(...params);
    },
    changeMarker(type) {
      cache.validate();
      let m = cache.markers.get(type);
      if (m === undefined) {
        m = String((newestSeq.get(type) as number | null) ?? 0);
        cache.markers.set(type, m);
      }
      return m;
    },
  };
}
