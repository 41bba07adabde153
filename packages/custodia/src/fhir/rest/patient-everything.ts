/**
 * `GET Patient/[id]/$everything` (R4 patient-operation-everything.html): the patient, every
 * resource in their compartment (CompartmentDefinition patient: every version records the
 * compartments it is in), and the resources those reference (`_include=*`: practitioners,
 * organisations, encounters), as a paged searchset. It is a search under the caller's
 * Visibility whose matches must also be in the compartment, so consent, labels and scopes
 * apply to every resource exactly as they do to a search; a patient the caller may not see
 * answers 404 as a read does.
 *
 * Without `_type` it returns the types the caller may search (R4: what "the user is
 * authorized to see"); a `_type` naming one it may not is refused (403) by the guard.
 *
 * Parameters (query text, hostile): `_type` (types to return), `_count` (page size),
 * `_since` (changed at or after this instant), `start` and `end` (care dates, FHIR dates:
 * care-dates.ts). Any other parameter is refused, not ignored: an export silently broader
 * than asked for is worse than an error.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { FhirContext } from './fhir-context.js';
import type { FhirResult } from './fhir-result.js';
import type { RequestOptions } from './fhir-interaction.js';
import type { Visibility } from '../ports/visibility.js';
import { assertId, singleParam } from './resource-input.js';
import { searchResources } from './search-interaction.js';
import { careDateCondition } from './care-dates.js';

const TAKES = new Set(['_type', '_count', '_since', 'start', 'end', '_format', '_pretty']);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * A search restricted to Patient/`id`'s compartment (this operation, and compartment search,
 * `Patient/[id]/[type]`): its matches must also be `in-compartment`, and its self link is
 * the request's own (`path` below Patient/[id]), not the search it is run as.
 */
export function patientCompartmentScope(ctx: FhirContext, id: string, path: string, params: ReadonlyArray<readonly [string, string]>): { within: Visibility; selfUrl: string } {
  const qs = new URLSearchParams(params.filter(([k]) => k !== '_format' && k !== '_pretty') as [string, string][]).toString();
  return { within: { kind: 'in-compartment', compartment: 'Patient', ids: [id] }, selfUrl: `${ctx.baseUrl}/Patient/${id}/${path}${qs === '' ? '' : `?${qs}`}` };
}

/** `searchable`: the types the caller may search, asked for only without `_type` (R4: what "the user is authorized to see"). */
export async function patientEverything(ctx: FhirContext, id: string, params: ReadonlyArray<readonly [string, string]>, options: RequestOptions, searchable: () => readonly string[]): Promise<FhirResult> {
  assertId(id);
  for (const [k] of params) {
    if (!TAKES.has(k)) throw new CustodiaError('search-unsupported', `$everything takes _type, _count, _since, start and end, not ${k.slice(0, 64)}`);
  }
  const one = (name: string): string | undefined => singleParam(params, name, 'search-invalid');
  const since = one('_since');
  if (since !== undefined && !(INSTANT.test(since) && Number.isFinite(Date.parse(since)))) throw new CustodiaError('search-invalid', '_since is an instant such as 2026-01-01T00:00:00Z');
  const careDates = careDateCondition(one('start'), one('end'));
  const patient = await ctx.store.readCurrent('Patient', id, options.visibility);
  if (patient === undefined) throw new CustodiaError('resource-not-found', `Patient/${id} is not known`);
  if (patient.deleted) throw new CustodiaError('resource-gone', `Patient/${id} was deleted`);
  const type = one('_type');
  const count = one('_count');
  const types = type ?? searchable().join(',');
  if (types === '') throw new CustodiaError('forbidden', 'The token does not allow searching any resource type');
  const query: [string, string][] = [
    ['_type', types],
    ...(count === undefined ? [] : [['_count', count] as [string, string]]),
    ...(since === undefined ? [] : [['_lastUpdated', `ge${since}`] as [string, string]]),
    ['_include', '*'],
  ];
  return searchResources(ctx, {
    types: [],
    params: query,
    handling: 'strict',
    owner: options.owner,
    visibility: options.visibility,
    ...patientCompartmentScope(ctx, id, '$everything', params),
    ...(careDates === undefined ? {} : { conditions: [careDates] }),
  });
}
