/**
 * Search without plaintext identifiers at rest (issue 4 §2). The search values that
 * identify a person are stored only as keyed blind indexes (crypto/blind-index.ts), and
 * queries on them are turned into lookups of the same indexes before they reach SQL:
 *
 * | values                                                     | stored as                                 | searches that still work        |
 * |------------------------------------------------------------|-------------------------------------------|---------------------------------|
 * | names, addresses of Patient/Person/Practitioner/RelatedPerson (string) | a row per normalised prefix of ≤ 3 characters, longer ones (≤ 64) in its `tail`; `exact` blinded | default (starts-with), `:exact` |
 * | `telecom`, `phone`, `email` of those types (token)         | system in clear, code blinded             | `code`, `system\|code`, `system\|` |
 * | `identifier` of every type (token)                         | system in clear, value blinded            | the same                        |
 * | `birthdate` of those types (date)                          | blinded year, month, day tokens           | every prefix, years 1850–2150   |
 * | reference `:identifier` (`subject:identifier=…`)           | identifier value blinded                  | the same                        |
 *
 * What no longer works on them, with a clear `search-unsupported`: `:contains`, `_sort`,
 * a birth date with a time of day, and one search that mixes a person type with another
 * type on the same parameter. Everything else (codes, statuses, clinical
 * dates, references) stays in clear so ranges and sorting keep working. What an attacker
 * with the database still learns is in docs/threat-model.md ("Encryption at rest").
 */
import { CustodiaError } from '../kernel/index.js';
import { blindIndex, blindPrefixMatch, rememberedBlindIndex, blindPrefixRows, PREFIX_ROWS, type BlindPrefixMatch } from '../crypto/index.js';
import { indexedPrefix, normalizeString, type Condition, type IndexRows, type RangeValue, type SearchQuery, type TokenValue } from '../fhir/index.js';

/** The resource types whose names, contact details and birth dates identify a person. */
export const PERSON_TYPES: ReadonlySet<string> = new Set(['Patient', 'Person', 'Practitioner', 'RelatedPerson']);
const PERSON_STRINGS: ReadonlySet<string> = new Set(['name', 'family', 'given', 'phonetic', 'address', 'address-city', 'address-postalcode', 'address-state', 'address-country']);
const PERSON_TOKENS: ReadonlySet<string> = new Set(['telecom', 'phone', 'email']);
const PERSON_DATES: ReadonlySet<string> = new Set(['birthdate']);
/** Identifying on every type: business identifiers link records to people. */
const ANY_TOKENS: ReadonlySet<string> = new Set(['identifier']);

type Kind = 'string' | 'token' | 'date';

/**
 * R4 defines `phonetic` over the same elements as `name` (Patient.name, …) and leaves the
 * algorithm to the server; this one indexes the same normalised text. Sealed, its rows
 * would duplicate `name`'s (a fifth of a patient's index rows), so `phonetic` is answered
 * from `name`'s rows and not stored.
 */
const SAME_ROWS_AS: Readonly<Record<string, string>> = { phonetic: 'name' };

/**
 * `name` matches any part of a HumanName, `address` any part of an Address: sealed, each
 * part is blinded once, in one domain per element (`name`, `address`), under the
 * parameter of the part (`family`, `given`, `address-city`, …), and a `name` or `address`
 * search looks up all of them. Only parts no other parameter covers (prefix, suffix, text;
 * line, district, text) are stored under `name` and `address` themselves — every blind
 * prefix row costs a random index insert, and these would double them.
 */
const SHARED: Readonly<Record<string, readonly string[]>> = {
  name: ['family', 'given'],
  address: ['address-city', 'address-state', 'address-postalcode', 'address-country'],
};
const DOMAIN_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SHARED).flatMap(([whole, parts]) => [[whole, whole], ...parts.map((p) => [p, whole])]));
const domainOf = (param: string): string => DOMAIN_OF[param] ?? param;

