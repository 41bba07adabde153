/**
 * The ResourceStore port over kysely, for SQLite and PostgreSQL alike. Dialect
 * differences are confined to `dialect-sql.ts`, the migrations and `beginWrite`.
 */
import { sql, type Kysely } from 'kysely';
import { SEE_ALL } from '../fhir/index.js';
import { CustodiaError } from '../kernel/index.js';
import type {
  VisibilityFacts,
  Visibility,
  CurrentState,
  HistoryCursor,
  HistoryFilter,
  IncludeSpec,
  ResourceStore,
  ResourceWriter,
  SavedPageSet,
  SearchQuery,
  SearchResult,
  StoredVersion,
  VersionWrite,
} from '../fhir/index.js';
import { guarded } from './db-errors.js';
import type { DialectSql } from './dialect-sql.js';
import { currentStates, loadByKeys, readCurrent, readVersion, search } from './read-queries.js';
import { includeKeys, revincludeKeys } from './include-queries.js';
import { historyRows, countHistoryRows } from './history-queries.js';
import { toStoredVersion } from './read-queries.js';
import type { AtRest } from './at-rest.js';
import { writeAuditRecord, type WriteAuditContext, type WrittenVersion } from '../ledger/index.js';
import type { LedgerLog, SyncLedgerWrites } from './ledger-log.js';
import type { LedgerAppender } from './ledger-appender.js';
import type { SearchRunner } from './search-runner.js';
import type { StoredDigest } from './stored-digest.js';

export interface StoreHandles {
  readonly d: DialectSql;
  /** How versions and search values are stored (sealed under the key store, or clear). */
  readonly at: AtRest;
  /** For reads outside transactions. */
  readonly read: Kysely<unknown>;
  /** Runs `fn` in a write transaction (group-committed with concurrent writers; see group-commit.ts). */
  readonly transaction: <T>(fn: (db: Kysely<unknown>) => Promise<T>, options?: { readonly ledgerOnly?: boolean }) => Promise<T>;
  /**
   * A write transaction of its own (not group-committed), for data that may be lost in a power cut (saved search
   * pages): the commit is not fsynced, so searches do not pay for durability they do
   * not need. Patient data never goes through here.
   */
  readonly inEphemeralWriteTransaction: <T>(fn: (db: Kysely<unknown>) => Promise<T>) => Promise<T>;
  readonly close: () => Promise<void>;
  /** Refreshes planner statistics. */
  readonly optimize: () => Promise<void>;
  /** Adapter settings for a bulk load; returns a function that restores them. */
  readonly enterBulkLoad: () => Promise<() => Promise<void>>;
  /** ResourceStore.prepareKeys: the data keys of writes to come, made durable before their transaction (or left to it). */
  readonly prepareKeys: (writes: readonly VersionWrite[]) => Promise<void>;
  /** Appends versions inside a write transaction (`db` is the transaction). */
  readonly writeVersions: (db: Kysely<unknown>, writes: readonly VersionWrite[]) => Promise<StoredDigest[]>;
  /** Reads a current version outside any transaction. */
  readonly readCurrent: (type: string, id: string, visibility: Visibility) => Promise<StoredVersion | undefined>;
  /** ResourceStore.changeMarker. */
  readonly changeMarker: (type: string) => Promise<string>;
  /**
   * SQLite only: runs a read on the read connection synchronously (a prepared statement
   * is cached by SQL text). Hot per-request lookups use it to skip kysely's async driver.
   */
  readonly readNow?: (sqlText: string, params: readonly unknown[]) => unknown[];
  /** SQLite only: a result remembered until the next commit by anyone (SqliteFastPath.memo). */
  readonly memo?: <T>(key: string, compute: () => T) => T;
  /** SQLite only: the ledger's synchronous write path (ledger-log.ts). */
  readonly syncLedger?: SyncLedgerWrites;
  /** PostgreSQL only: whether this process holds the ledger's sequencer lease (sequencer-lease.ts). */
  readonly sequencerLease?: () => Promise<boolean>;
  /** SQLite files: the audit writer thread that appends audited reads' records (ledger-appender.ts). */
  readonly appender?: LedgerAppender;
  /** SQLite files: the threads that run searches outside transactions, off the event loop and within a deadline (search-runner.ts). */
  readonly searches?: SearchRunner;
}

