/**
 * `_include` and `_revinclude` (R4 search.html §3.1.1.5.5): follow reference index rows
 * from a page of results to the resources they point at, or back to those that point at
 * them. Only current, non-deleted resources are returned : what is found is
 * filtered on `deleted = 0` (a deleted resource keeps its visibility rows, see schema.ts).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SEE_ALL, type IncludeSpec, type Visibility } from '../fhir/index.js';
import type { DialectSql } from './dialect-sql.js';
import { deadlineAnd, runBounded, visibleClause } from './read-queries.js';
import type { SearchRunner } from './search-runner.js';

function specSql(spec: IncludeSpec, x: string): RawBuilder<unknown> {
  const parts = [sql`${sql.ref(`${x}.res_type`)} = ${spec.sourceType}`];
  if (spec.param !== '*') parts.push(sql`${sql.ref(`${x}.param`)} = ${spec.param}`);
  if (spec.targetType !== undefined) parts.push(sql`${sql.ref(`${x}.target_type`)} = ${spec.targetType}`);
  return sql`(${sql.join(parts, sql` AND `)})`;
}

/** The resources a page's references point at; through `runner` when given, as a search's own statements (search-runner.ts). */
export async function includeKeys(db: Kysely<unknown>, d: DialectSql, keys: readonly number[], specs: readonly IncludeSpec[], limit: number, visibility: Visibility = SEE_ALL, runner?: SearchRunner): Promise<number[]> {
  if (keys.length === 0 || specs.length === 0) return [];
  const rows = await runBounded(db, sql<{ pk: number }>`
    SELECT DISTINCT t.pk FROM sp_reference x
    JOIN resources t ON t.res_type = x.target_type AND t.res_id = x.target_id
    WHERE ${deadlineAnd(runner, 't.pk')}${d.inKeys('x.res_pk', keys)} AND t.deleted = 0 AND (${sql.join(specs.map((s) => specSql(s, 'x')), sql` OR `)}) ${visibleClause(d, visibility, 't')}
    ORDER BY t.pk LIMIT ${limit}`, runner);
  return rows.map((r) => Number(r.pk));
}

/** The resources that point at a page's (every one of them read and made distinct before the limit: for a large page, many); through `runner` when given. */
export async function revincludeKeys(db: Kysely<unknown>, d: DialectSql, keys: readonly number[], specs: readonly IncludeSpec[], limit: number, visibility: Visibility = SEE_ALL, runner?: SearchRunner): Promise<number[]> {
  if (keys.length === 0 || specs.length === 0) return [];
  const rows = await runBounded(db, sql<{ pk: number }>`
    SELECT DISTINCT x.res_pk AS pk FROM resources t
    JOIN sp_reference x ON x.target_type = t.res_type AND x.target_id = t.res_id
    JOIN resources s ON s.pk = x.res_pk
    WHERE ${deadlineAnd(runner, 's.pk')}${d.inKeys('t.pk', keys)} AND s.deleted = 0 AND (${sql.join(specs.map((s) => specSql(s, 'x')), sql` OR `)}) ${visibleClause(d, visibility, 's')}
    ORDER BY x.res_pk LIMIT ${limit}`, runner);
  return rows.map((r) => Number(r.pk));
}
