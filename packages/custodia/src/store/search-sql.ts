/**
 * Resource-level search predicates and ordering: each condition of a SearchQuery
 * becomes one predicate on a `resources` alias. Chains and `_has` recurse with fresh
 * aliases (R4 search.html §3.1.1.4.8.5 chaining, §3.1.1.4.9 reverse chaining).
 */
import { sql, type RawBuilder } from 'kysely';
import { CustodiaError } from '../kernel/index.js';
import { SEE_ALL, type Condition, type SearchQuery, type SortKey, type Visibility } from '../fhir/index.js';
import { rangeMatch, valuePredicate, type ConditionContext } from './condition-sql.js';
import type { DialectSql } from './dialect-sql.js';
import { INDEX_TABLES } from './schema.js';
import { pickDriver } from './condition-rank.js';
import { visibilitySql } from './visibility-sql.js';

type Sql = RawBuilder<unknown>;

const ref = (alias: string, column: string): Sql => sql.ref(`${alias}.${column}`);
const list = (values: readonly string[]): Sql => sql.join(values.map((v) => sql`${v}`));

/**
 * `<a>.param = …`, or `IN (…)` when the condition's rows are stored under several
 * parameters (sealed `name` and `address`, blind-search.ts).
 */
function paramIs(a: string, c: { readonly param: string; readonly storedParams?: readonly string[] }): Sql {
  return c.storedParams === undefined ? sql`${ref(a, 'param')} = ${c.param}` : sql`${ref(a, 'param')} IN (${list(c.storedParams)})`;
}

/**
 * Makes the term that holds a statement to its deadline as it inspects the rows of a key
 * column (search-runner.ts `deadlineTerm`); undefined where none is needed.
 */
export type DeadlineTerm = (rowKey: string) => Sql | undefined;

/** `term AND ` for the rows of `rowKey`, to open a WHERE clause with; nothing without a term. */
export function inTimeAnd(deadline: DeadlineTerm | undefined, rowKey: string): Sql {
  const term = deadline?.(rowKey);
  return term === undefined ? sql`` : sql`${term} AND `;
}

/** `deadline`: where the statement runs on a search thread, its subqueries that read an index look at the deadline as they go (search-runner.ts). */
export function newContext(d: DialectSql, visibility: Visibility = SEE_ALL, deadline?: DeadlineTerm): ConditionContext {
  let n = 0;
  return { d, visibility, alias: (prefix) => `${prefix}${++n}`, ...(deadline === undefined ? {} : { deadline }) };
}

/** The deadline term for the rows an index subquery reads through alias `a` (its rowid). */
const inTime = (ctx: ConditionContext, a: string): Sql => inTimeAnd(ctx.deadline, `${a}.rowid`);

/** The caller's visibility on a resources alias, or nothing when the caller sees everything. */
function visible(ctx: ConditionContext, alias: string): Sql {
  return ctx.visibility.kind === 'all' ? sql`1 = 1` : visibilitySql(ctx, ctx.visibility, alias);
}

/** `r.res_type IN (…)` narrowing for index subqueries, so the lookup index applies. */
function typeFilter(a: string, types: readonly string[]): Sql {
  if (types.length === 0) return sql`1 = 1`;
  return types.length === 1 ? sql`${ref(a, 'res_type')} = ${types[0]!}` : sql`${ref(a, 'res_type')} IN (${list(types)})`;
}

/** How a condition joins the row it filters: read from the value index, or probed per row. */
export type JoinMode = 'drive' | 'probe';

/**
 * A predicate true for rows of `resources` alias `r` (of one of `types`) matching `c`.
 * See condition-rank.ts for when a condition drives and when it probes.
 */
