/**
 * The caller's Visibility predicate as SQL on a `resources` alias. Every query the
 * store runs for a caller ANDs it in — for the resources it returns and for every
 * resource a chain or `_has` looks through — so that what the caller may not see is
 * never returned, counted, or used to match.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Visibility } from '../fhir/index.js';
import type { ConditionContext } from './condition-sql.js';

type Sql = RawBuilder<unknown>;

const ref = (alias: string, column: string): Sql => sql.ref(`${alias}.${column}`);

/** `column IN (<strings>)` with the list as one parameter (lists can hold thousands of patients). */
function inStrings(ctx: ConditionContext, column: Sql, values: readonly string[]): Sql {
  if (ctx.d.name === 'postgres') return sql`${column} = ANY(${values as string[]}::text[])`;
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

export function visibilitySql(ctx: ConditionContext, v: Visibility, r: string): Sql {
  switch (v.kind) {
    case 'all':
      return sql`1 = 1`;
    case 'none':
      return sql`1 = 0`;
    case 'and':
      return v.items.length === 0 ? sql`1 = 1` : sql`(${sql.join(v.items.map((i) => visibilitySql(ctx, i, r)), sql` AND `)})`;
    case 'or':
      return v.items.length === 0 ? sql`1 = 0` : sql`(${sql.join(v.items.map((i) => visibilitySql(ctx, i, r)), sql` OR `)})`;
    case 'not':
      return sql`NOT ${visibilitySql(ctx, v.item, r)}`;
    case 'type-in':
      return inStrings(ctx, ref(r, 'res_type'), v.types);
    case 'in-compartment': {
      const c = ctx.alias('vc');
      return sql`EXISTS (SELECT 1 FROM sp_compartment ${sql.raw(c)} WHERE ${ref(c, 'res_pk')} = ${ref(r, 'pk')} AND ${ref(c, 'compartment')} = ${v.compartment} AND ${inStrings(ctx, ref(c, 'comp_id'), v.ids)})`;
    }
    case 'has-label': {
      const t = ctx.alias('vl');
      return sql`EXISTS (SELECT 1 FROM sp_token ${sql.raw(t)} WHERE ${ref(t, 'res_pk')} = ${ref(r, 'pk')} AND ${ref(t, 'param')} = '_security' AND ${ref(t, 'system')} = ${v.system} AND ${ref(t, 'code')} = ${v.code})`;
    }
    case 'ref-in':
      return inStrings(ctx, sql`(${ref(r, 'res_type')} || '/' || ${ref(r, 'res_id')})`, v.refs);
    case 'has-token': {
      const t = ctx.alias('vt');
      const system = v.system === undefined ? sql`` : sql` AND ${ref(t, 'system')} = ${v.system}`;
      return sql`EXISTS (SELECT 1 FROM sp_token ${sql.raw(t)} WHERE ${ref(t, 'res_pk')} = ${ref(r, 'pk')} AND ${ref(t, 'param')} = ${v.param} AND ${ref(t, 'code')} = ${v.code}${system})`;
    }
  }
}
