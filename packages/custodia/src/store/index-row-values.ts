/**
 * The column values of a version's index rows, per table, in the column order of
 * `bulk-insert.ts` (after res_pk and res_type). Shared by both write paths so that
 * SQLite and PostgreSQL store exactly the same rows.
 */
import type { IndexRows } from '../fhir/index.js';

export type IndexKind = keyof IndexRows;

export const INDEX_KINDS: readonly IndexKind[] = ['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri'];

/** Values after (res_pk, res_type): param, grp, then the table's own columns. */
export function indexRowValues(ix: IndexRows, kind: IndexKind): unknown[][] {
  switch (kind) {
    case 'string':
      return ix.string.map((r) => [r.param, r.grp, r.value, r.exact, r.tail ?? null]);
    case 'token':
      return ix.token.map((r) => [r.param, r.grp, r.system, r.code, r.text]);
    case 'reference':
      return ix.reference.map((r) => [r.param, r.grp, r.targetType, r.targetId, r.url, r.identifierSystem, r.identifierValue]);
    case 'date':
      return ix.date.map((r) => [r.param, r.grp, r.lo, r.hi]);
    case 'number':
      return ix.number.map((r) => [r.param, r.grp, r.lo, r.hi]);
    case 'quantity':
      return ix.quantity.map((r) => [r.param, r.grp, r.system, r.code, r.unit, r.lo, r.hi]);
    case 'uri':
      return ix.uri.map((r) => [r.param, r.grp, r.value]);
  }
}