export function conditionSql(ctx: ConditionContext, c: Condition, r: string, types: readonly string[], mode: JoinMode): Sql {
  switch (c.kind) {
    case 'id':
      return sql`${ref(r, 'res_id')} IN (${list(c.values)})`;
    case 'last-updated':
      return sql`(${sql.join(c.values.map((v) => rangeMatch(ref(r, 'last_updated'), ref(r, 'last_updated'), v)), sql` OR `)})`;
    case 'missing': {
      const a = ctx.alias('m');
      const sub = sql`SELECT 1 FROM ${sql.table(INDEX_TABLES[c.table]).as(a)} WHERE ${ref(a, 'res_pk')} = ${ref(r, 'pk')} AND ${paramIs(a, c)}`;
      return c.missing ? sql`NOT EXISTS (${sub})` : sql`EXISTS (${sub})`;
    }
    case 'composite':
      return sql`(${sql.join(c.values.map((components) => compositeSql(ctx, components, r, types, mode)), sql` OR `)})`;
    case 'care-date': {
      // Overlap ('ap' on the closed range): a care date on either bound's day counts.
      const dated = c.params.filter(([t]) => types.length === 0 || types.includes(t));
      if (dated.length === 0) return sql`1 = 1`;
      const a = ctx.alias('c');
      const rows = sql.join(dated.map(([t, codes]) => sql`(${ref(a, 'res_type')} = ${t} AND ${ref(a, 'param')} IN (${list(codes)}))`), sql` OR `);
      const overlaps = rangeMatch(ref(a, 'lo'), ref(a, 'hi'), { prefix: 'ap', range: c.range });
      return sql`(${ref(r, 'res_type')} NOT IN (${list(dated.map(([t]) => t))}) OR EXISTS (SELECT 1 FROM ${sql.table(INDEX_TABLES.date).as(a)} WHERE ${ref(a, 'res_pk')} = ${ref(r, 'pk')} AND (${rows}) AND ${overlaps}))`;
    }
    case 'chain': {
      const x = ctx.alias('x');
      const t = ctx.alias('t');
      const inner = conditionSql(ctx, c.condition, t, c.targetTypes, mode);
      const join = sql`FROM ${sql.table(INDEX_TABLES.reference).as(x)}
        JOIN ${sql.table('resources').as(t)} ON ${ref(t, 'res_type')} = ${ref(x, 'target_type')} AND ${ref(t, 'res_id')} = ${ref(x, 'target_id')}`;
      const where = sql`${ref(x, 'param')} = ${c.param} AND ${typeFilter(t, c.targetTypes)} AND ${ref(t, 'deleted')} = 0 AND ${visible(ctx, t)} AND ${inner}`;
      return mode === 'drive'
        ? sql`${ref(r, 'pk')} IN (SELECT ${ref(x, 'res_pk')} ${join} WHERE ${inTime(ctx, x)}${typeFilter(x, types)} AND ${where})`
        : sql`EXISTS (SELECT 1 ${join} WHERE ${ref(x, 'res_pk')} = ${ref(r, 'pk')} AND ${where})`;
    }
    case 'has': {
      const x = ctx.alias('x');
      const s = ctx.alias('s');
      const inner = conditionSql(ctx, c.condition, s, [c.sourceType], mode);
      const join = sql`FROM ${sql.table(INDEX_TABLES.reference).as(x)} JOIN ${sql.table('resources').as(s)} ON ${ref(s, 'pk')} = ${ref(x, 'res_pk')}`;
      const where = sql`${ref(x, 'res_type')} = ${c.sourceType} AND ${ref(x, 'param')} = ${c.param} AND ${ref(s, 'deleted')} = 0 AND ${visible(ctx, s)} AND ${inner}`;
      return mode === 'drive'
        ? sql`(${ref(r, 'res_type')}, ${ref(r, 'res_id')}) IN (SELECT ${ref(x, 'target_type')}, ${ref(x, 'target_id')} ${join} WHERE ${inTime(ctx, x)}${where})`
        : sql`EXISTS (SELECT 1 ${join} WHERE ${ref(x, 'target_type')} = ${ref(r, 'res_type')} AND ${ref(x, 'target_id')} = ${ref(r, 'res_id')} AND ${where})`;
    }
    case 'token':
      if (c.not) {
        // :not — no index row of this parameter matches (search.html §3.1.1.4.5.3); resources without the element match too.
        return sql`NOT ${plainSql(ctx, { ...c, not: false }, r, types, 'probe')}`;
      }
      return plainSql(ctx, c, r, types, mode);
    default:
      return plainSql(ctx, c, r, types, mode);
  }
}

function plainSql(ctx: ConditionContext, c: Condition & { param: string }, r: string, types: readonly string[], mode: JoinMode): Sql {
  const a = ctx.alias('i');
  const p = valuePredicate(ctx, c, a);
  if (mode === 'drive') {
    // Alternative ranges are read one index seek each (condition-sql.ts, ValuePredicate); IN drops the duplicates. Only
    // within one type, so that the arms' repeated bound values stay few (a system search of many types keeps the OR).
    const arms = p.alternatives !== undefined && types.length === 1 ? p.alternatives : [p.where];
    const selects = arms.map((where) => sql`SELECT ${ref(a, 'res_pk')} FROM ${sql.table(p.table).as(a)} WHERE ${inTime(ctx, a)}${typeFilter(a, types)} AND ${paramIs(a, c)} AND ${where}`);
    return sql`${ref(r, 'pk')} IN (${sql.join(selects, sql` UNION ALL `)})`;
  }
  return sql`EXISTS (SELECT 1 FROM ${sql.table(p.table).as(a)} WHERE ${ref(a, 'res_pk')} = ${ref(r, 'pk')} AND ${paramIs(a, c)} AND ${p.where})`;
}