/**
 * A condition as the store runs it (search-sql.ts, condition-sql.ts read it): the
 * parameters its rows are stored under, when more than its own; for a sealed starts-with
 * search, what each value looks up (`values[i]` is then `prefixes[i].whole`); for a
 * sealed `:exact` (its values blind indexes, not text), `exactHeads[i]`, the head row every
 * stored part equal to `values[i]` has (below).
 */
export type StoredStringCondition = Condition & {
  readonly storedParams?: readonly string[];
  readonly prefixes?: readonly BlindPrefixMatch[];
  readonly exactHeads?: readonly (string | undefined)[];
};

/**
 * Every stored row of a part carries the part's blinded exact text, and every layout has a
 * head row for the blind prefix of its first min(length, {@link PREFIX_ROWS}) characters
 * (three heads now, four before; one row per prefix before that). A sealed `:exact` seeks
 * that head in the `(res_type, param, value)` index and compares the exact text there,
 * instead of reading every row of the parameter. Undefined for a text with nothing to
 * index (no part can equal it).
 */
function exactHead(key: Uint8Array, domain: string, text: string): string | undefined {
  const head = [...indexedPrefix(normalizeString(text))].slice(0, PREFIX_ROWS).join('');
  return blindPrefixMatch(key, domain, head)?.whole;
}

/** The parameters a search on `param` looks up once sealed. */
export function storedParamsOf(param: string): readonly string[] | undefined {
  const parts = SHARED[param];
  return parts === undefined ? undefined : [param, ...parts];
}

function isBlindFor(type: string, kind: Kind, param: string): boolean {
  if (kind === 'token' && ANY_TOKENS.has(param)) return true;
  if (!PERSON_TYPES.has(type)) return false;
  return kind === 'string' ? PERSON_STRINGS.has(param) : kind === 'token' ? PERSON_TOKENS.has(param) : PERSON_DATES.has(param);
}

const unsupported = (why: string): CustodiaError => new CustodiaError('search-unsupported', why);

/** Whether `param` is blinded for a search over `types` (every type, or none; mixing is refused). */
function blindOver(types: readonly string[], kind: Kind, param: string): boolean {
  if (kind === 'token' && ANY_TOKENS.has(param)) return true;
  const set = kind === 'string' ? PERSON_STRINGS : kind === 'token' ? PERSON_TOKENS : PERSON_DATES;
  if (!set.has(param)) return false;
  const person = types.filter((t) => PERSON_TYPES.has(t)).length;
  if (person === 0 && types.length > 0) return false;
  if (person === types.length && types.length > 0) return true;
  throw unsupported(`'${param}' identifies people on ${[...PERSON_TYPES].join(', ')} and is searched there through blind indexes; search those types separately from others`);
}

const DAY = 86_400_000;

