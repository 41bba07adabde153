/**
 * The storage port the FHIR domain owns (architecture guide §3.2: ports are tiny
 * interfaces that the consumer owns). Adapters for SQLite and PostgreSQL live in
 * `src/store/`; the domain never sees SQL.
 *
 * Resource versions are immutable: a write adds a version and moves the "current"
 * pointer; search index rows are derived from the new current version and replaced
 * in the same transaction.
 */
import type { IndexRows } from '../search/index-rows.js';
import type { CompartmentRow } from '../search/compartment-membership.js';
import type { Visibility, VisibilityFacts } from './visibility.js';
import type { IncludeSpec, SearchQuery } from '../search/query.js';

/** One stored version of a resource. */
export interface StoredVersion {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  /** Epoch milliseconds. */
  readonly lastUpdated: number;
  readonly deleted: boolean;
  /** How this version came to be, for history bundles (R4 http.html §3.1.0.9). */
  readonly method: 'POST' | 'PUT' | 'DELETE';
  /** The resource JSON (with meta.versionId and meta.lastUpdated set); null for a deletion. */
  readonly json: string | null;
}

/** The current state of a resource as seen inside a write transaction. */
export interface CurrentState {
  readonly versionId: number;
  readonly deleted: boolean;
  /**
   * The resource's security labels (its `_security` index rows: those of the current
   * version or, once deleted, of its last live version). A new version keeps them
   * (version-plan.ts): labels are never removed by a write.
   */
  readonly labels?: readonly { readonly system: string; readonly code: string }[];
}

/** A new version to append. */
export interface VersionWrite {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: number;
  readonly method: 'POST' | 'PUT' | 'DELETE';
  /** null for a deletion. */
  readonly json: string | null;
  /**
   * Index rows of the new version; null for a deletion, which removes the resource's index
   * rows except its visibility facts (compartments and `_security` labels), kept from its
   * last live version so that its history stays under the same access rule.
   */
  readonly index: IndexRows | null;
  /** The compartments the new version is in (access control); null for a deletion (the last live version's are kept). */
  readonly compartments: readonly CompartmentRow[] | null;
  /**
   * The version this write replaces: null when the resource must not exist yet.
   * The adapter fails with `version-conflict` if another writer got there first.
   */
  readonly expected: CurrentState | null;
}

export interface HistoryFilter {
  readonly type?: string;
  readonly id?: string;
  /** Only versions with lastUpdated >= since (epoch ms). */
  readonly since?: number;
  /** Only versions with lastUpdated <= at (epoch ms); used to pin a history snapshot for paging. */
  readonly until?: number;
}

/**
 * Where a page of history starts: just after this version, the last one of the page
 * before (keyset paging, so a page costs the same at any depth). It names only what the
 * caller was shown, never the store's internal order.
 */
export interface HistoryCursor {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
}

/** An ordered, paged result: opaque keys of matching resources (current versions). */
export interface SearchResult {
  readonly keys: readonly number[];
  /** Set when the query asked for a total and it was computed. */
  readonly total?: number;
  /** True when more keys matched than `limit`. */
  readonly truncated: boolean;
}

/** A saved result list, so that paging is stable while data changes (search.html §3.1.1.6). */
export interface SavedPageSet {
  readonly id: string;
  /** Who may page through it (hash of the requesting principal). */
  readonly owner: string;
  readonly keys: readonly number[];
  readonly total: number | null;
  /** Non-identifying presentation state (includes, summary, elements) as JSON. */
  readonly stateJson: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Reads that are consistent within one call; used inside and outside transactions. */
/**
 * Reads take the caller's Visibility (default: everything, for the operator and for
 * internal work); what it excludes is indistinguishable from what does not exist.
 * Every version of a resource (vread, history) is judged by one set of facts: those of its
 * current version or, once deleted, those of its last live version.
 */
export interface ResourceReader {
  readCurrent(type: string, id: string, visibility?: Visibility): Promise<StoredVersion | undefined>;
  readVersion(type: string, id: string, versionId: number, visibility?: Visibility): Promise<StoredVersion | undefined>;
  /** Current state of several resources at once, keyed by `Type/id` (internal: no visibility). */
  currentStates(refs: readonly { type: string; id: string }[]): Promise<Map<string, CurrentState>>;
  search(query: SearchQuery, limit: number, visibility?: Visibility): Promise<SearchResult>;
  /** Current, non-deleted versions for keys, in the order given (missing and invisible keys are skipped). */
  loadByKeys(keys: readonly number[], visibility?: Visibility): Promise<StoredVersion[]>;
}

export interface ResourceWriter extends ResourceReader {
  /** Appends versions atomically with their index rows. */
  writeVersions(writes: readonly VersionWrite[]): Promise<void>;
}

export interface ResourceStore extends ResourceReader {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Makes the data keys that `writes` would seal under durable now, before any transaction
   * (a new patient's key), so that the transaction that writes them need not wait for it
   * while it holds the write lock. Only an early start: a transaction that still finds a
   * key missing makes it durable itself.
   */
  prepareKeys(writes: readonly VersionWrite[]): Promise<void>;
  /**
   * Versions newest first, at most `limit`, after `cursor` when given. Undefined when the
   * cursor names no version of this history that `visibility` lets the caller see (gone,
   * hidden since, or never there: the three are not told apart).
   */
  history(filter: HistoryFilter, limit: number, cursor?: HistoryCursor, visibility?: Visibility): Promise<StoredVersion[] | undefined>;
  countHistory(filter: HistoryFilter, visibility?: Visibility): Promise<number>;
  /** Keys of the visible resources that `keys` reference (`_include`). */
  includeKeys(keys: readonly number[], specs: readonly IncludeSpec[], limit: number, visibility?: Visibility): Promise<number[]>;
  /** Keys of the visible resources that reference `keys` (`_revinclude`). */
  revincludeKeys(keys: readonly number[], specs: readonly IncludeSpec[], limit: number, visibility?: Visibility): Promise<number[]>;
  /**
   * Runs `fn` atomically: everything it wrote rolls back if it throws. Concurrent calls
   * may share one database transaction and one commit (group commit), each isolated by
   * a savepoint; the promise settles only after the commit is durable.
   */
  transaction<T>(fn: (tx: ResourceWriter) => Promise<T>): Promise<T>;
  savePageSet(set: SavedPageSet): Promise<void>;
  loadPageSet(id: string, now: number): Promise<SavedPageSet | undefined>;
  /** Refreshes the planner's statistics after bulk loads (ANALYZE / PRAGMA optimize). */
  optimize(): Promise<void>;
  /**
   * Runs a bulk load: the adapter may tune itself for throughput while `fn` runs
   * (SQLite checkpoints its WAL less often), then restores its settings, checkpoints,
   * and refreshes statistics. Durability of each commit is unchanged.
   */
  bulkLoad<T>(fn: () => Promise<T>): Promise<T>;
  /** What visibility depends on for one current resource (for explanations), or undefined. */
  visibilityFacts(type: string, id: string): Promise<VisibilityFacts | undefined>;
  /**
   * A marker that changes whenever any resource of `type` gets a new version (cheap:
   * one index lookup). Caches of derived policy — compiled consents — compare it on
   * every request, so changes take effect on the next request.
   */
  changeMarker(type: string): Promise<string>;
  /** Number of current, non-deleted resources (all types when `type` is omitted). */
  countResources(type?: string): Promise<number>;
  close(): Promise<void>;
}
