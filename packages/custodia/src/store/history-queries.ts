/**
 * History queries (R4 http.html §3.1.0.9): versions newest first, at instance, type or
 * system level, optionally bounded by `_since` and a pinned upper time for stable paging.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SEE_ALL, type HistoryFilter, type Visibility } from '../fhir/index.js';
import { VERSION_COLUMNS, visibleClause, type VersionRow } from './read-queries.js';
import type { DialectSql } from './dialect-sql.js';

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

export async function historyRows(db: Kysely<unknown>, d: DialectSql, f: HistoryFilter, limit: number, offset: number, visibility: Visibility = SEE_ALL): Promise<VersionRow[]> {
  const result = await sql<VersionRow>`
    SELECT ${sql.raw(VERSION_COLUMNS)}
    FROM resource_versions v ${visibleVersions(d, visibility)} WHERE ${filterSql(f)}
    ORDER BY v.last_updated DESC, v.seq DESC LIMIT ${limit} OFFSET ${offset}`.execute(db);
  return result.rows;
}

export async function countHistoryRows(db: Kysely<unknown>, d: DialectSql, f: HistoryFilter, visibility: Visibility = SEE_ALL): Promise<number> {
  const result = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM resource_versions v ${visibleVersions(d, visibility)} WHERE ${filterSql(f)}`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}
