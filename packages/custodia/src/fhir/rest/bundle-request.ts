/**
 * The envelope of a batch or transaction Bundle (R4 http.html §3.1.0.11): its type and
 * each entry's request, turned into interactions. The Bundle is attacker-controlled;
 * entries are bounded in number and their URLs must stay below this server's base.
 */
import { CustodiaError, isCustodiaError } from '../../kernel/index.js';
import { isJsonObject } from '../resource.js';
import type { FhirContext } from './fhir-context.js';
import type { FhirInteraction } from './fhir-interaction.js';
import { parseInteraction } from './parse-interaction.js';
import { patchOfEntry } from './resource-patch.js';

export interface BundleEntryRequest {
  readonly index: number;
  readonly fullUrl?: string;
  readonly method: string;
  /** The entry's request.url relative to the base (e.g. `Patient/1`, `Observation?code=x`). */
  readonly url: string;
  readonly resource?: unknown;
  readonly interaction: FhirInteraction;
}

export interface BundleRequest {
  readonly type: 'batch' | 'transaction';
  readonly entries: readonly BundleEntryRequest[];
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']);

function invalid(message: string, expression?: string): never {
  throw new CustodiaError('bundle-invalid', message, { issues: [{ diagnostics: message, ...(expression === undefined ? {} : { expression: [expression] }) }] });
}

function relativeUrl(ctx: FhirContext, url: string, where: string): string {
  if (url.length > 8192) invalid('request.url is too long', where);
  if (url.startsWith(`${ctx.baseUrl}/`)) return url.slice(ctx.baseUrl.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) invalid('request.url must be relative to this server', where);
  return url.startsWith('/') ? url.slice(1) : url;
}

export function parseBundleRequest(ctx: FhirContext, body: unknown): BundleRequest {
  if (!isJsonObject(body) || body['resourceType'] !== 'Bundle') invalid('POST to the base URL takes a batch or transaction Bundle', 'Bundle');
  const type = body['type'];
  if (type !== 'batch' && type !== 'transaction') invalid('Bundle.type must be batch or transaction', 'Bundle.type');
  const rawEntries = body['entry'] ?? [];
  if (!Array.isArray(rawEntries)) invalid('Bundle.entry must be an array', 'Bundle.entry');
  if (rawEntries.length > ctx.limits.maxBundleEntries) invalid(`A Bundle may hold at most ${ctx.limits.maxBundleEntries} entries`, 'Bundle.entry');
  const entries = rawEntries.map((e: unknown, index: number): BundleEntryRequest => {
    const where = `Bundle.entry[${index}]`;
    if (!isJsonObject(e)) invalid('Each entry must be an object', where);
    const req = e['request'];
    if (!isJsonObject(req)) invalid('Each entry needs a request', `${where}.request`);
    const method = req['method'];
    const url = req['url'];
    if (typeof method !== 'string' || !METHODS.has(method)) invalid('request.method must be GET, HEAD, POST, PUT, DELETE or PATCH', `${where}.request.method`);
    if (typeof url !== 'string' || url === '') invalid('request.url is required', `${where}.request.url`);
    const rel = relativeUrl(ctx, url, `${where}.request.url`);
    const q = rel.indexOf('?');
    const fullUrl = e['fullUrl'];
    if (fullUrl !== undefined && typeof fullUrl !== 'string') invalid('fullUrl must be a string', `${where}.fullUrl`);
    const ifMatch = req['ifMatch'];
    const ifNoneExist = req['ifNoneExist'];
    let interaction: FhirInteraction;
    try {
      interaction = parseInteraction({
        method,
        path: q < 0 ? rel : rel.slice(0, q),
        query: q < 0 ? '' : rel.slice(q + 1),
        body: method === 'PATCH' ? patchOfEntry(e['resource']) : e['resource'],
        ...(typeof ifMatch === 'string' ? { ifMatch } : {}),
        ...(typeof ifNoneExist === 'string' ? { ifNoneExist } : {}),
      });
    } catch (err) {
      if (isCustodiaError(err)) invalid(`${where}: ${err.message}`, `${where}.request`);
      throw err;
    }
    return { index, method, url: rel, resource: e['resource'], interaction, ...(fullUrl === undefined ? {} : { fullUrl }) };
  });
  return { type, entries };
}

/** `Patient.name[0]` inside entry i becomes `Bundle.entry[i].resource.name[0]`. */
function inEntry(where: string, x: string): string {
  if (x.startsWith('Bundle.entry[')) return x;
  const rest = /^[A-Z][A-Za-z]+(\.|$)/.test(x) ? x.replace(/^[A-Z][A-Za-z]+\.?/, '') : x;
  return rest === '' ? `${where}.resource` : `${where}.resource.${rest}`;
}

/** Prefixes the locations of an entry's error with the entry's path. */
export function atEntry(index: number, e: unknown): unknown {
  if (!isCustodiaError(e)) return e;
  const where = `Bundle.entry[${index}]`;
  const issues = (e.issues.length > 0 ? e.issues : [{ diagnostics: e.message }]).map((i) => ({
    ...i,
    diagnostics: `${where}: ${i.diagnostics}`,
    expression: i.expression === undefined ? [where] : i.expression.map((x) => inEntry(where, x)),
  }));
  return new CustodiaError(e.code, `${where}: ${e.message}`, { issues, cause: e });
}
