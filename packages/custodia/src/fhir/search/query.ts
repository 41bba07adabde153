/**
 * The parsed form of a FHIR search (R4 search.html). `parseSearch` turns hostile query
 * parameters into this; store adapters translate it into SQL over the index tables
 * described in `index-rows.ts`. Every condition in `SearchQuery.conditions` must hold
 * (AND); the values inside one condition are alternatives (OR, the comma).
 */
import type { IndexTable } from './index-rows.js';

/** R4 search.html §3.1.1.4.1.1 prefixes. */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

/** A closed interval; for dates in epoch ms, derived from the value's precision. */
export interface Range {
  readonly lo: number;
  readonly hi: number;
}

export interface RangeValue {
  readonly prefix: Prefix;
  readonly range: Range;
}

export interface QuantityValue extends RangeValue {
  /** undefined: any system. */
  readonly system?: string;
  /** undefined: any unit. Matches QuantityRow.code, or QuantityRow.unit when no system is given. */
  readonly code?: string;
}

/**
 * `[system]|[code]`: system undefined means any system; null means "no system" (`|code`);
 * code undefined means any code in the system (`system|`).
 */
export interface TokenValue {
  readonly system?: string | null;
  readonly code?: string;
}

/** A literal reference value: `Type/id`, a bare `id` (any allowed type), or an absolute/canonical `url`. */
export type ReferenceValue =
  | { readonly kind: 'local'; readonly types: readonly string[]; readonly id: string }
  | { readonly kind: 'url'; readonly url: string };

export type Condition =
  /** string: default = normalised prefix (starts-with), exact = equal to the original value, contains = normalised substring. */
  | { readonly kind: 'string'; readonly param: string; readonly match: 'prefix' | 'exact' | 'contains'; readonly values: readonly string[] }
  /** token; `not` inverts the whole condition (no row matches any value). */
  | { readonly kind: 'token'; readonly param: string; readonly not: boolean; readonly values: readonly TokenValue[] }
  /** token:text, normalised prefix match on display text. */
  | { readonly kind: 'token-text'; readonly param: string; readonly values: readonly string[] }
  | { readonly kind: 'reference'; readonly param: string; readonly values: readonly ReferenceValue[] }
  | { readonly kind: 'reference-identifier'; readonly param: string; readonly values: readonly TokenValue[] }
  | { readonly kind: 'date'; readonly param: string; readonly values: readonly RangeValue[] }
  | { readonly kind: 'number'; readonly param: string; readonly values: readonly RangeValue[] }
  | { readonly kind: 'quantity'; readonly param: string; readonly values: readonly QuantityValue[] }
  | { readonly kind: 'uri'; readonly param: string; readonly match: 'eq' | 'above' | 'below'; readonly values: readonly string[] }
  /** :missing=true (no index row) or :missing=false (at least one). */
  | { readonly kind: 'missing'; readonly param: string; readonly table: IndexTable; readonly missing: boolean }
  /**
   * Composite: each value is a list of component conditions whose params are
   * `<code>$<i>`; all components must match rows with the same `grp`.
   */
  | { readonly kind: 'composite'; readonly param: string; readonly values: readonly (readonly Condition[])[] }
  | { readonly kind: 'id'; readonly values: readonly string[] }
  | { readonly kind: 'last-updated'; readonly values: readonly RangeValue[] }
  /**
   * Chaining (search.html §3.1.1.4.8.5): a reference in `param` points at a resource of one
   * of `targetTypes` that satisfies `condition`.
   */
  | { readonly kind: 'chain'; readonly param: string; readonly targetTypes: readonly string[]; readonly condition: Condition }
  /**
   * Reverse chaining `_has` (§3.1.1.4.9): some `sourceType` resource whose `param` references
   * the candidate satisfies `condition`.
   */
  | { readonly kind: 'has'; readonly sourceType: string; readonly param: string; readonly condition: Condition }
  /**
   * Care dates (`Patient/[id]/$everything?start&end`, fhir/rest/care-dates.ts): a resource
   * of a type listed in `params` matches when one of its date rows under that type's
   * care-date parameters overlaps `range`; a resource of any other type matches (it has no
   * care date: Patient, Coverage, …). Not a URL parameter: only operations build it.
   */
  | { readonly kind: 'care-date'; readonly params: ReadonlyArray<readonly [type: string, codes: readonly string[]]>; readonly range: Range };

export interface SortKey {
  /** A search parameter code, or `_id` / `_lastUpdated`. */
  readonly param: string;
  /** The index table the parameter lives in (ignored for `_id` / `_lastUpdated`). */
  readonly table: IndexTable | 'meta';
  readonly descending: boolean;
}

export interface IncludeSpec {
  readonly sourceType: string;
  /** A reference search parameter code of `sourceType`, or `*` for all of them. */
  readonly param: string;
  /** Restricts the target type (`_include=Observation:subject:Patient`). */
  readonly targetType?: string;
  readonly iterate: boolean;
}

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

export interface SearchQuery {
  /** One type for type-level search; several (or all) for system-level search with `_type`. */
  readonly types: readonly string[];
  readonly conditions: readonly Condition[];
  readonly sort: readonly SortKey[];
  /** Page size, already clamped to the server's limits. */
  readonly count: number;
  readonly total: 'none' | 'estimate' | 'accurate';
  readonly summary?: SummaryMode;
  /** `_elements`: top-level element names to keep (mandatory elements are always kept). */
  readonly elements?: readonly string[];
  readonly include: readonly IncludeSpec[];
  readonly revinclude: readonly IncludeSpec[];
  /** Parameters that were ignored under lenient handling, reported back in the Bundle's OperationOutcome. */
  readonly ignored: readonly string[];
}
