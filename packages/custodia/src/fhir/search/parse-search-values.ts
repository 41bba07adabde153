/**
 * Parsers for one search value of each type (FHIR R4 search.html §3.1.1.4). Input is an
 * ATTACKER-CONTROLLED alternative (one comma-separated part of a query value, escapes still
 * in place); every failure is `search-invalid`. No regular expression is built from input.
 */
import { canonicalOf, rememberCanonical } from './canonical-source.js';
import { formatDateRange } from './date-format.js';
import { parseDateRange } from './date-range.js';
import { RANGE_MAX, RANGE_MIN } from './index-rows.js';
import { approximateRange, formatDecimal, impliedRange, parseDecimal } from './number-range.js';
import type { Prefix, QuantityValue, RangeValue, ReferenceValue, TokenValue } from './query.js';
import { hasScheme, isResourceId, parseReference, stripCanonicalVersion } from './reference-target.js';
import { escapeValue, splitUnescaped, unescapeValue } from './search-escape.js';
import { invalid, quote, tooCostly, type SearchParseContext } from './search-context.js';
import { SEARCH_LIMITS } from './search-limits.js';

const PREFIXES: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/**
 * The comma-separated alternatives of a value (escapes kept), empty ones dropped.
 *
 * @example splitAlternatives('code', 'a,b\\,c') // ['a', 'b\\,c']
 */
export function splitAlternatives(param: string, raw: string): string[] {
  const parts = splitUnescaped(raw, ',', SEARCH_LIMITS.maxValuesPerParam);
  if (parts === undefined) throw tooCostly(param, `more than ${SEARCH_LIMITS.maxValuesPerParam} alternative values`);
  return parts.filter((p) => p.length > 0);
}

/**
 * What a value counts against a search's budget of alternatives (SEARCH_LIMITS.maxValues):
 * its comma-separated parts, and one more than a parameter may hold past that.
 */
export function alternativesIn(raw: string): number {
  return splitUnescaped(raw, ',', SEARCH_LIMITS.maxValuesPerParam)?.length ?? SEARCH_LIMITS.maxValuesPerParam + 1;
}

/** R4 search.html §3.1.1.4.1.1: an optional two-letter prefix. */
function splitPrefix(param: string, text: string): { prefix: Prefix; rest: string } {
  const a = text.charCodeAt(0);
  const b = text.charCodeAt(1);
  const isLower = (c: number): boolean => c >= 97 && c <= 122;
  if (text.length >= 2 && isLower(a) && isLower(b)) {
    const prefix = text.slice(0, 2);
    if (!PREFIXES.has(prefix)) throw invalid(param, `unknown prefix ${quote(prefix)}`);
    return { prefix: prefix as Prefix, rest: text.slice(2) };
  }
  return { prefix: 'eq', rest: text };
}

/**
 * A date value with its prefix (search.html §3.1.1.4.3); `ap` widens the range by 10% of the
 * distance between the value and `now`.
 *
 * @example parseDateValue('birthdate', 'ge2020-03', ctx) // { prefix: 'ge', range: { lo: …03-01T00:00Z, hi: …03-31T23:59:59.999Z } }
 */
export function parseDateValue(param: string, text: string, ctx: Pick<SearchParseContext, 'now'>): RangeValue {
  const { prefix, rest } = splitPrefix(param, text);
  const parsed = parseDateRange(unescapeValue(rest));
  if (parsed === undefined) throw invalid(param, 'the value is not a FHIR date');
  if (prefix !== 'ap') return { prefix, range: { lo: parsed.lo, hi: parsed.hi } };
  const gap = Math.floor(Math.abs(ctx.now - (parsed.lo + parsed.hi) / 2) / 10);
  const value: RangeValue = { prefix, range: { lo: Math.max(RANGE_MIN, parsed.lo - gap), hi: Math.min(RANGE_MAX, parsed.hi + gap) } };
  rememberCanonical(value, `ap${formatDateRange(parsed) ?? rest}`);
  return value;
}

/**
 * A number value with its prefix (search.html §3.1.1.4.1); see `number-range.ts` for precision.
 *
 * @example parseNumberValue('probability', 'lt0.5') // { prefix: 'lt', range: { lo: 0.45, hi: 0.55⁻ } }
 */
