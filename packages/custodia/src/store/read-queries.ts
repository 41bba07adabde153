/**
 * Read queries shared by the store and its transactions: current versions, batch
 * current-state lookups and searches.
 */
import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import { SEE_ALL, type CurrentState, type SearchQuery, type SearchResult, type StoredVersion, type Visibility } from '../fhir/index.js';
import type { DialectSql } from './dialect-sql.js';
import { VISIBILITY_FACT_ROWS, type ResourceVersionsTable } from './schema.js';
import { inTimeAnd, newContext, orderBySql, whereSql } from './search-sql.js';
import { visibilitySql } from './visibility-sql.js';
import type { AtRest } from './at-rest.js';
import { CustodiaError } from '../kernel/index.js';
import type { SearchRunner } from './search-runner.js';

/** The columns of `resource_versions` that make a StoredVersion. */
export type VersionRow = Omit<ResourceVersionsTable, 'seq' | 'res_pk'>;

/** The columns of a version row, for every SELECT that makes StoredVersions. */
export const VERSION_COLUMNS = 'v.res_type, v.res_id, v.version_id, v.last_updated, v.deleted, v.method, v.content, v.key_id';

export function toStoredVersion(row: VersionRow, at: AtRest): StoredVersion {
  return {
    type: row.res_type,
    id: row.res_id,
    versionId: Number(row.version_id),
    lastUpdated: Number(row.last_updated),
    deleted: Number(row.deleted) === 1,
    method: row.method as StoredVersion['method'],
    json: at.openVersion(row),
  };
}

/** `AND <visibility of r>`, or nothing for callers who see everything. */
export function visibleClause(d: DialectSql, visibility: Visibility, r = 'r'): RawBuilder<unknown> {
  return visibility.kind === 'all' ? sql`` : sql`AND ${visibilitySql(newContext(d, visibility), visibility, r)}`;
}

export async function readCurrent(db: Kysely<unknown>, at: AtRest, type: string, id: string, d?: DialectSql, visibility: Visibility = SEE_ALL): Promise<StoredVersion | undefined> {
  const result = await sql<VersionRow>`
    SELECT ${sql.raw(VERSION_COLUMNS)}
    FROM resources r JOIN resource_versions v ON v.res_pk = r.pk AND v.version_id = r.version_id
    WHERE r.res_type = ${type} AND r.res_id = ${id} ${d === undefined ? sql`` : visibleClause(d, visibility)}`.execute(db);
  const row = result.rows[0];
  return row === undefined ? undefined : toStoredVersion(row, at);
}

/** The newest version sequence number of a type: versions are append-only and seq only grows, so it marks the type's last change. */
export async function newestSeqOf(db: Kysely<unknown>, type: string): Promise<string> {
  const result = await sql<{ s: number | string | null }>`SELECT MAX(seq) AS s FROM resource_versions WHERE res_type = ${type}`.execute(db);
  return String(result.rows[0]?.s ?? 0);
}

export async function readVersion(db: Kysely<unknown>, d: DialectSql, at: AtRest, type: string, id: string, versionId: number, visibility: Visibility = SEE_ALL): Promise<StoredVersion | undefined> {
  const result = await sql<VersionRow>`
    SELECT ${sql.raw(VERSION_COLUMNS)}
    FROM resources r JOIN resource_versions v ON v.res_pk = r.pk
    WHERE r.res_type = ${type} AND r.res_id = ${id} AND v.version_id = ${versionId} ${visibleClause(d, visibility)}`.execute(db);
  const row = result.rows[0];
  return row === undefined ? undefined : toStoredVersion(row, at);
}

export async function currentStates(db: Kysely<unknown>, d: DialectSql, refs: readonly { type: string; id: string }[]): Promise<Map<string, CurrentState>> {
  const out = new Map<string, CurrentState>();
  if (refs.length === 0) return out;
  const json = JSON.stringify(refs.map((r) => [r.type, r.id]));
  const result = await sql<{ pk: number; res_type: string; res_id: string; version_id: number; deleted: number }>`
    SELECT r.pk, r.res_type, r.res_id, r.version_id, r.deleted
    FROM resources r JOIN (SELECT ${sql.raw(`${d.jsonColumn(0, 'text')} AS t, ${d.jsonColumn(1, 'text')} AS i`)} FROM ${d.jsonRowsFrom(json)}) j
      ON r.res_type = j.t AND r.res_id = j.i`.execute(db);
  if (result.rows.length === 0) return out;
  const labels = new Map<number, { system: string; code: string }[]>();
  const labelRows = await sql<{ res_pk: number; system: string | null; code: string | null }>`
    SELECT res_pk, system, code FROM sp_token
    WHERE ${d.inKeys('res_pk', result.rows.map((r) => Number(r.pk)))} AND param = ${VISIBILITY_FACT_ROWS.labels.param}`.execute(db);
  for (const l of labelRows.rows) {
    if (l.system === null || l.code === null) continue;
    const list = labels.get(Number(l.res_pk)) ?? [];
    list.push({ system: l.system, code: l.code });
    labels.set(Number(l.res_pk), list);
  }
  for (const row of result.rows) {
    const state: CurrentState = { versionId: Number(row.version_id), deleted: Number(row.deleted) === 1, labels: labels.get(Number(row.pk)) ?? [] };
    out.set(`${row.res_type}/${row.res_id}`, state);
  }
  return out;
}

