/**
 * Bounds on what a search request may ask for. Search parameters are attacker-controlled;
 * every loop over them is bounded by one of these. Exceeding a size bound is
 * `search-too-costly`; asking for a deeper chain or `_has` than supported is
 * `search-unsupported` (ignored under lenient handling).
 */
export const SEARCH_LIMITS = Object.freeze({
  /** Query parameters (name=value pairs) per request. */
  maxParams: 100,
  /** Characters in a parameter name. */
  maxNameLength: 256,
  /** Characters in one parameter value (before splitting on commas). */
  maxValueLength: 4096,
  /** Alternatives (comma-separated values) in one parameter. */
  maxValuesPerParam: 100,
  /**
   * Alternatives in all the parameters of one search, together. Each becomes a predicate of
   * one SQL statement, which the database compiles for its distinct values, and compiling
   * grows faster than the statement: 100 parameters of 100 dates held the event loop for
   * 7–13 s in SQLite's prepare (measured 2026-12-01), 10 of 100 for 0.15 s.
   */
  maxValues: 1000,
  /** Chained parameters: `subject:Patient.name` is depth 1. */
  maxChainDepth: 1,
  /** Nested reverse chains: `_has:Observation:patient:_has:…` is depth 2. */
  maxHasDepth: 2,
  /** `_include` plus `_revinclude` values. */
  maxIncludes: 20,
  /** How many rounds the store follows `:iterate` includes (for the store; the parser only marks them). */
  maxIncludeIterations: 3,
  /** `_sort` keys. */
  maxSortKeys: 5,
  /** `_elements` names. */
  maxElements: 50,
});
