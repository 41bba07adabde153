/** Shared parse contexts for the search parsing tests. */
import { isCustodiaError } from '../../../src/kernel/index.js';
import { SearchParamRegistry, parseSearch, type ParseSearchContext, type SearchQuery } from '../../../src/fhir/search/index.js';

export const registry = SearchParamRegistry.loadR4();
export const NOW = Date.UTC(2025, 0, 1);
export const BASE = 'https://vault.example/fhir';

export function context(types: readonly string[], handling: 'strict' | 'lenient' = 'strict'): ParseSearchContext {
  return { types, registry, handling, defaultCount: 20, maxCount: 100, now: NOW, baseUrl: BASE };
}

/** Parses `query` (a query string without `?`) for `types`. */
export function parse(types: readonly string[], query: string | [string, string][], handling: 'strict' | 'lenient' = 'strict'): SearchQuery {
  const params: [string, string][] = typeof query === 'string' ? [...new URLSearchParams(query)] : query;
  return parseSearch(params, context(types, handling));
}

/** The CustodiaError code `fn` throws (or 'no error'). */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    if (isCustodiaError(e)) return e.code;
    throw e;
  }
}
