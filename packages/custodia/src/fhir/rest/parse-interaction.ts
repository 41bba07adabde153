/**
 * Maps method + path below the FHIR base + query + headers to a FhirInteraction
 * (R4 http.html §3.1.0 "RESTful API" summary table). Everything here is
 * attacker-controlled; nothing is trusted beyond its shape.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { FhirInteraction, Projection, UnlessChanged } from './fhir-interaction.js';
import { parseElements, parseSummary } from '../search/parse-result-params.js';
import { parseEtag } from './fhir-result.js';
import { assertId, singleParam } from './resource-input.js';

export interface RawFhirRequest {
  readonly method: string;
  /** Path below the FHIR base, without the leading slash and without the query (e.g. `Patient/123`). */
  readonly path: string;
  /** The raw query string without `?` (may be empty). */
  readonly query: string;
  readonly body: unknown;
  /** For POST _search with application/x-www-form-urlencoded bodies: the body's parameters. */
  readonly formParams?: ReadonlyArray<readonly [string, string]>;
  readonly ifMatch?: string;
  readonly ifNoneExist?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
}

const MAX_SEGMENTS = 4;

function params(query: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of new URLSearchParams(query)) out.push([k, v]);
  return out;
}

/** `_summary` and `_elements` of a read (hostile query text: each given once, parsed as search parses them). */
function projectionOf(q: readonly (readonly [string, string])[]): { projection?: Projection } {
  const rawSummary = singleParam(q, '_summary');
  const rawElements = singleParam(q, '_elements');
  const summary = rawSummary === undefined ? undefined : parseSummary(rawSummary);
  if (summary === 'count') throw new CustodiaError('request-malformed', '_summary=count is for searches; a read returns one resource');
  const elements = rawElements === undefined ? undefined : parseElements(rawElements);
  if ((summary === undefined || summary === 'false') && (elements === undefined || elements.length === 0)) return {};
  return { projection: { ...(summary === undefined || summary === 'false' ? {} : { summary }), ...(elements === undefined ? {} : { elements }) } };
}

/**
 * Conditional read (RFC 9110 §13.1.2–3): If-None-Match (`*` or a list of ETags) and
 * If-Modified-Since (an HTTP date), both header text from the client. A malformed value
 * is ignored, as RFC 9110 has it for dates; the read is then unconditional.
 */
function unlessChanged(raw: RawFhirRequest): { unlessChanged?: UnlessChanged } {
  if (raw.ifNoneMatch !== undefined && raw.ifNoneMatch.length <= 1024) {
    const text = raw.ifNoneMatch.trim();
    if (text === '*') return { unlessChanged: { versions: '*' } };
    const versions = text.split(',').slice(0, 64).map((t) => parseEtag(t)).filter((v): v is number => v !== undefined);
    if (versions.length > 0) return { unlessChanged: { versions } };
  }
  // If-Modified-Since counts only without If-None-Match (RFC 9110 §13.1.3).
  if (raw.ifNoneMatch === undefined && raw.ifModifiedSince !== undefined && raw.ifModifiedSince.length <= 64) {
    const at = Date.parse(raw.ifModifiedSince);
    if (Number.isFinite(at)) return { unlessChanged: { since: at } };
  }
  return {};
}

function notAllowed(method: string): never {
  throw new CustodiaError('method-not-allowed', `${method} is not allowed on this URL`);
}

function ifMatchOf(raw: RawFhirRequest): number | undefined {
  if (raw.ifMatch === undefined) return undefined;
  const v = parseEtag(raw.ifMatch);
  if (v === undefined) throw new CustodiaError('request-malformed', 'If-Match must be an ETag such as W/"3"');
  return v;
}

function pageOf(p: [string, string][]): FhirInteraction | undefined {
  const get = (name: string): string | undefined => p.find(([k]) => k === name)?.[1];
  const pageId = get('_getpages');
  if (pageId === undefined) return undefined;
  const int = (v: string | undefined, dflt: number): number => (v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : dflt);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(pageId)) throw new CustodiaError('page-expired', 'This paging link has expired; run the search again');
  return { kind: 'page', pageId, offset: int(get('_getpagesoffset'), 0), count: int(get('_count'), 20) };
}

