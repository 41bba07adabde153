/**
 * Opens the configured database, applies pending migrations, and returns the
 * ResourceStore adapter. `postgres://` / `postgresql://` URLs select PostgreSQL;
 * anything else is a SQLite file path.
 */
import { Migrator, sql, type Kysely } from 'kysely';
import { CustodiaError, secureRandom, systemClock, type Clock, type InFlight, type Random } from '../kernel/index.js';
import type { CosignatureStore, WriteAuditContext } from '../ledger/index.js';
import { ledgerLog, type LedgerLog } from './ledger-log.js';
import { ledgerCosignatures } from './ledger-cosignatures.js';
import type { ResourceStore } from '../fhir/index.js';
import type { IdentityStore, OAuthStore, OperatorLog, SharedBuckets } from '../access/index.js';
import { postgresSql, sqliteSql } from './dialect-sql.js';
import { KyselyResourceStore, type StoreHandles } from './kysely-resource-store.js';
import { GroupCommit } from './group-commit.js';
import { KyselyIdentityStore } from './identity-store.js';
import { migrationProvider } from './migrations/index.js';
import { KyselyOAuthStore } from './oauth-store.js';
import { breakGlassStore, type SealingBreakGlassStore } from './break-glass-store.js';
import { operatorLogStore } from './operator-log-store.js';
import { sharedBucketStore } from './shared-buckets.js';
import { openPostgres } from './postgres-database.js';
import { sequencerLease } from './sequencer-lease.js';
import type { SqlDialect } from './schema.js';
import { openSqlite } from './sqlite-database.js';
import { beginImmediate, BUSY_TIMEOUT_MS } from './sqlite-write-lock.js';
import { sqliteFastPath } from './sqlite-fast-path.js';
import { walSync } from './wal-sync.js';
import { enterBulkLoad } from './wal-checkpoints.js';
import { ledgerAppender } from './ledger-appender.js';
import { writeVersions } from './write-versions.js';
import { newestSeqOf, readCurrent } from './read-queries.js';
import { CLEAR_AT_REST, type AtRest } from './at-rest.js';
import { sealedDataStore, type SealedDataStore } from './sealed-data-store.js';
import { legalHoldStore, type LegalHoldStore } from './legal-hold-store.js';
import { findingStore, type FindingStore } from './finding-store.js';
import { talkerStore, type TalkerStore } from './talker-store.js';
import { baselineStore, type BaselineStore } from './baseline-store.js';
import { DEFAULT_SEARCH_TIMEOUT_MS, searchRunner } from './search-runner.js';
import { postgresSearchRunner } from './postgres-search-runner.js';

export interface StoreOptions {
  /** A `postgres://` URL or a SQLite file path (`:memory:` for a throwaway database). */
  readonly database: string;
  /** PostgreSQL only: the schema to use (created if missing). */
  readonly schema?: string;
  /** How data is stored at rest: sealed under a key store (the vault always passes one), or clear when omitted. */
  readonly atRest?: AtRest;
  /**
   * The requests the server is serving (SQLite files): while others than a commit's own
   * writers are in flight, the commit's fsync runs off the event loop (group-commit.ts).
   * Without it (command-line tools) every commit fsyncs in place.
   */
  readonly inFlight?: InFlight;
  /** SQLite files: the longest a search statement may run, in milliseconds (search-runner.ts; default DEFAULT_SEARCH_TIMEOUT_MS). */
  readonly searchTimeoutMs?: number;
  /** The audit ledger's sources of randomness (entry salts) and time. */
  readonly ledger?: {
    /** False: no ledger entries at all (the benchmark that measures auditing's cost). Default true. */
    readonly enabled?: boolean;
    readonly random?: Random;
    readonly clock?: Clock;
  };
}

export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

async function migrate(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  // Without an explicit schema kysely would take a migration table in ANY schema of the
  // database for ours, and skip creating it: vaults sharing a database must not collide.
  const schema = dialect === 'postgres' ? (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db)).rows[0]?.s : undefined;
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
  // The dialect introspects only this schema (postgres-schema-introspector.ts): another
  // vault dropping its schema meanwhile cannot fail the run.
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new CustodiaError('storage-unavailable', `Database migration ${failed} failed`, { cause: error });
  }
}