/** All components must match index rows of the same element occurrence (`grp`). */
function compositeSql(ctx: ConditionContext, components: readonly Condition[], r: string, types: readonly string[], mode: JoinMode): Sql {
  if (components.length === 0) throw new CustodiaError('search-invalid', 'A composite value needs its components');
  const parts = components.map((comp) => {
    if (!('param' in comp)) throw new CustodiaError('search-invalid', 'A composite component must be a plain value');
    const a = ctx.alias('c');
    return { a, comp, p: valuePredicate(ctx, comp, a) };
  });
  const [first, ...rest] = parts;
  const from = sql.join(
    [
      sql`${sql.table(first!.p.table).as(first!.a)}`,
      ...rest.map(
        (x) =>
          sql`JOIN ${sql.table(x.p.table).as(x.a)} ON ${ref(x.a, 'res_pk')} = ${ref(first!.a, 'res_pk')} AND ${ref(x.a, 'grp')} = ${ref(first!.a, 'grp')} AND ${ref(x.a, 'param')} = ${x.comp.param}`,
      ),
    ],
    sql` `,
  );
  const wheres = sql`${ref(first!.a, 'param')} = ${first!.comp.param} AND ${ref(first!.a, 'grp')} > 0 AND ${sql.join(parts.map((x) => x.p.where), sql` AND `)}`;
  return mode === 'drive'
    ? sql`${ref(r, 'pk')} IN (SELECT ${ref(first!.a, 'res_pk')} FROM ${from} WHERE ${inTime(ctx, first!.a)}${typeFilter(first!.a, types)} AND ${wheres})`
    : sql`EXISTS (SELECT 1 FROM ${from} WHERE ${ref(first!.a, 'res_pk')} = ${ref(r, 'pk')} AND ${wheres})`;
}

const SORT_COLUMNS: Record<string, { asc: string; desc: string }> = {
  string: { asc: 'MIN(value)', desc: 'MAX(value)' },
  token: { asc: 'MIN(code)', desc: 'MAX(code)' },
  reference: { asc: 'MIN(COALESCE(target_id, url))', desc: 'MAX(COALESCE(target_id, url))' },
  date: { asc: 'MIN(lo)', desc: 'MAX(hi)' },
  number: { asc: 'MIN(lo)', desc: 'MAX(hi)' },
  quantity: { asc: 'MIN(lo)', desc: 'MAX(hi)' },
  uri: { asc: 'MIN(value)', desc: 'MAX(value)' },
};

/** ORDER BY for `_sort` (search.html §3.1.1.5.4); missing values sort last, `pk` breaks ties. */
export function orderBySql(sort: readonly SortKey[], r: string): Sql {
  const keys: Sql[] = sort.map((k) => {
    const dir = sql.raw(k.descending ? 'DESC' : 'ASC');
    if (k.param === '_id') return sql`${ref(r, 'res_id')} ${dir}`;
    if (k.param === '_lastUpdated') return sql`${ref(r, 'last_updated')} ${dir}`;
    if (k.table === 'meta') throw new CustodiaError('search-invalid', `Cannot sort by ${k.param}`);
    const col = SORT_COLUMNS[k.table]!;
    const agg = sql.raw(k.descending ? col.desc : col.asc);
    return sql`(SELECT ${agg} FROM ${sql.table(INDEX_TABLES[k.table])} s WHERE s.res_pk = ${ref(r, 'pk')} AND s.param = ${k.param} AND s.grp = 0) ${dir} NULLS LAST`;
  });
  keys.push(sql`${ref(r, 'pk')} ASC`);
  return sql.join(keys);
}

/** The full WHERE clause for a query over `resources` alias `r`. */
export function whereSql(ctx: ConditionContext, q: SearchQuery, r: string): Sql {
  const parts: Sql[] = [sql`${ref(r, 'deleted')} = 0`];
  if (q.types.length > 0) parts.push(typeFilter(r, q.types));
  if (ctx.visibility.kind !== 'all') parts.push(visibilitySql(ctx, ctx.visibility, r));
  const driver = pickDriver(q.conditions);
  q.conditions.forEach((c, i) => parts.push(conditionSql(ctx, c, r, q.types, i === driver ? 'drive' : 'probe')));
  return sql.join(parts, sql` AND `);
}
