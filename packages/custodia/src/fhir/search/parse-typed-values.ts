/**
 * The value of a known search parameter, by parameter type and modifier (FHIR R4
 * search.html §3.1.1.4 and the modifier table of §3.1.1.4.x): string `:exact` `:contains`;
 * token `:not` `:text`; reference `:[Type]` `:identifier`; uri `:above` `:below`; `:missing`
 * on all; composite values `a$b` (§3.1.1.4.12). ATTACKER-CONTROLLED values.
 */
import { indexTableOf, type SearchParameter, type SearchParamType } from './search-parameter.js';
import { indexedPrefix, MAX_CONTAINS_TERM, normalizeString } from './normalize.js';
import type { Condition } from './query.js';
import { invalid, reject, tooCostly, type SearchParseContext } from './search-context.js';
import { splitUnescaped, unescapeValue } from './search-escape.js';
import type { ParamScope } from './parse-condition.js';
import {
  parseDateValue,
  parseNumberValue,
  parseQuantityValue,
  parseReferenceValue,
  parseTokenValue,
  splitAlternatives,
} from './parse-search-values.js';

/** Modifiers R4 defines per type that this server does not implement (strict: search-unsupported). */
const NOT_IMPLEMENTED: Readonly<Record<SearchParamType, readonly string[]>> = {
  string: [],
  token: ['in', 'not-in', 'above', 'below', 'of-type'],
  reference: ['above', 'below'],
  date: [],
  number: [],
  quantity: [],
  uri: [],
  composite: [],
  special: [],
};

/**
 * The condition for `param` with `modifier` and the raw value; null when ignored or empty.
 *
 * @example parseValuesOf(familyParam, 'exact', 'Chalmers', scope, ctx, []) // { kind: 'string', match: 'exact', … }
 */
export function parseValuesOf(
  param: SearchParameter,
  modifier: string | undefined,
  raw: string,
  scope: ParamScope,
  ctx: SearchParseContext,
  targets: readonly string[],
): Condition | null {
  const label = scope.label;
  if (modifier === 'missing') return parseMissing(param, raw, label);
  if (modifier !== undefined && NOT_IMPLEMENTED[param.type].includes(modifier)) {
    return reject(ctx, label, `modifier :${modifier} is not supported on ${param.type} parameters`);
  }
  const typeModifier = param.type === 'reference' && modifier !== undefined && ctx.registry.isResourceType(modifier) ? modifier : undefined;
  const allowed = ALLOWED[param.type];
  if (modifier !== undefined && typeModifier === undefined && !allowed.includes(modifier)) {
    return reject(ctx, label, `modifier :${modifier} is not defined for ${param.type} parameters`, 'search-invalid');
  }
  if (typeModifier !== undefined && !targets.includes(typeModifier)) {
    return reject(ctx, label, `${typeModifier} is not a target type of ${param.code}`, 'search-invalid');
  }
  const alternatives = splitAlternatives(label, raw);
  if (alternatives.length === 0) return null;
  const code = param.code;
  switch (param.type) {
    case 'string': {
      const match = modifier === 'exact' ? 'exact' : modifier === 'contains' ? 'contains' : 'prefix';
      // What the index keeps of a string (normalize.ts): a starts-with term is compared as far, a :contains term is bounded.
      const values = alternatives.map((v) => (match === 'exact' ? unescapeValue(v) : indexedPrefix(normalizeString(unescapeValue(v))))).filter((v) => v !== '');
      if (match === 'contains' && values.some((v) => v.length > MAX_CONTAINS_TERM)) throw tooCostly(label, `a :contains value longer than ${MAX_CONTAINS_TERM} characters`);
      return values.length === 0 ? null : { kind: 'string', param: code, match, values };
    }
    case 'token':
      if (modifier === 'text') {
        const values = alternatives.map((v) => normalizeString(unescapeValue(v))).filter((v) => v !== '');
        return values.length === 0 ? null : { kind: 'token-text', param: code, values };
      }
      return { kind: 'token', param: code, not: modifier === 'not', values: alternatives.map((v) => parseTokenValue(label, v)) };
    case 'reference':
      if (modifier === 'identifier') return { kind: 'reference-identifier', param: code, values: alternatives.map((v) => parseTokenValue(label, v)) };
      return { kind: 'reference', param: code, values: alternatives.map((v) => parseReferenceValue(label, v, targets, typeModifier, ctx)) };
    case 'date':
      return { kind: 'date', param: code, values: alternatives.map((v) => parseDateValue(label, v, ctx)) };
    case 'number':
      return { kind: 'number', param: code, values: alternatives.map((v) => parseNumberValue(label, v)) };
    case 'quantity':
      return { kind: 'quantity', param: code, values: alternatives.map((v) => parseQuantityValue(label, v)) };
    case 'uri': {
      const match = modifier === 'above' ? 'above' : modifier === 'below' ? 'below' : 'eq';
      return { kind: 'uri', param: code, match, values: alternatives.map(unescapeValue) };
    }
    case 'composite':
      return { kind: 'composite', param: code, values: alternatives.map((v) => parseCompositeValue(param, v, label, ctx)) };
    default:
      return reject(ctx, label, `search parameter ${code} is not supported`);
  }
}

