/**
 * history at instance, type and system level (R4 http.html §3.1.0.9), newest first.
 * Paging is by offset within a pinned upper time (`_until`, set by the first page), so
 * versions written while a client pages do not shift the pages; versions are immutable.
 */
import { CustodiaError, uuidV4 } from '../../kernel/index.js';
import type { HistoryFilter, StoredVersion } from '../ports/resource-store.js';
import type { Visibility } from '../ports/visibility.js';
import type { FhirContext } from './fhir-context.js';
import { etagOf, statusLine, type FhirResult } from './fhir-result.js';
import { bundleJson, type BundleEntryJson } from './bundle-json.js';
import { assertId, assertResourceType } from './resource-input.js';

export interface HistoryRequest {
  readonly type?: string;
  readonly id?: string;
  readonly params: ReadonlyArray<readonly [string, string]>;
  readonly visibility: Visibility;
}

/** An instant as FHIR writes it; `_since` must carry a time and zone (R4 http.html §3.1.0.9). Input is attacker-controlled. */
function parseInstant(value: string, name: string): number {
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value);
  const ms = ok ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new CustodiaError('search-invalid', `${name} must be a FHIR instant such as 2024-01-31T12:00:00Z`);
  return ms;
}

function parseCount(value: string, max: number): number {
  if (!/^\d{1,15}$/.test(value)) throw new CustodiaError('search-invalid', 'Paging parameters must be non-negative integers');
  return Math.min(Number(value), max);
}

export async function historyResources(ctx: FhirContext, req: HistoryRequest): Promise<FhirResult> {
  if (req.type !== undefined) assertResourceType(ctx, req.type);
  if (req.id !== undefined) assertId(req.id);
  const now = ctx.clock.now();
  let count = ctx.limits.defaultCount;
  let offset = 0;
  let since: number | undefined;
  let until = now;
  for (const [name, value] of req.params) {
    if (name === '_count') count = parseCount(value, ctx.limits.maxCount);
    else if (name === '_since') since = parseInstant(value, '_since');
    else if (name === '_getpagesoffset') offset = parseCount(value, Number.MAX_SAFE_INTEGER);
    else if (name === '_until') until = Math.min(parseCount(value, Number.MAX_SAFE_INTEGER), now);
    else if (name === '_format' || name === '_pretty') continue;
    else throw new CustodiaError('search-unsupported', `History does not support the parameter ${name}`);
  }
  const filter: HistoryFilter = {
    ...(req.type === undefined ? {} : { type: req.type }),
    ...(req.id === undefined ? {} : { id: req.id }),
    ...(since === undefined ? {} : { since }),
    until,
  };
  if (req.type !== undefined && req.id !== undefined && (await ctx.store.readCurrent(req.type, req.id, req.visibility)) === undefined) {
    throw new CustodiaError('resource-not-found', `${req.type}/${req.id} is not known`);
  }
  const total = await ctx.store.countHistory(filter, req.visibility);
  const versions = count === 0 ? [] : await ctx.store.history(filter, count, offset, req.visibility);
  const path = [ctx.baseUrl, req.type, req.id, '_history'].filter((p) => p !== undefined).join('/');
  const link = historyLinks(path, count, offset, total, since, until);
  const body = bundleJson({ type: 'history', id: uuidV4(ctx.random), timestamp: new Date(now).toISOString(), total, link }, versions.map((v) => entryOf(ctx, v)));
  return { status: 200, body, returned: versions };
}

function historyLinks(path: string, count: number, offset: number, total: number, since: number | undefined, until: number): { relation: string; url: string }[] {
  const url = (o: number): string => {
    const p = new URLSearchParams({ _count: String(count), _getpagesoffset: String(o), _until: String(until) });
    if (since !== undefined) p.set('_since', new Date(since).toISOString());
    return `${path}?${p.toString()}`;
  };
  const links = [{ relation: 'self', url: url(offset) }];
  if (count === 0) return links;
  if (offset > 0) links.push({ relation: 'previous', url: url(Math.max(0, offset - count)) });
  if (offset + count < total) links.push({ relation: 'next', url: url(offset + count) });
  return links;
}

function entryOf(ctx: FhirContext, v: StoredVersion): BundleEntryJson {
  const lastModified = new Date(v.lastUpdated).toISOString();
  const etag = etagOf(v.versionId);
  if (v.deleted) {
    return {
      fullUrl: `${ctx.baseUrl}/${v.type}/${v.id}`,
      request: { method: 'DELETE', url: `${v.type}/${v.id}` },
      response: { status: statusLine(204), etag, lastModified },
    };
  }
  const status = v.versionId === 1 ? 201 : 200;
  return {
    fullUrl: `${ctx.baseUrl}/${v.type}/${v.id}`,
    resource: v.json ?? undefined,
    request: { method: v.method, url: v.method === 'POST' ? v.type : `${v.type}/${v.id}` },
    response: { status: statusLine(status), etag, lastModified, location: `${v.type}/${v.id}/_history/${v.versionId}` },
  } as BundleEntryJson;
}
