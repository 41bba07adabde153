/**
 * FHIR R4 search semantics: the official search parameters, index row extraction, and
 * parsing/formatting of search requests. SQL translation lives in the store.
 */
export * from './index-rows.js';
export type * from './query.js';
export { type SearchParameter, type SearchParamComponent, type SearchParamType, indexTableOf, isSearchParamType } from './search-parameter.js';
export { SearchParamRegistry, compartmentParams, compartmentTypes } from './search-param-registry.js';
export { indexedPrefix, normalizeString } from './normalize.js';
export { type DateRange, type DatePrecision, parseDateRange } from './date-range.js';
export { formatDateRange } from './date-format.js';
export { type Decimal, parseDecimal, impliedRange, approximateRange, formatDecimal, decimalOfRange } from './number-range.js';
export { type ParsedReference, parseReference, stripCanonicalVersion, isResourceId } from './reference-target.js';
export { createIndexer, type Indexer, type IndexerOptions } from './extract-index-rows.js';
export { parseSearch, checkSearchShape, type ParseSearchContext } from './parse-search.js';
export { alternativesIn, parseTokenValue } from './parse-search-values.js';
export { formatSearch, formatCondition, type FormatOptions } from './format-search.js';
export { SEARCH_LIMITS } from './search-limits.js';
export { splitUnescaped, unescapeValue, escapeValue } from './search-escape.js';
export { compileSearchExpression, compileCompositeExpression, type SearchAccessor, type CompositeAccessor } from './search-expression.js';
export type { ValueSink } from './fhirpath-fallback.js';
export { compartmentMemberships, compartmentResourceTypes, MATERIALISED_COMPARTMENTS, type CompartmentRow } from './compartment-membership.js';
