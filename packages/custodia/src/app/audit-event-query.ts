/**
 * The parameters of AuditEvent search and of `Patient/{id}/$access-log`, parsed from
 * attacker-controlled query strings into typed bounds (R4 search.html §3.1.1.4.3 for
 * dates; §3.1.1.3.2 for unknown parameters: refused under `Prefer: handling=strict`,
 * otherwise ignored and reported).
 *
 *   AuditEvent?patient=Patient/p1&date=ge2026-01-01&date=lt2026-02-01&_count=50&_before=812
 *   Patient/p1/$access-log?_since=2026-01-01T00:00:00Z&_count=100&_after=640
 *
 * `_before` / `_after` page by ledger index (newest first / oldest first): a page link
 * stays valid while the log grows, since indexes never change.
 */
import { CustodiaError } from '../kernel/index.js';
import { checkSearchShape, isFhirId, parseDateRange } from '../fhir/index.js';
import { parseLedgerEventId } from './audit-event-resource.js';
import { FILTER_PARAMS, parseEventFilters, type EventFilter } from './audit-event-filters.js';

type Params = ReadonlyArray<readonly [string, string]>;

export interface PageLimits {
  readonly defaultCount: number;
  readonly maxCount: number;
}

interface Common {
  readonly count: number;
  /** The parameters as understood, in a canonical order, for self and next links. */
  readonly used: readonly (readonly [string, string])[];
  /** Names of parameters that were ignored (lenient handling). */
  readonly ignored: readonly string[];
}

export interface AuditEventSearch extends Common {
  readonly patient?: string;
  /** `_id`: only these ledger indexes (ids that are not ledger ids match nothing). */
  readonly indexes?: readonly number[];
  /** Inclusive bounds on AuditEvent.recorded (epoch ms). */
  readonly from?: number;
  readonly to?: number;
  /** Only events with a smaller ledger index (the next page, newest first). */
  readonly before?: number;
  /** Matched against each event as the caller receives it (audit-event-filters.ts). */
  readonly filters: readonly EventFilter[];
}

export interface AccessLogQuery extends Common {
  /** Only events recorded at or after this instant (epoch ms). */
  readonly since?: number;
  /** Only events with a larger ledger index (the next page, oldest first). */
  readonly after?: number;
}

const INDEX = /^(?:0|[1-9][0-9]{0,15})$/;
const IGNORED_ALWAYS = new Set(['_format', '_pretty']);

const invalid = (message: string): CustodiaError => new CustodiaError('search-invalid', message);

function single(params: Params, name: string): string | undefined {
  const values = params.filter(([k]) => k === name).map(([, v]) => v);
  if (values.length > 1) throw invalid(`${name} may be given once`);
  return values[0];
}

function indexParam(params: Params, name: string): number | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  if (!INDEX.test(v) || !Number.isSafeInteger(Number(v))) throw invalid(`${name} is a ledger index (a non-negative decimal integer)`);
  return Number(v);
}

function countParam(params: Params, limits: PageLimits): number {
  const v = single(params, '_count');
  if (v === undefined) return limits.defaultCount;
  if (!/^[0-9]{1,9}$/.test(v)) throw invalid('_count is a non-negative integer');
  return Math.min(Math.max(Number(v), 1), limits.maxCount);
}

/** Unknown parameters: refused under strict handling, else ignored and named. */
function unknownParams(params: Params, known: ReadonlySet<string>, handling: 'strict' | 'lenient'): string[] {
  const unknown = [...new Set(params.map(([k]) => k).filter((k) => !known.has(k) && !IGNORED_ALWAYS.has(k)))];
  if (unknown.length > 0 && handling === 'strict') throw new CustodiaError('search-unsupported', `Unsupported parameter: ${unknown[0]!.slice(0, 64)}`);
  return unknown.map((k) => k.slice(0, 64));
}

/** `patient=p1`, `patient=Patient/p1` or `patient=<base>/Patient/p1`: one patient id. */
function patientParam(params: Params, baseUrl: string): string | undefined {
  const v = single(params, 'patient');
  if (v === undefined) return undefined;
  if (v.includes(',')) throw new CustodiaError('search-unsupported', 'patient takes one patient (no comma-separated list)');
  const id = v.startsWith(`${baseUrl}/Patient/`) ? v.slice(baseUrl.length + 9) : v.startsWith('Patient/') ? v.slice(8) : v;
  if (!isFhirId(id)) throw invalid('patient must name a Patient id');
  return id;
}

/** `date` with the prefixes eq (default), ge, gt, le, lt; several values narrow each other. */
function dateBounds(params: Params): { from?: number; to?: number } {
  let from = -Infinity;
  let to = Infinity;
  for (const [k, raw] of params) {
    if (k !== 'date') continue;
    const m = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)$/.exec(raw)!;
    const prefix = m[1] ?? 'eq';
    const range = parseDateRange(m[2]!);
    if (range === undefined) throw invalid('date must be a FHIR date or dateTime, optionally prefixed with eq, ge, gt, le or lt');
    if (prefix === 'eq') [from, to] = [Math.max(from, range.lo), Math.min(to, range.hi)];
    else if (prefix === 'ge') from = Math.max(from, range.lo);
    else if (prefix === 'gt') from = Math.max(from, range.hi + 1);
    else if (prefix === 'le') to = Math.min(to, range.hi);
    else if (prefix === 'lt') to = Math.min(to, range.lo - 1);
    else throw new CustodiaError('search-unsupported', `The date prefix ${prefix} is not supported here (eq, ge, gt, le, lt are)`);
  }
  return { ...(from === -Infinity ? {} : { from }), ...(to === Infinity ? {} : { to }) };
}

