/**
 * Parses the query parameters of a FHIR search (FHIR R4 search.html) into a `SearchQuery`.
 * The parameters are ATTACKER-CONTROLLED: counts, lengths, alternatives, chain and `_has`
 * depth and includes are bounded (`SEARCH_LIMITS`), names are looked up in Maps (so
 * `__proto__` is just an unknown parameter), and nothing is turned into a RegExp or SQL.
 * Only `CustodiaError` escapes (`search-invalid`, `search-unsupported`, `search-too-costly`,
 * `unknown-resource-type` for a request type that does not exist).
 */
import { CustodiaError, isCustodiaError } from '../../kernel/index.js';
import { parseCondition } from './parse-condition.js';
import { parseCount, parseElements, parseInclude, parseSort, parseSummary, parseTotal, resolveTypes } from './parse-result-params.js';
import type { Condition, IncludeSpec, SearchQuery, SortKey, SummaryMode } from './query.js';
import { invalid, tooCostly, type SearchParseContext } from './search-context.js';
import { SEARCH_LIMITS } from './search-limits.js';
import { alternativesIn } from './parse-search-values.js';
import type { SearchParamRegistry } from './search-param-registry.js';

export interface ParseSearchContext {
  /** One type for a type-level search; empty or several for a system-level search (narrowed by `_type`). */
  readonly types: readonly string[];
  readonly registry: SearchParamRegistry;
  /** R4 search.html §3.1.1.3 (`Prefer: handling=…`). */
  readonly handling: 'strict' | 'lenient';
  readonly defaultCount: number;
  readonly maxCount: number;
  /** Epoch ms from the injected clock, for `ap` on dates. */
  readonly now: number;
  /** This server's base URL: absolute references under it are local. */
  readonly baseUrl?: string;
  /** `_total` when the request does not say; 'accurate' unless configured. */
  readonly defaultTotal?: SearchQuery['total'];
}

/** HTTP-level parameters (R4 http.html §3.1.0.1.x): not part of the search, silently ignored. */
const HTTP_LEVEL: ReadonlySet<string> = new Set(['_format', '_pretty']);
/** Result parameters that may appear once. */
const SINGLE: ReadonlySet<string> = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_type']);

/**
 * The shape every query string must have before anything reads it (hostile): at most
 * SEARCH_LIMITS.maxParams pairs of strings, names and values of bounded length. Also for
 * the operations that parse their own parameters (AuditEvent search, $access-log).
 */
export function checkSearchShape(params: ReadonlyArray<readonly [string, string]>): void {
  if (!Array.isArray(params)) throw invalid('', 'search parameters must be a list of name/value pairs');
  if (params.length > SEARCH_LIMITS.maxParams) throw tooCostly('', `more than ${SEARCH_LIMITS.maxParams} search parameters`);
  for (const pair of params) {
    const [name, value] = Array.isArray(pair) ? pair : [];
    if (typeof name !== 'string' || typeof value !== 'string') throw invalid('', 'search parameter names and values must be strings');
    if (name.length > SEARCH_LIMITS.maxNameLength) throw tooCostly(name, `parameter name longer than ${SEARCH_LIMITS.maxNameLength} characters`);
    if (value.length > SEARCH_LIMITS.maxValueLength) throw tooCostly(name, `value longer than ${SEARCH_LIMITS.maxValueLength} characters`);
  }
}

/**
 * Parses a search.
 *
 * @example
 *   parseSearch([['family', 'chalmers'], ['_count', '10']], {
 *     types: ['Patient'], registry: SearchParamRegistry.loadR4(), handling: 'strict',
 *     defaultCount: 20, maxCount: 100, now: clock.now(),
 *   });
 *   // { types: ['Patient'], conditions: [{ kind: 'string', param: 'family', match: 'prefix', values: ['chalmers'] }], count: 10, … }
 */
export function parseSearch(params: ReadonlyArray<readonly [string, string]>, context: ParseSearchContext): SearchQuery {
  try {
    return parse(params, context);
  } catch (e) {
    if (isCustodiaError(e)) throw e;
    // Not expected: a bug, reported as such rather than blamed on the request.
    throw new CustodiaError('internal', 'the search parameters could not be parsed', { cause: e });
  }
}

function parse(params: ReadonlyArray<readonly [string, string]>, context: ParseSearchContext): SearchQuery {
  checkSearchShape(params);
  const ctx: SearchParseContext = {
    registry: context.registry,
    handling: context.handling,
    now: context.now,
    ignored: [],
    ...(context.baseUrl === undefined ? {} : { baseUrl: context.baseUrl }),
  };
  const seen = new Set<string>();
  for (const [name] of params) {
    if (SINGLE.has(name)) {
      if (seen.has(name)) throw invalid(name, `${name} may appear only once`);
      seen.add(name);
    }
  }
  const types = resolveTypes(context.types, params.find(([n]) => n === '_type')?.[1], ctx);
  const conditions: Condition[] = [];
  const include: IncludeSpec[] = [];
  const revinclude: IncludeSpec[] = [];
  let sort: SortKey[] = [];
  let count = Math.min(context.defaultCount, context.maxCount);
  let total: SearchQuery['total'] = context.defaultTotal ?? 'accurate';
  let summary: SummaryMode | undefined;
  let elements: string[] | undefined;
  /** Include values given (SEARCH_LIMITS.maxIncludes counts values: `*` on a system search is one, whatever the types it covers). */
  let includeValues = 0;
  /** Alternatives of the conditions so far (SEARCH_LIMITS.maxValues). */
  let values = 0;

  for (const [name, value] of params) {
    if (HTTP_LEVEL.has(name) || name === '_type') continue;
    if (name === '_count') count = parseCount(value, context.maxCount);
    else if (name === '_sort') sort = parseSort(value, types, ctx);
    else if (name === '_total') total = parseTotal(value);
    else if (name === '_summary') summary = parseSummary(value);
    else if (name === '_elements') elements = parseElements(value);
    else if (name === '_include' || name === '_revinclude' || name.startsWith('_include:') || name.startsWith('_revinclude:')) {
      const { reverse, specs } = parseInclude(name, value, types, ctx);
      (reverse ? revinclude : include).push(...specs);
      if (++includeValues > SEARCH_LIMITS.maxIncludes) throw tooCostly(name, `more than ${SEARCH_LIMITS.maxIncludes} includes`);
    } else {
      values += alternativesIn(value);
      if (values > SEARCH_LIMITS.maxValues) throw tooCostly(name, `more than ${SEARCH_LIMITS.maxValues} values in all the parameters of one search`);
      const condition = parseCondition(name, value, { types, chainDepth: 0, hasDepth: 0, label: name }, ctx);
      if (condition !== null) conditions.push(condition);
    }
  }
  return {
    types,
    conditions,
    sort,
    count,
    total,
    ...(summary === undefined ? {} : { summary }),
    ...(elements === undefined ? {} : { elements }),
    include,
    revinclude,
    ignored: ctx.ignored,
  };
}