/** A birth date's precision and start: what its blind tokens are made of. */
interface Civil {
  readonly precision: 'year' | 'month' | 'day';
  readonly y: number;
  readonly m: number;
  readonly d: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The calendar value a date range stands for, if it is a whole year, month or day (a time has no blind form). */
function civilOf(lo: number, hi: number): Civil | undefined {
  if (lo % DAY !== 0) return undefined;
  const t = new Date(lo);
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth() + 1;
  const d = t.getUTCDate();
  if (hi === lo + DAY - 1) return { precision: 'day', y, m, d };
  if (d === 1 && hi === Date.UTC(y, m, 1) - 1) return { precision: 'month', y, m, d };
  if (d === 1 && m === 1 && hi === Date.UTC(y + 1, 0, 1) - 1) return { precision: 'year', y, m, d };
  return undefined;
}

/**
 * The plain tokens a birth date is stored under (each then blinded):
 *   `y:YYYY` — any value in that year; `m:YYYY-MM` — a month or day in that month;
 *   `d:YYYY-MM-DD` — that day; `Y:YYYY`, `M:YYYY-MM` — a value of exactly year or month precision.
 * Equality at a precision looks up one token; a range looks up the set of tokens that covers
 * exactly the values it matches ({@link rangeTokens}).
 */
function dateTokens(c: Civil): string[] {
  const y = `y:${pad(c.y, 4)}`;
  if (c.precision === 'year') return [y, `Y:${pad(c.y, 4)}`];
  const m = `${pad(c.y, 4)}-${pad(c.m)}`;
  if (c.precision === 'month') return [y, `m:${m}`, `M:${m}`];
  return [y, `m:${m}`, `d:${m}-${pad(c.d)}`];
}

/** Birth dates outside these years are not found by range searches (equality still finds them). */
export const BIRTH_YEARS = { first: 1850, last: 2150 } as const;

/** FHIR R4 search.html §3.1.1.4.1.1 prefixes on a target range t against search range s (as condition-sql.ts). */
function prefixHolds(prefix: RangeValue['prefix'], tlo: number, thi: number, s: { lo: number; hi: number }): boolean {
  const eq = tlo >= s.lo && thi <= s.hi;
  switch (prefix) {
    case 'eq':
      return eq;
    case 'ne':
      return !eq;
    case 'gt':
      return thi > s.hi;
    case 'lt':
      return tlo < s.lo;
    case 'ge':
      return thi > s.hi || eq;
    case 'le':
      return tlo < s.lo || eq;
    case 'sa':
      return tlo > s.hi;
    case 'eb':
      return thi < s.lo;
    case 'ap':
      return tlo <= s.hi && thi >= s.lo;
  }
}

/**
 * The tokens that match exactly the birth dates (of year, month or day precision, in
 * {@link BIRTH_YEARS}) a prefixed range matches: a whole year whose every possible value
 * matches is one `y:` token, else a whole month is one `m:`, else single days, plus the
 * `Y:`/`M:` tokens of coarse values that match on their own. At most a few hundred.
 */
function rangeTokens(v: RangeValue): string[] {
  const out: string[] = [];
  const holds = (lo: number, hi: number): boolean => prefixHolds(v.prefix, lo, hi, v.range);
  const s = v.range;
  // Every comparison of a prefix is against s.lo or s.hi: inside a span that neither falls in,
  // all values match alike, and the span's own value says how.
  const uniform = (lo: number, hi: number): boolean => (s.lo <= lo || s.lo > hi) && (s.hi < lo || s.hi >= hi);
  for (let y = BIRTH_YEARS.first; y <= BIRTH_YEARS.last; y++) {
    const ylo = Date.UTC(y, 0, 1);
    const yhi = Date.UTC(y + 1, 0, 1) - 1;
    if (uniform(ylo, yhi)) {
      if (holds(ylo, yhi)) out.push(`y:${pad(y, 4)}`);
      continue;
    }
    const months: { m: number; all: boolean; self: boolean; days: number[] }[] = [];
    let yearAll = holds(ylo, yhi);
    const yearSelf = yearAll;
    for (let m = 1; m <= 12; m++) {
      const mlo = Date.UTC(y, m - 1, 1);
      const mhi = Date.UTC(y, m, 1) - 1;
      const self = holds(mlo, mhi);
      const days: number[] = [];
      let all = self;
      if (uniform(mlo, mhi)) {
        if (!self) yearAll = false;
        months.push({ m, all: self, self, days });
        continue;
      }
      for (let d = mlo, n = 1; d < mhi; d += DAY, n++) {
        if (holds(d, d + DAY - 1)) days.push(n);
        else all = false;
      }
      if (!all) yearAll = false;
      months.push({ m, all, self, days });
    }
    const yy = pad(y, 4);
    if (yearAll) {
      out.push(`y:${yy}`);
      continue;
    }
    if (yearSelf) out.push(`Y:${yy}`);
    for (const mo of months) {
      const ym = `${yy}-${pad(mo.m)}`;
      if (mo.all) {
        out.push(`m:${ym}`);
        continue;
      }
      if (mo.self) out.push(`M:${ym}`);
      for (const d of mo.days) out.push(`d:${ym}-${pad(d)}`);
    }
  }
  return out;
}

/** A part's stored prefix rows and blinded `:exact` value. */
interface BlindPart {
  readonly heads: readonly string[];
  readonly tail?: string;
  readonly exact: string;
}

/**
 * The blind rows of the name and address parts of one write batch, by domain and value:
 * a city, a state or a common name is blinded once per batch, not once per patient. It
 * holds no more than the batch itself does; the codec empties it at every batch
 * (at-rest.ts) and it never grows past {@link MEMO_PARTS} entries.
 */
export type BlindPartMemo = Map<string, BlindPart>;
const MEMO_PARTS = 4096;

function blindPart(key: Uint8Array, domain: string, r: { readonly value: string; readonly exact: string }, memo: BlindPartMemo | undefined): BlindPart {
  const id = `${domain}\u0000${r.value}\u0000${r.exact}`;
  const hit = memo?.get(id);
  if (hit !== undefined) return hit;
  const part = { ...blindPrefixRows(key, domain, r.value), exact: blindIndex(key, `${domain}:exact`, r.exact) };
  if (memo !== undefined) {
    if (memo.size >= MEMO_PARTS) memo.clear();
    memo.set(id, part);
  }
  return part;
}

/**
 * The index rows of a version of `type` as stored: identifying values replaced by their
 * blind indexes. Birth dates move from the date table to the token table.
 */
export function blindIndexRows(key: Uint8Array, type: string, rows: IndexRows, memo?: BlindPartMemo): IndexRows {
  // Parts another parameter already holds (a family name, a city) are not stored again under name / address.
  const covered = new Map<string, Set<string>>();
  for (const r of rows.string) {
    const whole = DOMAIN_OF[r.param];
    if (whole === undefined || whole === r.param) continue;
    let set = covered.get(whole);
    if (set === undefined) covered.set(whole, (set = new Set()));
    set.add(r.exact);
  }
  const string = rows.string.flatMap((r) => {
    if (!isBlindFor(type, 'string', r.param)) return [r];
    if (SAME_ROWS_AS[r.param] !== undefined) return [];
    if (SHARED[r.param] !== undefined && covered.get(r.param)?.has(r.exact) === true) return [];
    const { heads, tail, exact } = blindPart(key, domainOf(r.param), r, memo);
    return heads.map((value, i) => (tail !== undefined && i === heads.length - 1 ? { param: r.param, grp: r.grp, value, exact, tail } : { param: r.param, grp: r.grp, value, exact }));
  });
  const token = rows.token.map((r) => (r.code !== null && isBlindFor(type, 'token', r.param) ? { ...r, code: blindIndex(key, r.param, r.code) } : r));
  const date: IndexRows['date'][number][] = [];
  for (const r of rows.date) {
    if (!isBlindFor(type, 'date', r.param)) {
      date.push(r);
      continue;
    }
    // A birth date with a time of day has no blind form a search could hit; it is not indexed rather than kept in clear.
    const c = civilOf(r.lo, r.hi);
    for (const t of c === undefined ? [] : dateTokens(c)) token.push({ param: r.param, grp: r.grp, system: null, code: blindIndex(key, r.param, t), text: null });
  }
  const reference = rows.reference.map((r) => (r.identifierValue === null ? r : { ...r, identifierValue: blindIndex(key, `${r.param}:identifier`, r.identifierValue) }));
  return { ...rows, string, token, date, reference };
}

function blindTokens(key: Uint8Array, param: string, values: readonly TokenValue[]): TokenValue[] {
  return values.map((v) => (v.code === undefined ? v : { ...v, code: blindIndex(key, param, v.code) }));
}

function blindDates(key: Uint8Array, param: string, values: readonly RangeValue[]): TokenValue[] {
  return values.flatMap((v) => {
    const c = v.prefix === 'eq' ? civilOf(v.range.lo, v.range.hi) : undefined;
    // Equality at the search's own precision is one token: y:, m: or d: (see dateTokens).
    const tokens = c === undefined ? rangeTokens(v) : [dateTokens(c)[c.precision === 'year' ? 0 : c.precision === 'month' ? 1 : 2]!];
    // The same few hundred tokens search after search: remembered (crypto/blind-index.ts).
    return tokens.map((t) => ({ code: rememberedBlindIndex(key, param, t) }));
  });
}

function blindCondition(key: Uint8Array, c: Condition, types: readonly string[]): Condition {
  switch (c.kind) {
    case 'string': {
      if (!blindOver(types, 'string', c.param)) return c;
      const same = SAME_ROWS_AS[c.param];
      if (same !== undefined) return blindCondition(key, { ...c, param: same }, types);
      if (c.match === 'contains') throw unsupported(`'${c.param}:contains' is not available: '${c.param}' is stored as a blind index`);
      const domain = domainOf(c.param);
      const stored = storedParamsOf(c.param);
      const withParams = <T extends Condition>(x: T): T => (stored === undefined ? x : ({ ...x, storedParams: stored } as T));
      if (c.match === 'exact') {
        const exactHeads = c.values.map((v) => exactHead(key, domain, v));
        return withParams({ ...c, exactHeads, values: c.values.map((v) => blindIndex(key, `${domain}:exact`, v)) } as StoredStringCondition);
      }
      const prefixes = c.values.map((v) => blindPrefixMatch(key, domain, v));
      if (prefixes.some((p) => p === undefined)) return withParams({ kind: 'missing', param: c.param, table: 'string', missing: false });
      const matches = prefixes as BlindPrefixMatch[];
      return withParams({ ...c, values: matches.map((p) => p.whole), prefixes: matches } as StoredStringCondition);
    }
    case 'token':
      return blindOver(types, 'token', c.param) ? { ...c, values: blindTokens(key, c.param, c.values) } : c;
    case 'date':
      if (!blindOver(types, 'date', c.param)) return c;
      {
        const values = blindDates(key, c.param, c.values);
        // Nothing can match: a token no row holds keeps the condition's shape.
        return { kind: 'token', param: c.param, not: false, values: values.length > 0 ? values : [{ code: '' }] };
      }
    case 'reference-identifier':
      return { ...c, values: c.values.map((v) => (v.code === undefined ? v : { ...v, code: blindIndex(key, `${c.param}:identifier`, v.code) })) };
    case 'missing':
      if (c.table === 'string' && blindOver(types, 'string', c.param)) {
        const param = SAME_ROWS_AS[c.param] ?? c.param;
        const stored = storedParamsOf(param);
        return stored === undefined ? { ...c, param } : ({ ...c, param, storedParams: stored } as StoredStringCondition);
      }
      return c.table === 'date' && blindOver(types, 'date', c.param) ? { ...c, table: 'token' } : c;
    case 'chain':
      return { ...c, condition: blindCondition(key, c.condition, c.targetTypes) };
    case 'has':
      return { ...c, condition: blindCondition(key, c.condition, [c.sourceType]) };
    default:
      return c;
  }
}

/** A query with every value on an identifying parameter replaced by the blind index it is stored under. */
export function blindQuery(key: Uint8Array, q: SearchQuery): SearchQuery {
  for (const s of q.sort) {
    if ((s.table === 'string' || s.table === 'token' || s.table === 'date') && s.param !== '_id' && blindOver(q.types, s.table, s.param)) {
      throw unsupported(`Cannot sort by '${s.param}': it is stored as a blind index`);
    }
  }
  return { ...q, conditions: q.conditions.map((c) => blindCondition(key, c, q.types)) };
}