export interface TransactionOptions {
  readonly ledgerOnly?: boolean;
}

/** The database of a vault, for every adapter that keeps state in it. */
export interface DatabaseHandle {
  readonly dialect: SqlDialect;
  /** For reads outside write transactions. */
  readonly read: Kysely<unknown>;
  /**
   * A durable write transaction, group-committed with concurrent writers (group-commit.ts).
   * `ledgerOnly`: it appends to the audit ledger and changes no resource data, so caches of
   * resource data stay valid (one such commit per audited read).
   */
  transaction<T>(fn: (db: Kysely<unknown>) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** SQLite only: a synchronous read for per-request lookups (StoreHandles.readNow). */
  readonly readNow?: (sqlText: string, params: readonly unknown[]) => unknown[];
  /** SQLite only: a result remembered until the next commit by anyone (StoreHandles.memo). */
  readonly memo?: <T>(key: string, compute: () => T) => T;
}

export interface VaultDatabase {
  readonly handle: DatabaseHandle;
  readonly resources: ResourceStore;
  /** The resource store as one request sees it: its transactions record the write's audit in themselves (KyselyResourceStore.withAudit). */
  readonly auditedResources: (audit: WriteAuditContext) => ResourceStore;
  readonly identity: IdentityStore;
  /** The SMART authorization server's state (also the token service's revocation list). */
  readonly oauth: OAuthStore;
  readonly breakGlass: SealingBreakGlassStore;
  readonly operatorLog: OperatorLog;
  /** Token buckets every server process of this database shares (the sign-in throttle per address). */
  readonly sharedBuckets: SharedBuckets;
  /** Key usage, erasure and re-sealing of resource versions (key management). */
  readonly sealedData: SealedDataStore;
  readonly legalHolds: LegalHoldStore;
  /** Detection findings (issue 6). */
  readonly findings: FindingStore;
  /** Unknown talkers of the device network (issue 6 §2). */
  readonly talkers: TalkerStore;
  /** Device baselines kept between runs (issue 6 §2). */
  readonly baselines: BaselineStore;
  /** The audit ledger's tables (append, sequencer storage, entries). */
  readonly ledger: LedgerLog;
  /** The witnesses' cosignatures of the ledger's checkpoints. */
  readonly cosignatures: CosignatureStore;
  close(): Promise<void>;
}

/** Opens the vault's database with every adapter over it. */
export async function openDatabase(options: StoreOptions): Promise<VaultDatabase> {
  const h = isPostgresUrl(options.database) ? await openPostgresStore(options) : await openSqliteStore(options);
  const handle: DatabaseHandle = { dialect: h.d.name, read: h.read, transaction: h.transaction, ...(h.readNow === undefined ? {} : { readNow: h.readNow }), ...(h.memo === undefined ? {} : { memo: h.memo }) };
  const clock = options.ledger?.clock ?? systemClock;
  const ledger = ledgerLog(handle, h.d, h.at, options.ledger?.random ?? secureRandom, () => clock.now(), { sync: h.syncLedger, appender: h.appender, lease: h.sequencerLease });
  const resources = options.ledger?.enabled === false ? new KyselyResourceStore(h) : new KyselyResourceStore(h, ledger);
  return {
    handle,
    resources,
    auditedResources: (audit) => resources.withAudit(audit),
    identity: new KyselyIdentityStore(handle, h.at),
    oauth: new KyselyOAuthStore(handle),
    breakGlass: breakGlassStore(handle, h.at),
    operatorLog: operatorLogStore(handle),
    sharedBuckets: sharedBucketStore(handle),
    sealedData: sealedDataStore(h, options.ledger?.enabled === false ? undefined : ledger),
    legalHolds: legalHoldStore(handle),
    findings: findingStore(handle, h.at),
    talkers: talkerStore(handle),
    baselines: baselineStore(handle, h.at),
    ledger,
    cosignatures: ledgerCosignatures(handle, h.d),
    close: () => resources.close(),
  };
}

/** The resource store alone (tests and tools that need nothing else). */
export async function openStore(options: StoreOptions): Promise<ResourceStore> {
  return (await openDatabase(options)).resources;
}

async function openSqliteStore(options: StoreOptions): Promise<StoreHandles> {
  const h = openSqlite(options.database);
  try {
    await migrate(h.write as Kysely<unknown>, 'sqlite');
  } catch (e) {
    await h.close();
    throw e;
  }
  const at = options.atRest ?? CLEAR_AT_REST;
  const fast = sqliteFastPath(h.writer, h.reader, at);
  const wal = walSync(options.database);
  const appender = ledgerAppender(options.database);
  const searches = searchRunner(options.database, options.searchTimeoutMs);
  // `synchronous = FULL` (the connection's setting) fsyncs the WAL in the COMMIT, on the
  // event loop; NORMAL leaves the flush to someone else (wal-sync.ts, or nobody).
  const inWriteTransaction = <T>(fn: (db: Kysely<unknown>) => Promise<T>, fsyncInCommit: boolean, touchesData = true): Promise<T> =>
    (h.write as Kysely<unknown>).connection().execute(async (conn) => {
      // Inside the connection mutex: no other transaction can be affected by the pragma.
      if (!fsyncInCommit) h.writer.pragma('synchronous = NORMAL');
      try {
        await beginImmediate(h.writer, () => sql`BEGIN IMMEDIATE`.execute(conn), BUSY_TIMEOUT_MS);
        fast.began();
        try {
          const result = await fn(conn);
          if (touchesData) fast.bumpEpoch();
          await sql`COMMIT`.execute(conn);
          fast.committed(touchesData);
          return result;
        } catch (e) {
          await sql`ROLLBACK`.execute(conn);
          throw e;
        }
      } finally {
        if (!fsyncInCommit) h.writer.pragma('synchronous = FULL');
      }
    });
  // Every write is durable before its caller hears of it: fsynced in the COMMIT, or, while
  // other requests are in flight, flushed off the event loop after it (group-commit.ts).
  const inFlight = options.inFlight;
  /** Whether requests other than `own` are in flight: then flushes leave the event loop. */
  const othersInFlight = (own: number): boolean => inFlight !== undefined && inFlight.count > own;
  const group: GroupCommit = new GroupCommit(
    (fn, touchesData, deferFlush) => {
      wal?.check();
      return inWriteTransaction(fn, !deferFlush, touchesData);
    },
    64,
    wal === undefined || inFlight === undefined ? undefined : { flush: () => wal.flush(), othersWaiting: othersInFlight },
  );
  return {
    d: sqliteSql,
    at,
    read: h.read as Kysely<unknown>,
    // Made durable off the event loop only while others are in flight, as the COMMIT is;
    // alone, the transaction's `prepare` makes a new key durable in place, sparing the
    // hand-off to libuv's pool and back (the header of group-commit.ts).
    prepareKeys: (writes) => (othersInFlight(1) ? at.prepareDurably(writes) : Promise.resolve()),
    writeVersions: async (_db, writes) => {
      // New data keys: made durable off the event loop when the batch's COMMIT is. Writes
      // that can prepare them before their transaction do (prepareKeys above), and find none.
      if (group.deferring) await at.prepareDurably(writes);
      return fast.writeVersions(writes);
    },
    readCurrent: async (type, id, visibility) => fast.readCurrent(type, id, visibility),
    changeMarker: async (type) => fast.changeMarker(type),
    readNow: (sqlText, params) => fast.readNow(sqlText, params),
    memo: (key, compute) => fast.memo(key, compute),
    syncLedger: {
      insert: (spec, rows) => fast.insertRows(spec, rows),
      // Inside kysely's connection lock, so no other transaction is open on the writer; synchronous=FULL makes the COMMIT durable.
      // Committed without an fsync on this thread; `flush` makes it durable, off it (wal-sync.ts).
      transaction: (fn) =>
        (h.write as Kysely<unknown>).connection().execute(async () => {
          if (wal !== undefined) h.writer.pragma('synchronous = NORMAL');
          try {
            return h.writer.transaction(() => fn((sqlText, params) => fast.writerValue(sqlText, params))).immediate();
          } finally {
            if (wal !== undefined) h.writer.pragma('synchronous = FULL');
            fast.committed(false);
          }
        }),
      flush: async () => {
        await wal?.flush();
      },
    },
    // BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails
    // half-way on a lock upgrade when another process (an offline import) also writes.
    transaction: (fn, options) => group.submit(fn, options?.ledgerOnly !== true),
    // WAL with synchronous=NORMAL: the commit survives a process crash but is not fsynced.
    // The next durable commit fsyncs the WAL, these frames included.
    // Saved search pages only: no resource data changes.
    inEphemeralWriteTransaction: (fn) => inWriteTransaction(fn, false, false),
    ...(appender === undefined ? {} : { appender }),
    ...(searches === undefined ? {} : { searches }),
    close: async () => {
      await searches?.close();
      await appender?.close();
      await wal?.close();
      await h.close();
    },
    // 0x10002: analyse every table whose statistics are missing or stale (SQLite ≥ 3.46).
    optimize: async () => {
      await sql`PRAGMA optimize = 0x10002`.execute(h.write as Kysely<unknown>);
    },
    // Fewer checkpoints while it runs (wal-checkpoints.ts); commits are fsynced (synchronous=FULL) as always.
    enterBulkLoad: async () => {
      const end = enterBulkLoad(h.writer);
      return async () => end();
    },
  };
}


async function openPostgresStore(options: StoreOptions): Promise<StoreHandles> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new CustodiaError('config-invalid', 'The PostgreSQL schema name must be a lower-case SQL identifier');
  }
  const searchTimeoutMs = options.searchTimeoutMs ?? DEFAULT_SEARCH_TIMEOUT_MS;
  const { db, pool, searchPool } = openPostgres({ url: options.database, ...(options.schema === undefined ? {} : { schema: options.schema }), searchTimeoutMs });
  const searches = postgresSearchRunner(searchPool, searchTimeoutMs);
  const lease = sequencerLease(pool);
  const raw = db as Kysely<unknown>;
  try {
    if (options.schema !== undefined) await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(options.schema)}`.execute(raw);
    await migrate(raw, 'postgres');
  } catch (e) {
    await searches.close();
    await db.destroy();
    if (e instanceof CustodiaError) throw e;
    throw new CustodiaError('storage-unavailable', 'Cannot open the PostgreSQL database', { cause: e });
  }
  const inWriteTransaction = <T>(fn: (db: Kysely<unknown>) => Promise<T>): Promise<T> =>
    raw.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext('custodia.write.' || current_schema()))`.execute(trx);
      return fn(trx);
    });
  const group = new GroupCommit(inWriteTransaction);
  const at = options.atRest ?? CLEAR_AT_REST;
  return {
    d: postgresSql,
    at,
    read: raw,
    // PostgreSQL's commits never block the event loop: new keys are always made durable off it.
    prepareKeys: (writes) => at.prepareDurably(writes),
    writeVersions: (db, writes) => writeVersions(db, postgresSql, at, writes),
    readCurrent: (type, id, visibility) => readCurrent(raw, at, type, id, postgresSql, visibility),
    changeMarker: (type) => newestSeqOf(raw, type),
    // One writer at a time per vault (schema), like SQLite: conditional operations and
    // transaction bundles then see a stable state without SERIALIZABLE retries.
    transaction: (fn) => group.submit(fn),
    // Saved search pages only: no WAL flush wait at commit, and no writer lock needed.
    inEphemeralWriteTransaction: (fn) =>
      raw.transaction().execute(async (trx) => {
        await sql`SET LOCAL synchronous_commit = off`.execute(trx);
        return fn(trx);
      }),
    searches,
    close: async () => {
      await lease.release();
      await searches.close();
      await db.destroy();
    },
    sequencerLease: () => lease.acquire(),
    enterBulkLoad: async () => async () => undefined,
    // Only this vault's tables: a bare ANALYZE would scan every schema of the database.
    optimize: async () => {
      await sql`ANALYZE resources, resource_versions, sp_string, sp_token, sp_reference, sp_date, sp_number, sp_quantity, sp_uri`.execute(raw);
    },
  };
}

