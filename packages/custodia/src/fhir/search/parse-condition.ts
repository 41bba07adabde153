/**
 * One search parameter (name and value, both ATTACKER-CONTROLLED) → one `Condition`
 * (FHIR R4 search.html §3.1.1.4 types and modifiers, §3.1.1.4.8.5 chaining, §3.1.1.4.9
 * reverse chaining `_has`). Returns null when the parameter is ignored (lenient handling,
 * or an empty value).
 */
import type { Condition } from './query.js';
import { parseValuesOf } from './parse-typed-values.js';
import { reject, type SearchParseContext } from './search-context.js';
import { SEARCH_LIMITS } from './search-limits.js';
import type { SearchParameter } from './search-parameter.js';
import { parseDateValue, parseIdValue, splitAlternatives } from './parse-search-values.js';

/** Where a parameter is parsed: the resource types it applies to, and how deep in chains. */
export interface ParamScope {
  readonly types: readonly string[];
  readonly chainDepth: number;
  readonly hasDepth: number;
  /** The whole parameter name as the client sent it, for errors and `ignored`. */
  readonly label: string;
}

/** Features R4 defines that this server does not offer. */
const UNSUPPORTED: ReadonlyMap<string, string> = new Map([
  ['_text', 'narrative search (_text) is not supported'],
  ['_content', 'full-text search (_content) is not supported'],
  ['_filter', '_filter is not supported'],
  ['_list', '_list is not supported'],
  ['_query', 'named queries (_query) are not supported'],
  ['_contained', '_contained is not supported'],
  ['_containedType', '_containedType is not supported'],
  ['_score', '_score is not supported'],
]);

/**
 * The parameter `code` common to all `types` (same parameter type everywhere), if any.
 *
 * @example lookupParam(ctx, ['Patient'], 'family')?.type // 'string'
 */
export function lookupParam(ctx: SearchParseContext, types: readonly string[], code: string): SearchParameter | undefined {
  let found: SearchParameter | undefined;
  for (const type of types) {
    const p = ctx.registry.get(type, code);
    if (p === undefined || (found !== undefined && (found.type !== p.type || found.components.length !== p.components.length))) return undefined;
    found ??= p;
  }
  return found;
}

/** The union of the reference targets of `code` over `types`. */
export function targetsOf(ctx: SearchParseContext, types: readonly string[], code: string): string[] {
  const out = new Set<string>();
  for (const type of types) for (const t of ctx.registry.get(type, code)?.targets ?? []) out.add(t);
  return [...out];
}

/**
 * Parses one parameter in `scope`.
 *
 * @example parseCondition('subject:Patient.name', 'peter', { types: ['Observation'], chainDepth: 0, hasDepth: 0, label: 'subject:Patient.name' }, ctx)
 */
export function parseCondition(name: string, raw: string, scope: ParamScope, ctx: SearchParseContext): Condition | null {
  if (name.startsWith('_has:')) return parseHas(name.slice(5), raw, scope, ctx);
  const dot = name.indexOf('.');
  const head = dot === -1 ? name : name.slice(0, dot);
  const colon = head.indexOf(':');
  const code = colon === -1 ? head : head.slice(0, colon);
  const modifier = colon === -1 ? undefined : head.slice(colon + 1);
  if (code === '') return reject(ctx, scope.label, 'empty parameter name', 'search-invalid');
  if (dot !== -1) return parseChain(code, modifier, name.slice(dot + 1), raw, scope, ctx);

  const unsupported = UNSUPPORTED.get(code);
  if (unsupported !== undefined) return reject(ctx, scope.label, unsupported);
  if (code === '_id' || code === '_lastUpdated') {
    if (modifier !== undefined) return reject(ctx, scope.label, `modifier :${modifier} is not supported on ${code}`);
    const values = splitAlternatives(scope.label, raw);
    if (values.length === 0) return null;
    return code === '_id'
      ? { kind: 'id', values: values.map((v) => parseIdValue(scope.label, v)) }
      : { kind: 'last-updated', values: values.map((v) => parseDateValue(scope.label, v, ctx)) };
  }
  const param = lookupParam(ctx, scope.types, code);
  if (param === undefined) return reject(ctx, scope.label, `unknown search parameter for ${scope.types.length === 1 ? scope.types[0] : 'these resource types'}`);
  if (param.expression === undefined || param.type === 'special') return reject(ctx, scope.label, `search parameter ${code} is not supported`);
  return parseValuesOf(param, modifier, raw, scope, ctx, targetsOf(ctx, scope.types, code));
}

