/**
 * search (R4 http.html §3.1.0.8, search.html): parse, match, remember the full ordered
 * result for stable paging, then build the page with its includes.
 *
 * Paging (search.html §3.1.1.6): the first request stores the ordered keys of every
 * match (up to `limits.maxResults`) under a random id bound to the caller; `next`,
 * `previous`, `first` and `last` links address slices of that list, so pages neither
 * skip nor repeat resources while data changes. The saved set holds keys and
 * presentation options only, never search values (which may be names or identifiers).
 */
import { CustodiaError, uuidV4 } from '../../kernel/index.js';
import type { Condition, IncludeSpec, SearchQuery, SummaryMode } from '../search/query.js';
import type { StoredVersion } from '../ports/resource-store.js';
import type { Visibility } from '../ports/visibility.js';
import type { FhirContext } from './fhir-context.js';
import type { FhirResult } from './fhir-result.js';
import { bundleJson, type BundleEntryJson } from './bundle-json.js';
import { informationOutcome } from './operation-outcome.js';
import { needsProjection, projectResource } from './resource-projection.js';
import { assertResourceType } from './resource-input.js';
import type { FhirResource } from '../resource.js';

export interface SearchRequest {
  /** One type for a type-level search, none for a system-level search. */
  readonly types: readonly string[];
  readonly params: ReadonlyArray<readonly [string, string]>;
  readonly handling: 'strict' | 'lenient';
  /** Opaque identity of the caller; paging links only work for the same owner. */
  readonly owner: string;
  readonly visibility: Visibility;
  /** Matches must also be within this (a compartment operation); includes and pages use `visibility` alone. */
  readonly within?: Visibility;
  /** The self link, when the search stands for another request (an operation). */
  readonly selfUrl?: string;
  /** Conditions an operation adds to those its parameters parse to (`$everything`'s care dates). */
  readonly conditions?: readonly Condition[];
}

interface PageState {
  readonly types: readonly string[];
  readonly include: readonly IncludeSpec[];
  readonly revinclude: readonly IncludeSpec[];
  readonly summary?: SummaryMode;
  readonly elements?: readonly string[];
  readonly count: number;
}

export async function searchResources(ctx: FhirContext, req: SearchRequest): Promise<FhirResult> {
  for (const t of req.types) assertResourceType(ctx, t);
  const parsed = ctx.search.parse(req.types, req.params, req.handling);
  const query = req.conditions === undefined ? parsed : { ...parsed, conditions: [...parsed.conditions, ...req.conditions] };
  const now = ctx.clock.now();
  const self = req.selfUrl ?? selfLink(ctx, req.types, ctx.search.format(query));
  const matching: Visibility = req.within === undefined ? req.visibility : { kind: 'and', items: [req.visibility, req.within] };
  if (query.summary === 'count' || query.count === 0) {
    const { total } = await ctx.store.search({ ...query, total: 'accurate' }, 0, matching);
    return { status: 200, body: bundleJson({ type: 'searchset', timestamp: iso(now), total: total ?? 0, link: [{ relation: 'self', url: self }] }, []) };
  }
  const result = await ctx.store.search(query, ctx.limits.maxResults, matching);
  const state: PageState = stateOf(query);
  const links = [{ relation: 'self', url: self }];
  if (result.keys.length > query.count) {
    const pageId = ctx.random.bytes(18).toString('base64url');
    await ctx.store.savePageSet({
      id: pageId,
      owner: req.owner,
      keys: result.keys,
      total: result.total ?? null,
      stateJson: JSON.stringify(state),
      createdAt: now,
      expiresAt: now + ctx.limits.pageTtlMs,
    });
    links.push(...pageLinks(ctx, pageId, 0, query.count, result.keys.length));
  }
  const outcome = outcomeEntry(query, result.truncated, ctx.limits.maxResults);
  return pageBundle(ctx, state, result.keys.slice(0, query.count), totalFor(query, result.total), links, now, outcome, req.visibility);
}

/** A page of a saved result set (`_getpages`). */
export async function searchPage(ctx: FhirContext, pageId: string, offset: number, count: number, owner: string, visibility: Visibility): Promise<FhirResult> {
  const now = ctx.clock.now();
  const set = await ctx.store.loadPageSet(pageId, now);
  // A set that belongs to someone else is reported exactly like an expired one.
  if (set === undefined || set.owner !== owner) throw new CustodiaError('page-expired', 'This paging link has expired; run the search again');
  const state = JSON.parse(set.stateJson) as PageState;
  const size = Math.min(Math.max(count, 1), ctx.limits.maxCount);
  const start = Math.min(Math.max(offset, 0), set.keys.length);
  const links = [{ relation: 'self', url: pageUrl(ctx, pageId, start, size) }, ...pageLinks(ctx, pageId, start, size, set.keys.length)];
  // Visibility is applied again: a consent that changed since the search takes effect on this page.
  return pageBundle(ctx, state, set.keys.slice(start, start + size), set.total ?? undefined, links, now, undefined, visibility);
}

