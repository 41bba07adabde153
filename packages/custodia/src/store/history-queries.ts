/**
 * History queries (R4 http.html §3.1.0.9): versions newest first, at instance, type or
 * system level, optionally bounded by `_since` and a pinned upper time for stable paging.
 * Pages are keyset pages: each starts below the (last_updated, seq) of the version the
 * page before ended on, a seek in the history indexes, so page 10,000 costs what page 1
 * does (an OFFSET would read and drop every version before it).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SEE_ALL, type HistoryCursor, type HistoryFilter, type Visibility } from '../fhir/index.js';
import { deadlineAnd, runBounded, VERSION_COLUMNS, visibleClause, type VersionRow } from './read-queries.js';
import type { DialectSql } from './dialect-sql.js';
import type { SearchRunner } from './search-runner.js';

function filterSql(f: HistoryFilter): RawBuilder<unknown> {
  // Versions an erasure destroyed (content gone, key id kept; see erasure.ts) are not history any more.
  const parts: RawBuilder<unknown>[] = [sql`(v.content IS NOT NULL OR v.key_id IS NULL)`];
  if (f.type !== undefined && f.id !== undefined) {
    parts.push(sql`v.res_pk = (SELECT pk FROM resources WHERE res_type = ${f.type} AND res_id = ${f.id})`);
  } else if (f.type !== undefined) {
    parts.push(sql`v.res_type = ${f.type}`);
  }
  if (f.since !== undefined) parts.push(sql`v.last_updated >= ${f.since}`);
  if (f.until !== undefined) parts.push(sql`v.last_updated <= ${f.until}`);
  return sql.join(parts, sql` AND `);
}

/**
 * Versions are visible when their resource is, judged on the facts its `resources` row
 * keys: the current version's, or for a deleted resource its last live version's (a
 * deletion keeps them, write-versions.ts). Join it when that matters.
 */
function visibleVersions(d: DialectSql, visibility: Visibility): RawBuilder<unknown> {
  return visibility.kind === 'all' ? sql`` : sql`JOIN resources r ON r.pk = v.res_pk ${visibleClause(d, visibility)}`;
}

interface Position {
  readonly last_updated: number | string;
  readonly seq: number | string;
}

/**
 * The order position of the version a cursor names, if it is one of this history's
 * versions that the caller may see; the same query as a page's, so a cursor cannot
 * reach past the filter or the caller's visibility. The cursor is request input.
 */
async function cursorPosition(db: Kysely<unknown>, d: DialectSql, f: HistoryFilter, c: HistoryCursor, visibility: Visibility): Promise<Position | undefined> {
  const result = await sql<Position>`
    SELECT v.last_updated, v.seq FROM resource_versions v ${visibleVersions(d, visibility)}
    WHERE ${filterSql(f)} AND v.res_pk = (SELECT pk FROM resources WHERE res_type = ${c.type} AND res_id = ${c.id}) AND v.version_id = ${c.versionId}`.execute(db);
  return result.rows[0];
}

export async function historyRows(db: Kysely<unknown>, d: DialectSql, f: HistoryFilter, limit: number, cursor: HistoryCursor | undefined, visibility: Visibility = SEE_ALL): Promise<VersionRow[] | undefined> {
  let after: RawBuilder<unknown> = sql``;
  if (cursor !== undefined) {
    const at = await cursorPosition(db, d, f, cursor, visibility);
    if (at === undefined) return undefined;
    // A row value compares lexicographically, and both databases seek an index on it.
    after = sql`AND (v.last_updated, v.seq) < (${Number(at.last_updated)}, ${Number(at.seq)})`;
  }
  const result = await sql<VersionRow>`
    SELECT ${sql.raw(VERSION_COLUMNS)}
    FROM resource_versions v ${visibleVersions(d, visibility)} WHERE ${filterSql(f)} ${after}
    ORDER BY v.last_updated DESC, v.seq DESC LIMIT ${limit}`.execute(db);
  return result.rows;
}

/** The versions a history holds in all (its first page's total): a count over a whole type may read millions of rows, so it runs through `runner` when given (search-runner.ts). */
export async function countHistoryRows(db: Kysely<unknown>, d: DialectSql, f: HistoryFilter, visibility: Visibility = SEE_ALL, runner?: SearchRunner): Promise<number> {
  const rows = await runBounded(db, sql<{ n: number }>`SELECT COUNT(*) AS n FROM resource_versions v ${visibleVersions(d, visibility)} WHERE ${deadlineAnd(runner, 'v.seq')}${filterSql(f)}`, runner);
  return Number(rows[0]?.n ?? 0);
}