/** `ref[:Type].inner=value` (search.html §3.1.1.4.8.5). */
function parseChain(code: string, modifier: string | undefined, inner: string, raw: string, scope: ParamScope, ctx: SearchParseContext): Condition | null {
  if (scope.chainDepth >= SEARCH_LIMITS.maxChainDepth) return reject(ctx, scope.label, `chains deeper than ${SEARCH_LIMITS.maxChainDepth} are not supported`);
  const param = lookupParam(ctx, scope.types, code);
  if (param === undefined) return reject(ctx, scope.label, 'unknown search parameter');
  if (param.type !== 'reference') return reject(ctx, scope.label, `${code} is not a reference parameter and cannot be chained`, 'search-invalid');
  const targets = targetsOf(ctx, scope.types, code);
  let targetTypes: string[];
  if (modifier !== undefined) {
    if (!targets.includes(modifier)) return reject(ctx, scope.label, `:${modifier} is not a target type of ${code}`, 'search-invalid');
    targetTypes = [modifier];
  } else {
    // The target types follow from the reference's targets that define the chained parameter.
    const innerCode = inner.startsWith('_has:') ? '' : (inner.split(/[.:]/, 1)[0] ?? '');
    const special = innerCode === '_id' || innerCode === '_lastUpdated' || innerCode === '';
    targetTypes = special ? targets : targets.filter((t) => ctx.registry.get(t, innerCode) !== undefined);
    if (targetTypes.length === 0) return reject(ctx, scope.label, `no target type of ${code} has the parameter ${innerCode}`);
    if (!special && lookupParam(ctx, targetTypes, innerCode) === undefined) {
      return reject(ctx, scope.label, `${innerCode} means different things on the target types of ${code}; name one (${code}:Type.${innerCode})`, 'search-invalid');
    }
  }
  const condition = parseCondition(inner, raw, { ...scope, types: targetTypes, chainDepth: scope.chainDepth + 1 }, ctx);
  return condition === null ? null : { kind: 'chain', param: code, targetTypes, condition };
}

/** `_has:Type:param:inner=value` (search.html §3.1.1.4.9). */
function parseHas(rest: string, raw: string, scope: ParamScope, ctx: SearchParseContext): Condition | null {
  const first = rest.indexOf(':');
  const second = first === -1 ? -1 : rest.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1 || second === rest.length - 1) {
    return reject(ctx, scope.label, '_has must look like _has:Type:reference:parameter', 'search-invalid');
  }
  if (scope.hasDepth >= SEARCH_LIMITS.maxHasDepth) return reject(ctx, scope.label, `_has nested deeper than ${SEARCH_LIMITS.maxHasDepth} is not supported`);
  const sourceType = rest.slice(0, first);
  const refParam = rest.slice(first + 1, second);
  if (!ctx.registry.isResourceType(sourceType)) return reject(ctx, scope.label, 'unknown resource type in _has', 'search-invalid');
  const param = ctx.registry.get(sourceType, refParam);
  if (param === undefined) return reject(ctx, scope.label, `unknown search parameter ${sourceType}.${refParam}`);
  if (param.type !== 'reference') return reject(ctx, scope.label, `${sourceType}.${refParam} is not a reference parameter`, 'search-invalid');
  if (!param.targets.some((t) => scope.types.includes(t))) {
    return reject(ctx, scope.label, `${sourceType}.${refParam} cannot point at ${scope.types.join(', ')}`, 'search-invalid');
  }
  const condition = parseCondition(rest.slice(second + 1), raw, { ...scope, types: [sourceType], hasDepth: scope.hasDepth + 1 }, ctx);
  return condition === null ? null : { kind: 'has', sourceType, param: refParam, condition };
}