export function parseInteraction(raw: RawFhirRequest): FhirInteraction {
  const method = raw.method === 'HEAD' ? 'GET' : raw.method;
  const segments = raw.path === '' ? [] : raw.path.split('/');
  if (segments.length > MAX_SEGMENTS || segments.some((s) => s === '')) throw new CustodiaError('resource-not-found', 'No such FHIR endpoint');
  const seg = segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new CustodiaError('request-malformed', 'The URL is not well formed');
    }
  });
  const q = params(raw.query);
  const [a, b, c, d] = seg;
  const op = seg.findIndex((s) => s.startsWith('$'));
  if (op >= 0) {
    // `$name`, `Type/$name`, `Type/id/$name` (R4 operations.html); anything longer names no type or instance.
    const last = op === seg.length - 1;
    // $everything reads: GET (HEAD) only; it takes no Parameters body.
    if (seg[op] === '$everything' && method !== 'GET' && method !== 'HEAD') return notAllowed(method);
    return { kind: 'operation', name: seg[op]!, ...(last && op >= 1 ? { type: a! } : {}), ...(last && op === 2 ? { id: b! } : {}), params: q };
  }

  if (a === undefined) {
    if (method === 'GET') return pageOf(q) ?? { kind: 'search', types: [], params: q };
    if (method === 'POST') return { kind: 'bundle', body: raw.body };
    return notAllowed(method);
  }
  if (seg.length === 1 && a === 'metadata') return method === 'GET' ? { kind: 'capabilities' } : notAllowed(method);
  if (seg.length === 1 && a === '_history') return method === 'GET' ? { kind: 'history', params: q } : notAllowed(method);
  if (seg.length === 1 && a === '_search') return method === 'POST' ? { kind: 'search', types: [], params: [...q, ...(raw.formParams ?? [])] } : notAllowed(method);
  const type = a;
  if (b === undefined) {
    switch (method) {
      case 'GET':
        return { kind: 'search', types: [type], params: q };
      case 'POST':
        return raw.ifNoneExist === undefined ? { kind: 'create', type, body: raw.body } : { kind: 'create', type, body: raw.body, ifNoneExist: raw.ifNoneExist };
      case 'PUT': {
        if (raw.query === '') return notAllowed(method);
        const ifMatch = ifMatchOf(raw);
        return ifMatch === undefined ? { kind: 'conditional-update', type, query: raw.query, body: raw.body } : { kind: 'conditional-update', type, query: raw.query, body: raw.body, ifMatch };
      }
      case 'DELETE':
        return raw.query === '' ? notAllowed(method) : { kind: 'conditional-delete', type, query: raw.query };
      default:
        return notAllowed(method);
    }
  }
  if (c === undefined) {
    if (b === '_search') return method === 'POST' ? { kind: 'search', types: [type], params: [...q, ...(raw.formParams ?? [])] } : notAllowed(method);
    if (b === '_history') return method === 'GET' ? { kind: 'history', type, params: q } : notAllowed(method);
    const id = b;
    switch (method) {
      case 'GET':
        return { kind: 'read', type, id, ...projectionOf(q), ...unlessChanged(raw) };
      case 'PUT': {
        const ifMatch = ifMatchOf(raw);
        return ifMatch === undefined ? { kind: 'update', type, id, body: raw.body } : { kind: 'update', type, id, body: raw.body, ifMatch };
      }
      case 'DELETE':
        return { kind: 'delete', type, id };
      case 'PATCH': {
        const ifMatch = ifMatchOf(raw);
        return ifMatch === undefined ? { kind: 'patch', type, id, body: raw.body } : { kind: 'patch', type, id, body: raw.body, ifMatch };
      }
      default:
        return notAllowed(method);
    }
  }
  if (c !== '_history') {
    // Compartment search (R4 http.html §3.1.0.8, compartmentdefinition.html): GET [base]/Patient/[id]/[type] or /*.
    if (d !== undefined || method !== 'GET') throw new CustodiaError('resource-not-found', 'No such FHIR endpoint');
    if (type !== 'Patient') throw new CustodiaError('not-supported', 'Only the Patient compartment can be searched');
    // Hostile URL text that goes into the search as a value: a FHIR id or nothing.
    assertId(b);
    return { kind: 'search', types: c === '*' ? [] : [c], params: q, compartment: { type: 'Patient', id: b } };
  }
  if (method !== 'GET') return notAllowed(method);
  if (d === undefined) return { kind: 'history', type, id: b, params: q };
  return { kind: 'vread', type, id: b, version: d, ...projectionOf(q) };
}