export function parseNumberValue(param: string, text: string): RangeValue {
  const { prefix, rest } = splitPrefix(param, text);
  const d = parseDecimal(unescapeValue(rest));
  if (d === undefined) throw invalid(param, 'the value is not a number');
  if (prefix !== 'ap') return { prefix, range: impliedRange(d) };
  const value: RangeValue = { prefix, range: approximateRange(d) };
  rememberCanonical(value, `ap${formatDecimal(d.digits, d.exponent)}`);
  return value;
}

/**
 * `[prefix]number[|system|code]` (search.html §3.1.1.4.5); an empty system or code means any.
 *
 * @example parseQuantityValue('value-quantity', 'lt60|http://unitsofmeasure.org|mm[Hg]')
 */
export function parseQuantityValue(param: string, text: string): QuantityValue {
  const parts = splitUnescaped(text, '|', 3);
  if (parts === undefined || parts.length === 2) throw invalid(param, 'the value is not [prefix]number|system|code');
  const number = parseNumberValue(param, parts[0]!);
  const system = parts[1] === undefined ? '' : unescapeValue(parts[1]);
  const code = parts[2] === undefined ? '' : unescapeValue(parts[2]);
  const value: QuantityValue = {
    prefix: number.prefix,
    range: number.range,
    ...(system === '' ? {} : { system }),
    ...(code === '' ? {} : { code }),
  };
  const ap = canonicalOf(number);
  if (ap !== undefined) rememberCanonical(value, parts.length === 3 ? `${ap}|${escapeValue(system)}|${escapeValue(code)}` : ap);
  return value;
}

/**
 * `[system]|[code]`, `|code` (no system), `system|` (any code), `code` (any system)
 * (search.html §3.1.1.4.10).
 *
 * @example parseTokenValue('code', 'http://loinc.org|8480-6') // { system: 'http://loinc.org', code: '8480-6' }
 */
export function parseTokenValue(param: string, text: string): TokenValue {
  const parts = splitUnescaped(text, '|', 2);
  if (parts === undefined) throw invalid(param, "the value has more than one unescaped '|'");
  if (parts.length === 1) return { code: unescapeValue(parts[0]!) };
  const system = unescapeValue(parts[0]!);
  const code = unescapeValue(parts[1]!);
  return { system: system === '' ? null : system, ...(code === '' ? {} : { code }) };
}

/**
 * A reference value (search.html §3.1.1.4.9): `Type/id`, a bare `id` (any of `targets`, or
 * the `:Type` modifier's type), or an absolute URL (ours → local). Versions are dropped.
 *
 * @example parseReferenceValue('subject', 'Patient/123', ['Patient', 'Group'], undefined, ctx)
 *   // { kind: 'local', types: ['Patient'], id: '123' }
 */
export function parseReferenceValue(
  param: string,
  text: string,
  targets: readonly string[],
  typeModifier: string | undefined,
  ctx: Pick<SearchParseContext, 'registry' | 'baseUrl'>,
): ReferenceValue {
  let value = unescapeValue(text);
  const isType = (t: string): boolean => ctx.registry.isResourceType(t);
  if (hasScheme(value)) value = stripCanonicalVersion(value);
  const parsed = parseReference(value, isType, ctx.baseUrl);
  if (parsed?.kind === 'url') return { kind: 'url', url: parsed.url };
  if (parsed?.kind === 'local') {
    if (!targets.includes(parsed.type)) throw invalid(param, `${parsed.type} is not a target type of this reference`);
    if (typeModifier !== undefined && typeModifier !== parsed.type) throw invalid(param, `the reference is not a ${typeModifier}`);
    return { kind: 'local', types: [parsed.type], id: parsed.id };
  }
  if (parsed === undefined && isResourceId(value)) {
    return { kind: 'local', types: typeModifier === undefined ? targets : [typeModifier], id: value };
  }
  throw invalid(param, 'the value is not a reference');
}

/** A resource id (`_id`). */
export function parseIdValue(param: string, text: string): string {
  const id = unescapeValue(text);
  if (!isResourceId(id)) throw invalid(param, 'the value is not a resource id');
  return id;
}