class TransactionWriter implements ResourceWriter {
  /** What this transaction wrote, for its audit record (ledger/write-audit.ts). */
  readonly written: WrittenVersion[] = [];
  constructor(
    private readonly db: Kysely<unknown>,
    private readonly d: DialectSql,
    private readonly at: AtRest,
    private readonly write: StoreHandles['writeVersions'],
    private readonly ledger: LedgerLog | undefined,
  ) {}
  readCurrent(type: string, id: string, visibility: Visibility = SEE_ALL): Promise<StoredVersion | undefined> {
    return readCurrent(this.db, this.at, type, id, this.d, visibility);
  }
  readVersion(type: string, id: string, versionId: number, visibility: Visibility = SEE_ALL): Promise<StoredVersion | undefined> {
    return readVersion(this.db, this.d, this.at, type, id, versionId, visibility);
  }
  currentStates(refs: readonly { type: string; id: string }[]): Promise<Map<string, CurrentState>> {
    return currentStates(this.db, this.d, refs);
  }
  search(query: SearchQuery, limit: number, visibility: Visibility = SEE_ALL): Promise<SearchResult> {
    return search(this.db, this.d, this.at, query, limit, visibility);
  }
  loadByKeys(keys: readonly number[], visibility: Visibility = SEE_ALL): Promise<StoredVersion[]> {
    return loadByKeys(this.db, this.d, this.at, keys, visibility);
  }
  /** Appends the versions and, in the same transaction, the ledger's commitment to each as stored. */
  async writeVersions(writes: readonly VersionWrite[]): Promise<void> {
    const digests = await this.write(this.db, writes);
    if (this.ledger !== undefined) await auditedAppend(() => this.ledger!.append(this.db, { versions: digests }));
    for (const w of writes) this.written.push({ type: w.type, id: w.id, versionId: w.versionId, method: w.method, patients: await this.#patientsOf(w) });
  }

  /**
   * The patients a written version is about: itself for a Patient, else its Patient
   * compartments — for a deletion those of its last live version, which the store keeps.
   */
  async #patientsOf(w: VersionWrite): Promise<string[]> {
    const out =
      w.compartments !== null
        ? w.compartments.filter((c) => c.compartment === 'Patient').map((c) => c.id)
        : (
            await sql<{ comp_id: string }>`SELECT c.comp_id FROM sp_compartment c JOIN resources r ON r.pk = c.res_pk
              WHERE r.res_type = ${w.type} AND r.res_id = ${w.id} AND c.compartment = 'Patient'`.execute(this.db)
          ).rows.map((r) => r.comp_id);
    if (w.type === 'Patient' && !out.includes(w.id)) out.push(w.id);
    return out;
  }
}

/** A ledger append inside a write: if it fails the write fails too, as `audit-unavailable` (auditing fails closed). */
async function auditedAppend<T>(append: () => Promise<T>): Promise<T> {
  try {
    return await append();
  } catch (e) {
    if (e instanceof CustodiaError && e.code === 'audit-unavailable') throw e;
    throw new CustodiaError('audit-unavailable', 'The audit ledger could not record this write, so it was not made', { cause: e });
  }
}

export class KyselyResourceStore implements ResourceStore {
  readonly dialect: 'sqlite' | 'postgres';

  constructor(
    private readonly h: StoreHandles,
    /** The audit ledger, when the store keeps one (the vault's always does). */
    private readonly ledger?: LedgerLog,
  ) {
    this.dialect = h.d.name;
  }

  readCurrent(type: string, id: string, visibility: Visibility = SEE_ALL): Promise<StoredVersion | undefined> {
    return guarded(() => this.h.readCurrent(type, id, visibility));
  }

  currentStates(refs: readonly { type: string; id: string }[]): Promise<Map<string, CurrentState>> {
    return guarded(() => currentStates(this.h.read, this.h.d, refs));
  }

  search(query: SearchQuery, limit: number, visibility: Visibility = SEE_ALL): Promise<SearchResult> {
    return guarded(() => search(this.h.read, this.h.d, this.h.at, query, limit, visibility, this.h.searches));
  }

  readVersion(type: string, id: string, versionId: number, visibility: Visibility = SEE_ALL): Promise<StoredVersion | undefined> {
    return guarded(() => readVersion(this.h.read, this.h.d, this.h.at, type, id, versionId, visibility));
  }

  history(filter: HistoryFilter, limit: number, cursor?: HistoryCursor, visibility: Visibility = SEE_ALL): Promise<StoredVersion[] | undefined> {
    return guarded(async () => (await historyRows(this.h.read, this.h.d, filter, limit, cursor, visibility))?.map((row) => toStoredVersion(row, this.h.at)));
  }

  countHistory(filter: HistoryFilter, visibility: Visibility = SEE_ALL): Promise<number> {
    return guarded(() => countHistoryRows(this.h.read, this.h.d, filter, visibility, this.h.searches));
  }

  loadByKeys(keys: readonly number[], visibility: Visibility = SEE_ALL): Promise<StoredVersion[]> {
    return guarded(() => loadByKeys(this.h.read, this.h.d, this.h.at, keys, visibility));
  }

  includeKeys(keys: readonly number[], specs: readonly IncludeSpec[], limit: number, visibility: Visibility = SEE_ALL): Promise<number[]> {
    return guarded(() => includeKeys(this.h.read, this.h.d, keys, specs, limit, visibility, this.h.searches));
  }

  revincludeKeys(keys: readonly number[], specs: readonly IncludeSpec[], limit: number, visibility: Visibility = SEE_ALL): Promise<number[]> {
    return guarded(() => revincludeKeys(this.h.read, this.h.d, keys, specs, limit, visibility, this.h.searches));
  }

  prepareKeys(writes: readonly VersionWrite[]): Promise<void> {
    return guarded(() => this.h.prepareKeys(writes));
  }

  transaction<T>(fn: (tx: ResourceWriter) => Promise<T>): Promise<T> {
    return this.auditedTransaction(fn, undefined);
  }