function stateOf(q: SearchQuery): PageState {
  const s: { -readonly [K in keyof PageState]: PageState[K] } = { types: q.types, include: q.include, revinclude: q.revinclude, count: q.count };
  if (q.summary !== undefined) s.summary = q.summary;
  if (q.elements !== undefined) s.elements = q.elements;
  return s;
}

function totalFor(q: SearchQuery, total: number | undefined): number | undefined {
  return q.total === 'none' ? undefined : total;
}

function outcomeEntry(q: SearchQuery, truncated: boolean, max: number): BundleEntryJson | undefined {
  const notes: string[] = [];
  if (q.ignored.length > 0) notes.push(`Ignored unknown or unsupported parameters: ${q.ignored.join(', ')}`);
  if (truncated) notes.push(`More than ${max} resources match; only the first ${max} can be paged through. Narrow the search.`);
  if (notes.length === 0) return undefined;
  return { resource: informationOutcome(notes.join('. '), 'warning', q.ignored.length > 0 ? 'not-supported' : 'too-costly'), search: { mode: 'outcome' } };
}

const iso = (ms: number): string => new Date(ms).toISOString();

function selfLink(ctx: FhirContext, types: readonly string[], params: [string, string][]): string {
  const qs = new URLSearchParams(params).toString();
  const path = types.length === 1 ? `${ctx.baseUrl}/${types[0]!}` : ctx.baseUrl;
  return qs === '' ? path : `${path}?${qs}`;
}

function pageUrl(ctx: FhirContext, id: string, offset: number, count: number): string {
  return `${ctx.baseUrl}?_getpages=${id}&_getpagesoffset=${offset}&_count=${count}&_bundletype=searchset`;
}

function pageLinks(ctx: FhirContext, id: string, offset: number, count: number, size: number): { relation: string; url: string }[] {
  const last = size === 0 ? 0 : Math.floor((size - 1) / count) * count;
  const links = [{ relation: 'first', url: pageUrl(ctx, id, 0, count) }];
  if (offset > 0) links.push({ relation: 'previous', url: pageUrl(ctx, id, Math.max(0, offset - count), count) });
  if (offset + count < size) links.push({ relation: 'next', url: pageUrl(ctx, id, offset + count, count) });
  links.push({ relation: 'last', url: pageUrl(ctx, id, last, count) });
  return links;
}

/** `_include` / `_revinclude`, with `:iterate` followed until nothing new turns up (bounded). */
async function includedKeys(ctx: FhirContext, state: PageState, keys: readonly number[], visibility: Visibility): Promise<number[]> {
  if (state.include.length === 0 && state.revinclude.length === 0) return [];
  const seen = new Set(keys);
  const out: number[] = [];
  let frontier: readonly number[] = keys;
  let include = state.include;
  let revinclude = state.revinclude;
  for (let round = 0; round < 4 && frontier.length > 0 && (include.length > 0 || revinclude.length > 0); round++) {
    const room = ctx.limits.maxIncludes - out.length;
    if (room <= 0) break;
    const found = [...(await ctx.store.includeKeys(frontier, include, room, visibility)), ...(await ctx.store.revincludeKeys(frontier, revinclude, room, visibility))];
    const fresh: number[] = [];
    for (const k of found) {
      if (!seen.has(k) && out.length < ctx.limits.maxIncludes) {
        seen.add(k);
        fresh.push(k);
        out.push(k);
      }
    }
    frontier = fresh;
    include = include.filter((s) => s.iterate);
    revinclude = revinclude.filter((s) => s.iterate);
  }
  return out;
}

function entryOf(ctx: FhirContext, v: StoredVersion, mode: 'match' | 'include', state: PageState): BundleEntryJson {
  const json = v.json ?? '{}';
  const resource = needsProjection(state.summary, state.elements) ? projectResource(JSON.parse(json) as FhirResource, state.summary, state.elements) : json;
  return { fullUrl: `${ctx.baseUrl}/${v.type}/${v.id}`, resource, search: { mode } };
}

async function pageBundle(
  ctx: FhirContext,
  state: PageState,
  keys: readonly number[],
  total: number | undefined,
  link: { relation: string; url: string }[],
  now: number,
  outcome: BundleEntryJson | undefined,
  visibility: Visibility,
): Promise<FhirResult> {
  const matches = await ctx.store.loadByKeys(keys, visibility);
  const included = await ctx.store.loadByKeys(await includedKeys(ctx, state, keys, visibility), visibility);
  const entries = [...matches.map((v) => entryOf(ctx, v, 'match', state)), ...included.map((v) => entryOf(ctx, v, 'include', state))];
  if (outcome !== undefined) entries.push(outcome);
  const body = bundleJson({ type: 'searchset', id: uuidV4(ctx.random), timestamp: iso(now), ...(total === undefined ? {} : { total }), link }, entries);
  return { status: 200, body, returned: [...matches, ...included] };
}