/**
 * At most this many bound values in one search statement. The parser bounds a search's
 * alternatives (SEARCH_LIMITS.maxValues), but some take several values each (a composite's
 * components, a quantity's system and code, a sealed vault's blind prefixes), and both
 * databases refuse a statement past their own limit (SQLite 32,766, PostgreSQL 65,535)
 * with an error that would be a 500; compiling one that large also holds the event loop.
 */
export const MAX_SEARCH_PARAMETERS = 5000;

/**
 * Runs `statement` (through `runner` when given: off the event loop, search-runner.ts),
 * unless it binds more than MAX_SEARCH_PARAMETERS values (`search-too-costly`).
 */
export async function runBounded<R>(db: Kysely<unknown>, statement: RawBuilder<R>, runner?: SearchRunner): Promise<R[]> {
  return (await rowsThen(db, compileBounded(db, statement), 0, undefined, runner)).rows;
}

function compileBounded<R>(db: Kysely<unknown>, statement: RawBuilder<R>): CompiledQuery<R> {
  const compiled = statement.compile(db);
  if (compiled.parameters.length > MAX_SEARCH_PARAMETERS) {
    throw new CustodiaError('search-too-costly', `This search compares more values than the server takes in one query (${MAX_SEARCH_PARAMETERS}); send fewer alternatives`);
  }
  return compiled;
}

/**
 * `first`'s rows and, when `then` is given and `first` returned more than `above` rows,
 * `then`'s: on a search thread in one snapshot and one hand-off, else one after the other.
 */
async function rowsThen<R, T>(db: Kysely<unknown>, first: CompiledQuery<R>, above: number, then: CompiledQuery<T> | undefined, runner?: SearchRunner): Promise<{ readonly rows: R[]; readonly thenRows?: T[] }> {
  if (runner !== undefined) return then === undefined ? { rows: await runner.run(first) } : runner.runThen(first, above, then);
  const rows = (await db.executeQuery(first)).rows;
  return then === undefined || rows.length <= above ? { rows } : { rows, thenRows: (await db.executeQuery(then)).rows };
}

/**
 * `runner`'s deadline term for the rows of `rowKey`, then AND, to open a WHERE clause with
 * (search-runner.ts `deadlineTerm`); nothing where there is no runner or it needs none.
 */
export const deadlineAnd = (runner: SearchRunner | undefined, rowKey: string): RawBuilder<unknown> => inTimeAnd(runner?.deadlineTerm, rowKey);

const totalOf = (rows: readonly { n: number }[]): number => Number(rows[0]?.n ?? 0);

/**
 * A page of `query`'s keys and, when the page does not hold every match, their count: the
 * two statements of a search that may inspect many rows, run through `runner` when given
 * (in one snapshot there).
 */
export async function search(db: Kysely<unknown>, d: DialectSql, at: AtRest, query: SearchQuery, limit: number, visibility: Visibility = SEE_ALL, runner?: SearchRunner): Promise<SearchResult> {
  const q = at.query(query);
  // On a search thread the statement looks at its deadline as it goes through resources and through the index rows it reads.
  const where = sql`${deadlineAnd(runner, 'r.pk')}${whereSql(newContext(d, visibility, runner?.deadlineTerm), q, 'r')}`;
  const count = q.total === 'none' ? undefined : compileBounded(db, sql<{ n: number }>`SELECT COUNT(*) AS n FROM resources r WHERE ${where}`);
  if (limit === 0) return count === undefined ? { keys: [], truncated: false } : { keys: [], truncated: false, total: totalOf((await rowsThen(db, count, 0, undefined, runner)).rows) };
  const page = compileBounded(db, sql<{ pk: number }>`SELECT r.pk FROM resources r WHERE ${where} ORDER BY ${orderBySql(q.sort, 'r')} LIMIT ${limit + 1}`);
  // The count only when the page does not hold every match (otherwise the total is known for free), read with it.
  const { rows, thenRows } = await rowsThen(db, page, limit, count, runner);
  const keys = rows.map((row) => Number(row.pk));
  if (keys.length <= limit) return { keys, truncated: false, total: keys.length };
  keys.length = limit;
  return thenRows === undefined ? { keys, truncated: true } : { keys, truncated: true, total: totalOf(thenRows) };
}

export async function loadByKeys(db: Kysely<unknown>, d: DialectSql, at: AtRest, keys: readonly number[], visibility: Visibility = SEE_ALL): Promise<StoredVersion[]> {
  if (keys.length === 0) return [];
  const result = await sql<VersionRow & { pk: number }>`
    SELECT r.pk, ${sql.raw(VERSION_COLUMNS)}
    FROM resources r JOIN resource_versions v ON v.res_pk = r.pk AND v.version_id = r.version_id
    WHERE ${d.inKeys('r.pk', keys)} AND r.deleted = 0 ${visibleClause(d, visibility)}`.execute(db);
  const byPk = new Map(result.rows.map((row) => [Number(row.pk), row]));
  const out: StoredVersion[] = [];
  for (const k of keys) {
    const row = byPk.get(k);
    if (row !== undefined) out.push(toStoredVersion(row, at));
  }
  return out;
}
