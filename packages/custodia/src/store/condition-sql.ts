/**
 * Translates the parsed search AST (fhir/search/query.ts) into SQL predicates over the
 * index tables. Every value reaches SQL as a bound parameter; identifiers come only from
 * the constant table/column names below. Each predicate is of the form
 * `<alias>.pk IN (SELECT res_pk FROM <index> WHERE …)`, which both planners can drive
 * from the `(res_type, param, value)` indexes.
 *
 * Range semantics (R4 search.html §3.1.1.4.1.1 prefixes), target t=[lo,hi], search s:
 *   eq: t ⊆ s · ne: not eq · gt: t.hi > s.hi · lt: t.lo < s.lo · ge: gt or eq ·
 *   le: lt or eq · sa: t.lo > s.hi · eb: t.hi < s.lo · ap: t overlaps s (s already widened).
 */
import { sql, type RawBuilder } from 'kysely';
import { CustodiaError } from '../kernel/index.js';
import { indexedPrefix, normalizeString, type Condition, type QuantityValue, type RangeValue, type ReferenceValue, type TokenValue, type Visibility } from '../fhir/index.js';
import type { DialectSql } from './dialect-sql.js';
import { INDEX_TABLES } from './schema.js';
import { TAIL_CHARS, type BlindPrefixMatch } from '../crypto/index.js';
import type { StoredStringCondition } from './blind-search.js';

type Sql = RawBuilder<unknown>;

export interface ConditionContext {
  readonly d: DialectSql;
  /** The caller's visibility, applied to every resource a chain or _has looks through. */
  readonly visibility: Visibility;
  /** Allocates a fresh table alias for nested subqueries. */
  alias(prefix: string): string;
  /** On a search thread: the term that holds a statement to its deadline (search-sql.ts `inTimeAnd`). */
  readonly deadline?: (rowKey: string) => RawBuilder<unknown> | undefined;
}

const ref = (alias: string, column: string): Sql => sql.ref(`${alias}.${column}`);
const or = (parts: Sql[]): Sql => (parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` OR `)})`);
const and = (parts: Sql[]): Sql => (parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` AND `)})`);

/** `value` starts with `prefix`, as a byte-order range so that an index can serve it. */
function startsWith(ctx: ConditionContext, column: Sql, prefix: string): Sql {
  return sql`(${column} >= ${prefix} AND ${column} < ${prefix + ctx.d.maxChar})`;
}

/**
 * Every row value that any of several sealed starts-with searches can match. Stated once
 * outside their OR, it lets the database look them up in the (res_type, param, value)
 * index; the OR alone left it reading every row of the parameter for each alternative
 * (2026-12-01, 2.9 million string rows: `name` with 2 alternatives took 0.37 s, with 100
 * 12.8 s, against 11 ms with one).
 */
function blindHeads(matches: readonly BlindPrefixMatch[]): string[] {
  const heads = new Set<string>();
  for (const p of matches) {
    heads.add(p.whole);
    for (const t of p.tails) heads.add(t.head);
  }
  return [...heads];
}

/**
 * A sealed starts-with search (store/blind-search.ts, crypto/blind-index.ts): a row holding
 * the term's own blind prefix (a head row, or a row of the layout of one row per prefix
 * written before tails, migration 0015); or the last head row of a layout with tails
 * (three head rows now, four in earlier rows) whose tail holds the term's blind index.
 */
function blindStartsWith(a: string, p: BlindPrefixMatch): Sql {
  const value = ref(a, 'value');
  if (p.tails.length === 0) return sql`${value} = ${p.whole}`;
  const heads = sql.join([p.whole, ...p.tails.map((t) => t.head)].map((v) => sql`${v}`));
  const inTail = p.tails.map((t) => sql`(${value} = ${t.head} AND substr(${ref(a, 'tail')}, ${t.at}, ${TAIL_CHARS}) = ${t.value})`);
  return sql`(${value} IN (${heads}) AND (${value} = ${p.whole} OR ${sql.join(inTail, sql` OR `)}))`;
}

