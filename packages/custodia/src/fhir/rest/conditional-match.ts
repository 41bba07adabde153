/**
 * Conditional interactions match with a search (R4 http.html §3.1.0.5.5, §3.1.0.4.3,
 * §3.1.0.7.1). Unknown parameters are always an error here: ignoring one would widen the
 * match and could overwrite or delete the wrong record.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { ResourceReader, StoredVersion } from '../ports/resource-store.js';
import type { Visibility } from '../ports/visibility.js';
import type { FhirContext } from './fhir-context.js';

/** Parses `a=1&b=2` (the part after `?`). Input is attacker-controlled. */
export function parseQueryString(query: string): [string, string][] {
  const params = new URLSearchParams(query);
  const out: [string, string][] = [];
  for (const [k, v] of params) out.push([k, v]);
  return out;
}

/** The keys of up to `limit` resources the criteria match, as the caller sees them. */
async function matchKeys(ctx: FhirContext, reader: ResourceReader, type: string, params: [string, string][], visibility: Visibility, limit: number): Promise<readonly number[]> {
  if (params.length === 0) throw new CustodiaError('search-invalid', 'A conditional operation needs search parameters');
  const query = ctx.search.parse([type], params, 'strict');
  return (await reader.search({ ...query, count: limit, total: 'none', sort: [] }, limit, visibility)).keys;
}

/** Up to two matches: enough to tell none, one and many apart. */
export async function findMatches(ctx: FhirContext, reader: ResourceReader, type: string, params: [string, string][], visibility: Visibility): Promise<StoredVersion[]> {
  return reader.loadByKeys(await matchKeys(ctx, reader, type, params, visibility, 2), visibility);
}

/**
 * Whether a conditional create or update finds nothing to match now, before its
 * transaction: a hint that it will create, so that keys-ahead.ts may make the new
 * patient's key before the write lock. Only a hint: the transaction matches again under
 * the lock, and that match decides (a match made in between leaves one key that seals
 * nothing). Criteria the transaction would refuse, or a search that fails, count as a
 * match here: nothing is made ahead, and the transaction reports the error as before.
 * Nothing of the result reaches the caller. `query` is attacker-controlled, as in findMatches.
 */
export async function noMatchYet(ctx: FhirContext, reader: ResourceReader, type: string, query: string, visibility: Visibility): Promise<boolean> {
  try {
    return (await matchKeys(ctx, reader, type, parseQueryString(query), visibility, 1)).length === 0;
  } catch {
    return false;
  }
}

/** Exactly one match, or the error the spec asks for. */
export function singleMatch(matches: StoredVersion[], what: string): StoredVersion | undefined {
  if (matches.length > 1) throw new CustodiaError('multiple-matches', `The ${what} criteria match more than one resource`);
  return matches[0];
}
