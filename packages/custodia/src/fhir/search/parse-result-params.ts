/**
 * The result parameters of a search (FHIR R4 search.html §3.1.1.5): `_sort`, `_count`,
 * `_total`, `_summary`, `_elements`, `_include`/`_revinclude` (with `:iterate`), and `_type`
 * (§3.1.1.2 system-level search). Values are ATTACKER-CONTROLLED.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { IncludeSpec, SearchQuery, SortKey, SummaryMode } from './query.js';
import { lookupParam } from './parse-condition.js';
import { splitAlternatives } from './parse-search-values.js';
import { invalid, quote, reject, tooCostly, type SearchParseContext } from './search-context.js';
import { SEARCH_LIMITS } from './search-limits.js';
import { indexTableOf } from './search-parameter.js';

const COUNT_SYNTAX = /^\d{1,9}$/;
const ELEMENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const SUMMARY_MODES: ReadonlySet<string> = new Set(['true', 'text', 'data', 'count', 'false']);
const TOTAL_MODES: ReadonlySet<string> = new Set(['none', 'estimate', 'accurate']);

/**
 * The resource types searched: the request's types narrowed by `_type` (all known types for a
 * system-level search without `_type`).
 *
 * @example resolveTypes([], 'Patient,Observation', ctx) // ['Patient', 'Observation']
 */
export function resolveTypes(requested: readonly string[], typeParam: string | undefined, ctx: SearchParseContext): string[] {
  for (const t of requested) {
    if (!ctx.registry.isResourceType(t)) throw new CustodiaError('unknown-resource-type', `${quote(t)} is not a FHIR R4 resource type`);
  }
  if (typeParam === undefined) return requested.length > 0 ? [...new Set(requested)] : [...ctx.registry.resourceTypes()];
  const listed: string[] = [];
  for (const t of splitAlternatives('_type', typeParam)) {
    if (!ctx.registry.isResourceType(t)) throw invalid('_type', `${quote(t)} is not a resource type`);
    if (!listed.includes(t)) listed.push(t);
  }
  const types = requested.length === 0 ? listed : listed.filter((t) => requested.includes(t));
  if (types.length === 0) throw invalid('_type', 'no resource type left to search');
  return types;
}

/** `_count` (search.html §3.1.1.5.4), clamped to `maxCount`; 0 asks for the total only. */
export function parseCount(raw: string, maxCount: number): number {
  if (!COUNT_SYNTAX.test(raw)) throw invalid('_count', `${quote(raw)} is not a non-negative integer`);
  return Math.min(Number(raw), maxCount);
}

export function parseTotal(raw: string): SearchQuery['total'] {
  if (!TOTAL_MODES.has(raw)) throw invalid('_total', `${quote(raw)} is not none, estimate or accurate`);
  return raw as SearchQuery['total'];
}

export function parseSummary(raw: string): SummaryMode {
  if (!SUMMARY_MODES.has(raw)) throw invalid('_summary', `${quote(raw)} is not true, text, data, count or false`);
  return raw as SummaryMode;
}

/** `_elements=identifier,active` (search.html §3.1.1.5.9): top-level element names. */
export function parseElements(raw: string): string[] {
  const names: string[] = [];
  for (const name of splitAlternatives('_elements', raw)) {
    if (!ELEMENT_NAME.test(name)) throw invalid('_elements', `${quote(name)} is not an element name`);
    if (!names.includes(name)) names.push(name);
    if (names.length > SEARCH_LIMITS.maxElements) throw tooCostly('_elements', `more than ${SEARCH_LIMITS.maxElements} elements`);
  }
  return names;
}

/**
 * `_sort=-date,name` (search.html §3.1.1.5.2): parameter codes, `-` for descending; `_id` and
 * `_lastUpdated` sort on the version row ('meta'), others on their index table.
 */
export function parseSort(raw: string, types: readonly string[], ctx: SearchParseContext): SortKey[] {
  const keys: SortKey[] = [];
  for (const key of splitAlternatives('_sort', raw)) {
    const descending = key.startsWith('-');
    const code = descending ? key.slice(1) : key;
    if (keys.some((k) => k.param === code)) continue;
    if (code === '_id' || code === '_lastUpdated') {
      keys.push({ param: code, table: 'meta', descending });
    } else {
      const param = lookupParam(ctx, types, code);
      const table = param === undefined ? undefined : indexTableOf(param.type);
      if (param === undefined || param.expression === undefined) {
        reject(ctx, `_sort=${key}`, `cannot sort by unknown parameter ${quote(code)}`);
        continue;
      }
      if (table === undefined) throw invalid('_sort', `cannot sort by ${param.type} parameter ${code}`);
      keys.push({ param: code, table, descending });
    }
    if (keys.length > SEARCH_LIMITS.maxSortKeys) throw tooCostly('_sort', `more than ${SEARCH_LIMITS.maxSortKeys} sort keys`);
  }
  return keys;
}

/**
 * `_include=Source:param[:Target]`, `_include=*`, `_revinclude=…`, with `:iterate` (or the R3
 * name `:recurse`) (search.html §3.1.1.5.5–6). Returns the specs (none when ignored).
 */
export function parseInclude(name: string, raw: string, types: readonly string[], ctx: SearchParseContext): { reverse: boolean; specs: IncludeSpec[] } {
  const [base, modifier, extra] = name.split(':', 3);
  const reverse = base === '_revinclude';
  if (extra !== undefined || (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse')) {
    reject(ctx, name, `unknown modifier on ${base}`, 'search-invalid');
    return { reverse, specs: [] };
  }
  const iterate = modifier !== undefined;
  if (raw === '*') {
    if (reverse) {
      reject(ctx, name, '_revinclude=* is not supported');
      return { reverse, specs: [] };
    }
    return { reverse, specs: types.map((sourceType) => ({ sourceType, param: '*', iterate })) };
  }
  const parts = raw.split(':');
  const [sourceType, code, targetType] = parts;
  if (parts.length < 2 || parts.length > 3 || sourceType === undefined || code === undefined || code === '') {
    throw invalid(name, `${quote(raw)} is not Source:parameter[:Target]`);
  }
  if (!ctx.registry.isResourceType(sourceType)) throw invalid(name, `${quote(sourceType)} is not a resource type`);
  if (targetType !== undefined && !ctx.registry.isResourceType(targetType)) throw invalid(name, `${quote(targetType)} is not a resource type`);
  if (!reverse && !iterate && !types.includes(sourceType)) throw invalid(name, `${sourceType} is not searched here; use ${name}:iterate`);
  if (code !== '*') {
    const param = ctx.registry.get(sourceType, code);
    if (param === undefined) {
      reject(ctx, name, `unknown search parameter ${sourceType}.${quote(code)}`);
      return { reverse, specs: [] };
    }
    if (param.type !== 'reference') throw invalid(name, `${sourceType}.${code} is not a reference parameter`);
    if (targetType !== undefined && !param.targets.includes(targetType)) throw invalid(name, `${targetType} is not a target of ${sourceType}.${code}`);
    if (reverse && !iterate && !param.targets.some((t) => types.includes(t))) throw invalid(name, `${sourceType}.${code} cannot point at the resources searched`);
  }
  return { reverse, specs: [{ sourceType, param: code, ...(targetType === undefined ? {} : { targetType }), iterate }] };
}