/** LIKE pattern for a substring, with the wildcard characters of the input escaped. */
function containsPattern(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function rangeMatch(lo: Sql, hi: Sql, v: RangeValue): Sql {
  const { lo: slo, hi: shi } = v.range;
  const eq = sql`(${lo} >= ${slo} AND ${hi} <= ${shi})`;
  switch (v.prefix) {
    case 'eq':
      return eq;
    case 'ne':
      return sql`NOT ${eq}`;
    case 'gt':
      return sql`${hi} > ${shi}`;
    case 'lt':
      return sql`${lo} < ${slo}`;
    case 'ge':
      return sql`(${hi} > ${shi} OR ${eq})`;
    case 'le':
      return sql`(${lo} < ${slo} OR ${eq})`;
    case 'sa':
      return sql`${lo} > ${shi}`;
    case 'eb':
      return sql`${hi} < ${slo}`;
    case 'ap':
      return sql`(${lo} <= ${shi} AND ${hi} >= ${slo})`;
  }
}

function tokenMatch(a: string, v: TokenValue): Sql {
  const parts: Sql[] = [];
  if (v.system === null) parts.push(sql`${ref(a, 'system')} IS NULL`);
  else if (v.system !== undefined) parts.push(sql`${ref(a, 'system')} = ${v.system}`);
  if (v.code !== undefined) parts.push(sql`${ref(a, 'code')} = ${v.code}`);
  if (parts.length === 0) return sql`1 = 1`;
  return and(parts);
}

function identifierMatch(a: string, v: TokenValue): Sql {
  const parts: Sql[] = [];
  if (v.system === null) parts.push(sql`${ref(a, 'ident_system')} IS NULL`);
  else if (v.system !== undefined) parts.push(sql`${ref(a, 'ident_system')} = ${v.system}`);
  if (v.code !== undefined) parts.push(sql`${ref(a, 'ident_value')} = ${v.code}`);
  if (parts.length === 0) return sql`${ref(a, 'ident_value')} IS NOT NULL`;
  return and(parts);
}

/**
 * The alternatives of a reference condition. Local ones that allow the same target types
 * (every bare id of one parameter allows all its targets: up to 145 types for `subject` of
 * Basic) share one `target_id IN (…) AND target_type IN (…)`, so 100 ids cost 100 + 145
 * bound values, not 100 × 146 (three such parameters exceeded SQLite's 32,766: a 500).
 */
function referenceMatches(a: string, values: readonly ReferenceValue[]): Sql[] {
  const out: Sql[] = [];
  const byTypes = new Map<string, { types: readonly string[]; ids: string[] }>();
  for (const v of values) {
    if (v.kind === 'url') {
      out.push(sql`${ref(a, 'url')} = ${v.url}`);
      continue;
    }
    const key = v.types.join('\u0000');
    const group = byTypes.get(key) ?? { types: v.types, ids: [] };
    group.ids.push(v.id);
    byTypes.set(key, group);
  }
  for (const { types, ids } of byTypes.values()) {
    const id = ids.length === 1 ? sql`${ref(a, 'target_id')} = ${ids[0]!}` : sql`${ref(a, 'target_id')} IN (${sql.join(ids.map((i) => sql`${i}`))})`;
    out.push(types.length === 0 ? id : sql`(${id} AND ${ref(a, 'target_type')} IN (${sql.join(types.map((t) => sql`${t}`))}))`);
  }
  return out;
}

function quantityMatch(a: string, v: QuantityValue): Sql {
  const parts: Sql[] = [rangeMatch(ref(a, 'lo'), ref(a, 'hi'), v)];
  if (v.system !== undefined) parts.push(sql`${ref(a, 'system')} = ${v.system}`);
  if (v.code !== undefined) {
    parts.push(v.system !== undefined ? sql`${ref(a, 'code')} = ${v.code}` : sql`(${ref(a, 'code')} = ${v.code} OR ${ref(a, 'unit')} = ${v.code})`);
  }
  return and(parts);
}

/** Above: the stored URI is the search URI or one of its parents at a `/` boundary. */
function uriAncestors(uri: string): string[] {
  const out = [uri];
  let i = uri.lastIndexOf('/');
  while (i > 0 && out.length < 64) {
    const parent = uri.slice(0, i);
    if (parent.endsWith('/') || parent.endsWith(':')) break;
    out.push(parent, `${parent}/`);
    i = parent.lastIndexOf('/');
  }
  return out;
}

/**
 * A condition's rows: the index table and the predicate on its alias. `alternatives`, set
 * when the predicate is an OR of two or more ranges (R4 search.html §3.1.1.4: a comma is
 * OR), holds each range alone, so that a search driven by this condition can seek each in
 * the `(res_type, param, value)` index (search-sql.ts). Neither planner seeks an OR of
 * ranges under the shared `res_type` and `param`: SQLite read every row of the parameter
 * (2026-12-01, 21,200 `value-string` rows: 2.3 ms for two prefixes against 0.5 ms for
 * one, growing with the rows times the alternatives). An OR of equalities needs none of
 * this: SQLite already seeks each (MULTI-INDEX OR).
 */
export interface ValuePredicate {
  readonly table: string;
  readonly where: Sql;
  readonly alternatives?: readonly Sql[];
}

function anyOf(table: string, parts: readonly Sql[]): ValuePredicate {
  return parts.length > 1 ? { table, where: or([...parts]), alternatives: parts } : { table, where: or([...parts]) };
}

/** The row predicate of a plain (non-chain, non-has) condition on index alias `a`. */
export function valuePredicate(ctx: ConditionContext, c: Condition, a: string): ValuePredicate {
  switch (c.kind) {
    case 'string': {
      const prefixes = (c as StoredStringCondition).prefixes;
      const exactHeads = (c as StoredStringCondition).exactHeads;
      const parts = c.values.map((v, i) => {
        const blind = prefixes?.[i];
        if (blind !== undefined) return blindStartsWith(a, blind);
        // `exact` has no index: seek the `value` every row of equal text has. Unsealed, that is the text normalised; sealed (`exactHeads` given), a head row (blind-search.ts, exactHead).
        if (c.match === 'exact') {
          const seek = exactHeads === undefined ? indexedPrefix(normalizeString(v)) : exactHeads[i];
          return seek === undefined ? sql`${ref(a, 'exact')} = ${v}` : sql`(${ref(a, 'value')} = ${seek} AND ${ref(a, 'exact')} = ${v})`;
        }
        if (c.match === 'contains') return sql`${ref(a, 'value')} LIKE ${containsPattern(v)} ESCAPE '\\'`;
        return startsWith(ctx, ref(a, 'value'), v);
      });
      const blinds = prefixes !== undefined && c.values.length > 1 && c.values.every((_, i) => prefixes[i] !== undefined) ? (prefixes as readonly BlindPrefixMatch[]) : undefined;
      if (blinds !== undefined) return { table: INDEX_TABLES.string, where: sql`(${ref(a, 'value')} IN (${sql.join(blindHeads(blinds).map((h) => sql`${h}`))}) AND ${or(parts)})` };
      // A substring is no range: every row is read whatever the form.
      return c.match === 'contains' ? { table: INDEX_TABLES.string, where: or(parts) } : anyOf(INDEX_TABLES.string, parts);
    }
    case 'token':
      return { table: INDEX_TABLES.token, where: or(c.values.map((v) => tokenMatch(a, v))) };
    case 'token-text':
      return anyOf(INDEX_TABLES.token, c.values.map((v) => startsWith(ctx, ref(a, 'text'), v)));
    case 'reference':
      return { table: INDEX_TABLES.reference, where: or(referenceMatches(a, c.values)) };
    case 'reference-identifier':
      return { table: INDEX_TABLES.reference, where: or(c.values.map((v) => identifierMatch(a, v))) };
    case 'date':
      return anyOf(INDEX_TABLES.date, c.values.map((v) => rangeMatch(ref(a, 'lo'), ref(a, 'hi'), v)));
    case 'number':
      return anyOf(INDEX_TABLES.number, c.values.map((v) => rangeMatch(ref(a, 'lo'), ref(a, 'hi'), v)));
    case 'quantity':
      return anyOf(INDEX_TABLES.quantity, c.values.map((v) => quantityMatch(a, v)));
    case 'uri':
      return anyOf(
        INDEX_TABLES.uri,
        c.values.map((v) => {
          if (c.match === 'below') return startsWith(ctx, ref(a, 'value'), v);
          if (c.match === 'above') return sql`${ref(a, 'value')} IN (${sql.join(uriAncestors(v).map((u) => sql`${u}`))})`;
          return sql`${ref(a, 'value')} = ${v}`;
        }),
      );
    default:
      throw new CustodiaError('internal', `condition ${c.kind} has no row predicate`);
  }
}