const ALLOWED: Readonly<Record<SearchParamType, readonly string[]>> = {
  string: ['exact', 'contains'],
  token: ['not', 'text'],
  reference: ['identifier'],
  date: [],
  number: [],
  quantity: [],
  uri: ['above', 'below'],
  composite: [],
  special: [],
};

/** `:missing=true|false` (search.html §3.1.1.4.x :missing); composites test their first component. */
function parseMissing(param: SearchParameter, raw: string, label: string): Condition {
  if (raw !== 'true' && raw !== 'false') throw invalid(label, ':missing takes true or false');
  const first = param.components[0];
  const table = param.type === 'composite' && first !== undefined ? indexTableOf(first.type) : indexTableOf(param.type);
  if (table === undefined) throw invalid(label, `${param.code} cannot be tested with :missing`);
  return { kind: 'missing', param: param.type === 'composite' ? `${param.code}$0` : param.code, table, missing: raw === 'true' };
}

/** `a$b$…`: one value per component, each parsed by its component's type. */
function parseCompositeValue(param: SearchParameter, text: string, label: string, ctx: SearchParseContext): Condition[] {
  const parts = splitUnescaped(text, '$', param.components.length);
  if (parts === undefined || parts.length !== param.components.length) {
    throw invalid(label, `${param.code} takes ${param.components.length} values separated by '$'`);
  }
  return param.components.map((component, i) => {
    const p = `${param.code}$${i}`;
    const part = parts[i]!;
    if (part === '') throw invalid(label, `component ${i + 1} of ${param.code} is empty`);
    switch (component.type) {
      case 'token':
        return { kind: 'token', param: p, not: false, values: [parseTokenValue(label, part)] };
      case 'string': {
        const value = normalizeString(unescapeValue(part));
        if (value === '') throw invalid(label, `component ${i + 1} of ${param.code} is empty`);
        return { kind: 'string', param: p, match: 'prefix', values: [value] };
      }
      case 'date':
        return { kind: 'date', param: p, values: [parseDateValue(label, part, ctx)] };
      case 'number':
        return { kind: 'number', param: p, values: [parseNumberValue(label, part)] };
      case 'quantity':
        return { kind: 'quantity', param: p, values: [parseQuantityValue(label, part)] };
      case 'uri':
        return { kind: 'uri', param: p, match: 'eq', values: [unescapeValue(part)] };
      case 'reference':
        return { kind: 'reference', param: p, values: [parseReferenceValue(label, part, ctx.registry.resourceTypes(), undefined, ctx)] };
      default:
        throw invalid(label, `component ${i + 1} of ${param.code} cannot be searched`);
    }
  }) as Condition[];
}
