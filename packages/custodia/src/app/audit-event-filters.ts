/**
 * The AuditEvent search parameters that look inside an event (R4 auditevent.html, "Search
 * Parameters"): what a privacy officer asks first — everything one user or app did
 * (`agent`, `agent:identifier`), everything done to one record (`entity`), the refusals
 * (`outcome`), the changes (`action`), an interaction or security event (`type`,
 * `subtype`), from one network (`address`), with one bearer token (`policy`: its id as
 * `urn:ietf:params:oauth:jti:<jti>`, IHE BALP; finds the token's issuance and every use).
 *
 * They are matched against the AuditEvent as the caller receives it (auditEventResource
 * with the caller's view), never the sealed record, so that a patient cannot find by a
 * filter what their view leaves out (another patient acting, other patients' resources).
 * Repeated parameters narrow each other (AND); a comma separates alternatives (OR); R4
 * search.html §3.1.1.4.9–11 for references, tokens and strings. Values are split and
 * unescaped (`\,`, `\|`) as every other search value is (fhir/search).
 *
 *   AuditEvent?agent=Practitioner/dr1&outcome=4,8&date=ge2026-11-01
 *   AuditEvent?agent:identifier=https://custodia.dev/fhir/NamingSystem/client|app1
 *   AuditEvent?entity=Observation/o1&action=R
 *   AuditEvent?policy=urn:ietf:params:oauth:jti:4f0c…
 */
import { CustodiaError } from '../kernel/index.js';
import { parseTokenValue, splitUnescaped, unescapeValue, type TokenValue } from '../fhir/index.js';

type Params = ReadonlyArray<readonly [string, string]>;
type Json = Record<string, unknown>;

/** Whether an AuditEvent, as the caller would receive it, matches. */
export type EventFilter = (event: Json) => boolean;

export const FILTER_PARAMS: readonly string[] = ['agent', 'agent:identifier', 'entity', 'action', 'outcome', 'type', 'subtype', 'address', 'policy'];

/** At most this many alternatives in one value, of at most this many characters each. */
const MAX_ALTERNATIVES = 20;
const MAX_VALUE = 256;
const REFERENCE = /^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

const invalid = (message: string): CustodiaError => new CustodiaError('search-invalid', message);

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const object = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The alternatives of one value (escapes kept): hostile text, bounded before it is split. */
function alternatives(name: string, value: string): string[] {
  if (value.length === 0 || value.length > MAX_ALTERNATIVES * (MAX_VALUE + 1)) throw invalid(`${name} needs a value of at most ${MAX_VALUE} characters per alternative`);
  const parts = splitUnescaped(value, ',', MAX_ALTERNATIVES);
  if (parts === undefined || parts.some((p) => p.length === 0 || p.length > MAX_VALUE)) {
    throw invalid(`${name} takes at most ${MAX_ALTERNATIVES} comma-separated values of 1 to ${MAX_VALUE} characters`);
  }
  return parts;
}

/** A reference value: `Type/id`, `Type/id/_history/v`, or either after this vault's base. */
function referenceValues(name: string, value: string, baseUrl: string): string[] {
  return alternatives(name, value).map((escaped) => {
    const v = unescapeValue(escaped);
    const r = v.startsWith(`${baseUrl}/`) ? v.slice(baseUrl.length + 1) : v;
    if (!REFERENCE.test(r)) throw invalid(`${name} is a reference such as Practitioner/123`);
    return r;
  });
}

/** R4 search.html §3.1.1.4.10: a reference to `Type/id` also matches its versions. */
const refers = (reference: string | undefined, wanted: string): boolean =>
  reference !== undefined && (reference === wanted || (!wanted.includes('/_history/') && reference.startsWith(`${wanted}/_history/`)));

/** Tokens (§3.1.1.4.11): `code`, `system|code`, `|code` (system null: none), `system|` (any code of the system). */
const tokenValues = (name: string, value: string): TokenValue[] => alternatives(name, value).map((v) => parseTokenValue(name, v));

function codingMatches(coding: unknown, t: TokenValue): boolean {
  const c = object(coding);
  const system = text(c['system']);
  if (t.system !== undefined && (t.system === null ? system !== undefined : system !== t.system)) return false;
  return t.code === undefined || text(c['code']) === t.code;
}

/** A `code` element (action, outcome) has no system of its own: `|code` and `code` both match it. */
const codeMatches = (code: unknown, t: TokenValue): boolean => t.code !== undefined && text(code) === t.code && (t.system === undefined || t.system === null);

const agents = (e: Json): Json[] => list(e['agent']).map(object);

/** The filter of one parameter occurrence. */
function filterOf(name: string, value: string, baseUrl: string): EventFilter {
  switch (name) {
    case 'agent': {
      const wanted = referenceValues(name, value, baseUrl);
      return (e) => agents(e).some((a) => wanted.some((w) => refers(text(object(a['who'])['reference']), w)));
    }
    case 'agent:identifier': {
      const wanted = tokenValues(name, value);
      return (e) => agents(e).some((a) => wanted.some((t) => {
        const id = object(object(a['who'])['identifier']);
        return codingMatches({ system: id['system'], code: id['value'] }, t);
      }));
    }
    case 'entity': {
      const wanted = referenceValues(name, value, baseUrl);
      return (e) => list(e['entity']).some((x) => wanted.some((w) => refers(text(object(object(x)['what'])['reference']), w)));
    }
    case 'action':
    case 'outcome': {
      const wanted = tokenValues(name, value);
      return (e) => wanted.some((t) => codeMatches(e[name], t));
    }
    case 'type': {
      const wanted = tokenValues(name, value);
      return (e) => wanted.some((t) => codingMatches(e['type'], t));
    }
    case 'subtype': {
      const wanted = tokenValues(name, value);
      return (e) => list(e['subtype']).some((c) => wanted.some((t) => codingMatches(c, t)));
    }
    case 'policy': {
      // A uri parameter: matched exactly (R4 search.html §3.1.1.4.13), against AuditEvent.agent.policy.
      const wanted = alternatives(name, value).map(unescapeValue);
      return (e) => agents(e).some((a) => list(a['policy']).some((p) => typeof p === 'string' && wanted.includes(p)));
    }
    default: {
      // address: a string parameter, matched case-insensitively at the start (§3.1.1.4.7).
      const wanted = alternatives(name, value).map((v) => unescapeValue(v).toLowerCase());
      return (e) => agents(e).some((a) => {
        const address = text(object(a['network'])['address'])?.toLowerCase();
        return address !== undefined && wanted.some((w) => address.startsWith(w));
      });
    }
  }
}

/**
 * The event filters of a search, with the parameters as understood (for page links).
 *
 * @example
 *   parseEventFilters([['agent', 'Practitioner/dr1'], ['outcome', '4,8']], base).filters.length // 2
 */
export function parseEventFilters(params: Params, baseUrl: string): { filters: EventFilter[]; used: [string, string][] } {
  const filters: EventFilter[] = [];
  const used: [string, string][] = [];
  for (const [name, value] of params) {
    if (!FILTER_PARAMS.includes(name)) continue;
    filters.push(filterOf(name, value, baseUrl));
    used.push([name, value]);
  }
  return { filters, used };
}