/** The AuditEvent search parameters of the registry the audit trail takes (the CapabilityStatement lists these). */
export const AUDIT_EVENT_SEARCH_PARAMS: readonly string[] = ['_id', 'patient', 'date', ...FILTER_PARAMS.filter((p) => !p.includes(':'))];
const SEARCH_PARAMS = new Set([...AUDIT_EVENT_SEARCH_PARAMS, '_count', '_before', ...FILTER_PARAMS]);

/**
 * AuditEvent search parameters.
 *
 * @example
 *   parseAuditEventSearch([['patient', 'Patient/p1'], ['date', 'ge2026-01-01']], base, limits, 'lenient');
 *   // { patient: 'p1', from: 1767225600000, count: 20, used: [...], ignored: [] }
 */
export function parseAuditEventSearch(params: Params, baseUrl: string, limits: PageLimits, handling: 'strict' | 'lenient'): AuditEventSearch {
  // Every filter runs on every event a page examines (up to 20,000): 10,000 of them held the event loop for 7 s.
  checkSearchShape(params);
  const ignored = unknownParams(params, SEARCH_PARAMS, handling);
  const patient = patientParam(params, baseUrl);
  const { from, to } = dateBounds(params);
  const ids = single(params, '_id');
  const indexes = ids === undefined ? undefined : [...new Set(ids.split(',', limits.maxCount).map(parseLedgerEventId).filter((n): n is number => n !== undefined))];
  const before = indexParam(params, '_before');
  const count = countParam(params, limits);
  const filtered = parseEventFilters(params, baseUrl);
  const used: [string, string][] = [];
  if (patient !== undefined) used.push(['patient', `Patient/${patient}`]);
  for (const [k, v] of params) if (k === 'date') used.push([k, v]);
  if (ids !== undefined) used.push(['_id', ids]);
  used.push(...filtered.used);
  used.push(['_count', String(count)]);
  return { ...(patient === undefined ? {} : { patient }), ...(indexes === undefined ? {} : { indexes }), ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), ...(before === undefined ? {} : { before }), filters: filtered.filters, count, used, ignored };
}

const ACCESS_LOG_PARAMS = new Set(['_since', '_count', '_after']);

/**
 * `$access-log` parameters: `_since` (a FHIR instant or coarser date), `_count`, `_after`.
 *
 * @example
 *   parseAccessLogQuery([['_since', '2026-01-01T00:00:00Z']], limits, 'lenient').since; // 1767225600000
 */
export function parseAccessLogQuery(params: Params, limits: PageLimits, handling: 'strict' | 'lenient'): AccessLogQuery {
  checkSearchShape(params);
  const ignored = unknownParams(params, ACCESS_LOG_PARAMS, handling);
  const sinceText = single(params, '_since');
  const since = sinceText === undefined ? undefined : parseDateRange(sinceText)?.lo;
  if (sinceText !== undefined && since === undefined) throw invalid('_since must be a FHIR instant, such as 2026-01-01T00:00:00Z');
  const after = indexParam(params, '_after');
  const count = countParam(params, limits);
  const used: [string, string][] = [...(sinceText === undefined ? [] : [['_since', sinceText] as [string, string]]), ['_count', String(count)]];
  return { ...(since === undefined ? {} : { since }), ...(after === undefined ? {} : { after }), count, used, ignored };
}

const DISCLOSURE_PARAMS = new Set(['start', 'end']);

export interface DisclosureQuery {
  /** Epoch ms, inclusive; never earlier than six years before `now` (§164.528(a)(3)). */
  readonly start: number;
  readonly end: number;
  readonly ignored: readonly string[];
}

/**
 * `$disclosures?start&end` (R4 dates or instants; attacker-controlled, parsed strictly):
 * by default the six years up to now, and never further back.
 */
export function parseDisclosureQuery(params: Params, now: number, lookBackMs: number, handling: 'strict' | 'lenient'): DisclosureQuery {
  checkSearchShape(params);
  const ignored = unknownParams(params, DISCLOSURE_PARAMS, handling);
  const bound = (name: 'start' | 'end'): number | undefined => {
    const text = single(params, name);
    if (text === undefined) return undefined;
    const r = parseDateRange(text);
    if (r === undefined) throw invalid(`${name} must be a FHIR date or instant, such as 2026-01-01`);
    return name === 'start' ? r.lo : r.hi;
  };
  const floor = now - lookBackMs;
  const start = Math.max(bound('start') ?? floor, floor);
  const end = Math.min(bound('end') ?? now, now);
  if (end < start) throw invalid('end is before start (or before the six-year look-back)');
  return { start, end, ignored };
}
