/**
 * Search index rows: the values a resource version exposes to search, one table per
 * parameter type (FHIR R4 search.html §3.1.1.4). They are derived from the resource by
 * `extractIndexRows` and written in the same transaction as the version they index.
 *
 * `param` is the search parameter code (`family`, `code`, …). Components of composite
 * parameters are indexed as `<composite-code>$<component-index>` with a shared `grp`
 * (> 0) per element occurrence, so that `code-value-quantity` can require both
 * components to come from the same `Observation.component`. Plain rows have `grp = 0`.
 *
 * Ranges are closed intervals. Dates are epoch milliseconds (UTC when the value has no
 * offset); numbers and quantities are plain numbers. Unbounded ends use
 * `RANGE_MIN`/`RANGE_MAX`.
 */
export const RANGE_MIN = -8.64e15;
export const RANGE_MAX = 8.64e15;

export interface StringRow {
  readonly param: string;
  readonly grp: number;
  /** Normalised for default and :contains matching: lower case, accents removed, spaces collapsed. */
  readonly value: string;
  /** The original value, for :exact. */
  readonly exact: string;
  /** Only on stored blind prefix rows: the blind indexes of longer prefixes (store/blind-search.ts). */
  readonly tail?: string;
}

export interface TokenRow {
  readonly param: string;
  readonly grp: number;
  /** null when the coding/identifier has no system. */
  readonly system: string | null;
  readonly code: string | null;
  /** Normalised display/text, for :text. */
  readonly text: string | null;
}

export interface ReferenceRow {
  readonly param: string;
  readonly grp: number;
  /** For literal references to a resource: its type and id (relative or our own base). */
  readonly targetType: string | null;
  readonly targetId: string | null;
  /** Absolute URLs and canonicals that do not point into this server, version stripped. */
  readonly url: string | null;
  /** Reference.identifier, for the :identifier modifier. */
  readonly identifierSystem: string | null;
  readonly identifierValue: string | null;
}

export interface DateRow {
  readonly param: string;
  readonly grp: number;
  readonly lo: number;
  readonly hi: number;
}

export interface NumberRow {
  readonly param: string;
  readonly grp: number;
  readonly lo: number;
  readonly hi: number;
}

export interface QuantityRow {
  readonly param: string;
  readonly grp: number;
  readonly system: string | null;
  readonly code: string | null;
  readonly unit: string | null;
  readonly lo: number;
  readonly hi: number;
}

export interface UriRow {
  readonly param: string;
  readonly grp: number;
  readonly value: string;
}

export interface IndexRows {
  readonly string: StringRow[];
  readonly token: TokenRow[];
  readonly reference: ReferenceRow[];
  readonly date: DateRow[];
  readonly number: NumberRow[];
  readonly quantity: QuantityRow[];
  readonly uri: UriRow[];
}

export type IndexTable = keyof IndexRows;

export function emptyIndexRows(): IndexRows {
  return { string: [], token: [], reference: [], date: [], number: [], quantity: [], uri: [] };
}
