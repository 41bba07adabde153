/**
 * history at instance, type and system level (R4 http.html §3.1.0.9), newest first.
 * Pages are keyset pages within a pinned upper time (`_until`, set by the first page):
 * `next` names the last version of its page (`_cursor=Type/id/versionId`, all of it
 * shown to the caller already), and the store starts after it, so versions written while
 * a client pages do not shift the pages and a deep page costs what the first does. The
 * total is counted on the first page only (not at all with `_total=none`): counting is
 * a walk of the whole history, and Bundle.total is optional.
 */
import { CustodiaError, uuidV4 } from '../../kernel/index.js';
import type { HistoryCursor, HistoryFilter, StoredVersion } from '../ports/resource-store.js';
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

/**
 * `Type/id/versionId`, as the vault's own `next` links write it. Attacker-controlled: a
 * cursor that is not of that shape is refused like one that names nothing the caller
 * may see, so a forged cursor tells nothing.
 */
function parseCursor(ctx: FhirContext, value: string): HistoryCursor {
  const m = /^([A-Za-z]{1,64})\/([A-Za-z0-9\-.]{1,64})\/([1-9]\d{0,8})$/.exec(value);
  if (m === null || !ctx.validator.isResourceType(m[1]!)) throw expiredCursor();
  return { type: m[1]!, id: m[2]!, versionId: Number(m[3]) };
}

const expiredCursor = (): CustodiaError => new CustodiaError('page-expired', 'This paging link has expired; ask for the history again');

export async function historyResources(ctx: FhirContext, req: HistoryRequest): Promise<FhirResult> {
  if (req.type !== undefined) assertResourceType(ctx, req.type);
  if (req.id !== undefined) assertId(req.id);
  const now = ctx.clock.now();
  let count = ctx.limits.defaultCount;
  let cursor: HistoryCursor | undefined;
  let since: number | undefined;
  let until = now;
  let counted = true;
  for (const [name, value] of req.params) {
    if (name === '_count') count = parseCount(value, ctx.limits.maxCount);
    else if (name === '_since') since = parseInstant(value, '_since');
    else if (name === '_cursor') cursor = parseCursor(ctx, value);
    else if (name === '_until') until = Math.min(parseCount(value, Number.MAX_SAFE_INTEGER), now);
    else if (name === '_total') counted = parseTotal(value);
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
  const total = counted && cursor === undefined ? await ctx.store.countHistory(filter, req.visibility) : undefined;
  // One version more than the page shows tells whether there is a next page.
  const found = count === 0 ? [] : await ctx.store.history(filter, count + 1, cursor, req.visibility);
  if (found === undefined) throw expiredCursor();
  const versions = found.slice(0, count);
  const last = versions.length === count && found.length > count ? versions[count - 1] : undefined;
  const path = [ctx.baseUrl, req.type, req.id, '_history'].filter((p) => p !== undefined).join('/');
  const link = historyLinks(path, { count, since, until, counted }, cursor, last);
  const body = bundleJson({ type: 'history', id: uuidV4(ctx.random), timestamp: new Date(now).toISOString(), ...(total === undefined ? {} : { total }), link }, versions.map((v) => entryOf(ctx, v)));
  return { status: 200, body, returned: versions };
}

/** `_total` as search takes it (R4 search.html, "_total"): only `none` changes anything here. */
function parseTotal(value: string): boolean {
  if (value === 'none') return false;
  if (value === 'estimate' || value === 'accurate') return true;
  throw new CustodiaError('search-invalid', '_total must be none, estimate or accurate');
}

interface PageShape {
  readonly count: number;
  readonly since: number | undefined;
  readonly until: number;
  readonly counted: boolean;
}

function historyLinks(path: string, shape: PageShape, cursor: HistoryCursor | undefined, last: StoredVersion | undefined): { relation: string; url: string }[] {
  const url = (at: HistoryCursor | undefined): string => {
    const p = new URLSearchParams({ _count: String(shape.count), _until: String(shape.until) });
    if (shape.since !== undefined) p.set('_since', new Date(shape.since).toISOString());
    if (!shape.counted) p.set('_total', 'none');
    if (at !== undefined) p.set('_cursor', `${at.type}/${at.id}/${at.versionId}`);
    return `${path}?${p.toString()}`;
  };
  const links = [{ relation: 'self', url: url(cursor) }, { relation: 'first', url: url(undefined) }];
  if (last !== undefined) links.push({ relation: 'next', url: url(last) });
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
