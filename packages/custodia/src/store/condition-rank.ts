/**
 * Which condition of a search should drive the query. The driving condition is read
 * through the `(res_type, param, value)` index (`pk IN (SELECT …)`); every other
 * condition is a correlated probe through the `(res_pk, param)` index
 * (`EXISTS (SELECT 1 … WHERE res_pk = r.pk …)`). Materialising every condition in full
 * (an IN list each) costs ten times more on `family=smi&birthdate=ge1950` than probing
 * the date for the few rows the family prefix finds.
 *
 * Lower rank = more selective, by the shape of the predicate alone (no statistics):
 * equality lookups first, ranges next, negations never.
 */
import type { Condition } from '../fhir/index.js';

export const NEVER_DRIVES = 100;

export function rankCondition(c: Condition): number {
  switch (c.kind) {
    case 'id':
      return 0;
    case 'reference':
      return 1;
    case 'reference-identifier':
      return 2;
    case 'token':
      if (c.not) return NEVER_DRIVES;
      // Many alternatives are a range in disguise (a sealed birth-date range becomes hundreds of year, month and day tokens).
      if (c.values.length > 16) return 7;
      return c.values.every((v) => v.code !== undefined) ? 2 : 6;
    case 'string':
      if (c.match === 'exact') return 3;
      if (c.match === 'contains') return 8;
      return c.values.every((v) => v.length >= 3) ? 4 : 6;
    case 'uri':
      return c.match === 'eq' ? 3 : 5;
    case 'composite':
      return 3;
    case 'chain':
    case 'has':
      return 4;
    case 'quantity':
    case 'number':
      return 5;
    case 'token-text':
      return 6;
    case 'date':
    case 'last-updated':
      return 7;
    case 'missing':
    // Matches every resource of an undated type: no index lookup can list its matches.
    case 'care-date':
      return NEVER_DRIVES;
  }
}

/** The index of the condition that drives, or -1 when none should (all probes). */
export function pickDriver(conditions: readonly Condition[]): number {
  let best = -1;
  let bestRank = NEVER_DRIVES;
  conditions.forEach((c, i) => {
    const rank = rankCondition(c);
    if (rank < bestRank) {
      best = i;
      bestRank = rank;
    }
  });
  return best;
}