  /**
   * This store as one request sees it: each of its transactions records, in itself, the
   * audit record of what it wrote under `audit` (ledger/write-audit.ts). The context is
   * handed over explicitly, not found in an AsyncLocalStorage: on Node 20 an enabled
   * AsyncLocalStorage runs a hook on every promise the process creates, measured here at
   * about a fifth of the read throughput of a busy server (2026-11-30).
   *
   * A view: everything but `transaction` is this store's own (its prototype). So the
   * class keeps TypeScript `private` members, not `#private` fields: a `#field` is not
   * reachable through a prototype, and every method called on the view would throw.
   */
  withAudit(audit: WriteAuditContext): ResourceStore {
    if (this.ledger === undefined) return this;
    const view = Object.create(this) as KyselyResourceStore;
    Object.defineProperty(view, 'transaction', { value: <T>(fn: (tx: ResourceWriter) => Promise<T>): Promise<T> => this.auditedTransaction(fn, audit) });
    return view;
  }

  /**
   * The transaction body, then — in the same transaction — the audit record of what it
   * wrote, when it carries a request's write-audit context: the write and its audit commit
   * together or not at all.
   */
  private auditedTransaction<T>(fn: (tx: ResourceWriter) => Promise<T>, audit: WriteAuditContext | undefined): Promise<T> {
    let audited = false;
    return guarded(async () => {
      const result = await this.h.transaction(async (db) => {
        const writer = new TransactionWriter(db, this.h.d, this.h.at, this.h.writeVersions, this.ledger);
        const r = await fn(writer);
        if (audit !== undefined && this.ledger !== undefined && writer.written.length > 0) {
          await auditedAppend(() => this.ledger!.append(db, { audits: [writeAuditRecord(audit, writer.written)] }));
          audited = true;
        }
        return r;
      });
      if (audit !== undefined && audited) audit.recorded = true;
      return result;
    });
  }

  savePageSet(set: SavedPageSet): Promise<void> {
    return guarded(() =>
      this.h.inEphemeralWriteTransaction(async (db) => {
        await sql`DELETE FROM search_pages WHERE expires_at < ${set.createdAt}`.execute(db);
        await sql`INSERT INTO search_pages (id, owner, created_at, expires_at, total, keys, state)
          VALUES (${set.id}, ${set.owner}, ${set.createdAt}, ${set.expiresAt}, ${set.total}, ${JSON.stringify(set.keys)}, ${set.stateJson})`.execute(db);
      }),
    );
  }

  loadPageSet(id: string, now: number): Promise<SavedPageSet | undefined> {
    return guarded(async () => {
      const result = await sql<{ id: string; owner: string; created_at: number; expires_at: number; total: number | null; keys: string; state: string }>`
        SELECT id, owner, created_at, expires_at, total, keys, state FROM search_pages WHERE id = ${id} AND expires_at > ${now}`.execute(this.h.read);
      const row = result.rows[0];
      if (row === undefined) return undefined;
      return {
        id: row.id,
        owner: row.owner,
        keys: JSON.parse(row.keys) as number[],
        total: row.total === null ? null : Number(row.total),
        stateJson: row.state,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      };
    });
  }

  optimize(): Promise<void> {
    return guarded(() => this.h.optimize());
  }

  async bulkLoad<T>(fn: () => Promise<T>): Promise<T> {
    const restore = await guarded(() => this.h.enterBulkLoad());
    try {
      return await fn();
    } finally {
      await guarded(restore);
      await this.optimize();
    }
  }

  visibilityFacts(type: string, id: string): Promise<VisibilityFacts | undefined> {
    return guarded(async () => {
      const r = (await sql<{ pk: number }>`SELECT pk FROM resources WHERE res_type = ${type} AND res_id = ${id} AND deleted = 0`.execute(this.h.read)).rows[0];
      if (r === undefined) return undefined;
      const compartments = await sql<{ compartment: string; comp_id: string }>`SELECT compartment, comp_id FROM sp_compartment WHERE res_pk = ${r.pk} ORDER BY compartment, comp_id`.execute(this.h.read);
      const labels = await sql<{ system: string | null; code: string | null }>`SELECT system, code FROM sp_token WHERE res_pk = ${r.pk} AND param = '_security' ORDER BY system, code`.execute(this.h.read);
      return {
        type,
        id,
        compartments: compartments.rows.map((c) => ({ compartment: c.compartment, id: c.comp_id })),
        labels: labels.rows,
      };
    });
  }

  changeMarker(type: string): Promise<string> {
    return guarded(() => this.h.changeMarker(type));
  }

  countResources(type?: string): Promise<number> {
    return guarded(async () => {
      const result =
        type === undefined
          ? await sql<{ n: number }>`SELECT COUNT(*) AS n FROM resources WHERE deleted = 0`.execute(this.h.read)
          : await sql<{ n: number }>`SELECT COUNT(*) AS n FROM resources WHERE res_type = ${type} AND deleted = 0`.execute(this.h.read);
      return Number(result.rows[0]?.n ?? 0);
    });
  }

  close(): Promise<void> {
    return this.h.close();
  }
}
