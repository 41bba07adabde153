/**
 * The canonical query-string form of a parsed search (for the Bundle `self` link, FHIR R4
 * search.html §3.1.1.6 "the self link … SHALL be the canonical form of the search actually
 * performed"). `parseSearch(formatSearch(q))` gives `q` back (without `ignored`, which is not
 * part of the search performed).
 *
 * Canonical choices: conditions in their original order, then `_sort`, `_count`, `_total`,
 * `_summary`, `_elements`, `_include`, `_revinclude`; the `eq` prefix is omitted; dates are
 * written in UTC at the precision of their range; numbers with the digits their precision
 * implies (`100.00`, `1e2`); references as `Type/id` when the type is known.
 */
import { canonicalOf } from './canonical-source.js';
import { formatDateRange } from './date-format.js';
import { decimalOfRange, formatDecimal } from './number-range.js';
import type { Condition, IncludeSpec, QuantityValue, RangeValue, ReferenceValue, SearchQuery, TokenValue } from './query.js';
import { escapeValue } from './search-escape.js';
import { SearchParamRegistry } from './search-param-registry.js';

export interface FormatOptions {
  /** Leave `_type` out (a type-level search, whose URL names the type). */
  readonly omitTypes?: boolean;
}

/**
 * Formats `query` as query parameters.
 *
 * @example formatSearch(parseSearch([['birthdate', 'ge2020-03']], ctx)) // [['birthdate', 'ge2020-03'], ['_count', '20'], ['_total', 'accurate']]
 */
export function formatSearch(query: SearchQuery, options: FormatOptions = {}): [string, string][] {
  const out: [string, string][] = [];
  if (options.omitTypes !== true && !isEveryType(query.types)) out.push(['_type', query.types.join(',')]);
  for (const c of query.conditions) out.push(formatCondition(c));
  if (query.sort.length > 0) out.push(['_sort', query.sort.map((k) => `${k.descending ? '-' : ''}${k.param}`).join(',')]);
  out.push(['_count', String(query.count)]);
  out.push(['_total', query.total]);
  if (query.summary !== undefined) out.push(['_summary', query.summary]);
  if (query.elements !== undefined) out.push(['_elements', query.elements.join(',')]);
  for (const spec of query.include) out.push(formatInclude('_include', spec));
  for (const spec of query.revinclude) out.push(formatInclude('_revinclude', spec));
  return out;
}

function isEveryType(types: readonly string[]): boolean {
  const all = SearchParamRegistry.loadR4().resourceTypes();
  return types.length === all.length && all.every((t) => types.includes(t));
}

function formatInclude(name: string, spec: IncludeSpec): [string, string] {
  return [`${name}${spec.iterate ? ':iterate' : ''}`, `${spec.sourceType}:${spec.param}${spec.targetType === undefined ? '' : `:${spec.targetType}`}`];
}

/**
 * One condition as a `[name, value]` pair.
 *
 * @example formatCondition({ kind: 'token', param: 'gender', not: true, values: [{ code: 'male' }] }) // ['gender:not', 'male']
 */
export function formatCondition(c: Condition): [string, string] {
  switch (c.kind) {
    case 'string':
      return [`${c.param}${c.match === 'prefix' ? '' : `:${c.match}`}`, c.values.map(escapeValue).join(',')];
    case 'token':
      return [`${c.param}${c.not ? ':not' : ''}`, c.values.map(formatToken).join(',')];
    case 'token-text':
      return [`${c.param}:text`, c.values.map(escapeValue).join(',')];
    case 'reference':
      return [c.param, c.values.map(formatReference).join(',')];
    case 'reference-identifier':
      return [`${c.param}:identifier`, c.values.map(formatToken).join(',')];
    case 'date':
      return [c.param, c.values.map((v) => formatRangeValue(v, 'date')).join(',')];
    case 'number':
      return [c.param, c.values.map((v) => formatRangeValue(v, 'number')).join(',')];
    case 'quantity':
      return [c.param, c.values.map(formatQuantity).join(',')];
    case 'uri':
      return [`${c.param}${c.match === 'eq' ? '' : `:${c.match}`}`, c.values.map(escapeValue).join(',')];
    case 'missing':
      return [`${c.param.endsWith('$0') ? c.param.slice(0, -2) : c.param}:missing`, String(c.missing)];
    case 'composite':
      return [c.param, c.values.map((components) => components.map((part) => formatCondition(part)[1]).join('$')).join(',')];
    case 'id':
      return ['_id', c.values.map(escapeValue).join(',')];
    case 'last-updated':
      return ['_lastUpdated', c.values.map((v) => formatRangeValue(v, 'date')).join(',')];
    case 'chain': {
      const [inner, value] = formatCondition(c.condition);
      return [`${c.param}${c.targetTypes.length === 1 ? `:${c.targetTypes[0]}` : ''}.${inner}`, value];
    }
    case 'has': {
      const [inner, value] = formatCondition(c.condition);
      return [`_has:${c.sourceType}:${c.param}:${inner}`, value];
    }
    case 'care-date':
      // An operation's bounds (`start`, `end`); operations give their own self link.
      return ['_care-date', `${new Date(c.range.lo).toISOString()}..${new Date(c.range.hi).toISOString()}`];
  }
}

function formatToken(v: TokenValue): string {
  const code = v.code === undefined ? '' : escapeValue(v.code);
  if (v.system === undefined) return code;
  return `${v.system === null ? '' : escapeValue(v.system)}|${code}`;
}

function formatReference(v: ReferenceValue): string {
  if (v.kind === 'url') return escapeValue(v.url);
  return v.types.length === 1 ? `${v.types[0]}/${v.id}` : v.id;
}

/**
 * A date or number with its prefix. `ap` values come back as the parser recorded them (their
 * range was widened relative to the clock); others are written from their range.
 */
function formatRangeValue(v: RangeValue, kind: 'date' | 'number'): string {
  if (v.prefix === 'ap') {
    const source = canonicalOf(v);
    if (source !== undefined) return source;
  }
  const prefix = v.prefix === 'eq' ? '' : v.prefix;
  if (kind === 'date') return prefix + (formatDateRange(v.range) ?? new Date(v.range.lo).toISOString());
  const d = decimalOfRange(v.range);
  return prefix + (d === undefined ? String(v.range.lo) : formatDecimal(d.digits, d.exponent));
}

function formatQuantity(v: QuantityValue): string {
  const source = v.prefix === 'ap' ? canonicalOf(v) : undefined;
  if (source !== undefined) return source;
  const number = formatRangeValue({ prefix: v.prefix, range: v.range }, 'number');
  if (v.system === undefined && v.code === undefined) return number;
  return `${number}|${v.system === undefined ? '' : escapeValue(v.system)}|${v.code === undefined ? '' : escapeValue(v.code)}`;
}
