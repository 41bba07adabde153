/**
 * SMART App Launch 2.x resource scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html),
 * v1 (`.read`, `.write`, `.*`) and v2 (`.cruds` letters) forms:
 *   <context>/<ResourceType|*>.<permissions>[?param=value]
 * Scope strings come from tokens and requests: attacker-controlled until parsed.
 */
export type ScopeContext = 'patient' | 'user' | 'system';
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/**
 * One `param=value[,value]` of a scope's query: the resource must have one of the values
 * for the token search parameter `param` (SMART 2.x scopes-and-launch-context.html,
 * "Finer-grained resource constraints using search parameters"). A value is `code` (any
 * system) or `system|code`.
 */
export interface ScopeRestriction {
  readonly param: string;
  readonly values: readonly { readonly system?: string; readonly code: string }[];
}

export interface ResourceScope {
  readonly context: ScopeContext;
  /** A resource type, or `*`. */
  readonly type: string;
  readonly permissions: ReadonlySet<Permission>;
  /** Has a query (`?category=…`). It grants only where the decision supports the query (see `restrictions`). */
  readonly restricted: boolean;
  /**
   * The query as token restrictions (all must hold), when it has that form; undefined for
   * a query of any other form, which grants nothing.
   */
  readonly restrictions?: readonly ScopeRestriction[];
}

const MAX_RESTRICTIONS = 8;
const MAX_VALUES = 16;
const PARAM = /^[a-z][A-Za-z0-9-]{0,63}$/;

/** Parses a scope's query (attacker input) into token restrictions; undefined when it is not of that form. */
function parseRestrictions(query: string): ScopeRestriction[] | undefined {
  const out: ScopeRestriction[] = [];
  const parts = query.split('&');
  if (parts.length > MAX_RESTRICTIONS) return undefined;
  for (const part of parts) {
    const eq = part.indexOf('=');
    const param = part.slice(0, eq);
    if (eq <= 0 || !PARAM.test(param)) return undefined;
    let raw: string;
    try {
      raw = decodeURIComponent(part.slice(eq + 1));
    } catch {
      return undefined;
    }
    const values: { system?: string; code: string }[] = [];
    const list = raw.split(',');
    if (list.length > MAX_VALUES) return undefined;
    for (const v of list) {
      const bar = v.indexOf('|');
      const system = bar < 0 ? undefined : v.slice(0, bar);
      const code = bar < 0 ? v : v.slice(bar + 1);
      // No escapes, no "|code" (no system), no empty parts: anything unusual is not supported.
      if (code === '' || system === '' || code.includes('|') || /[\\$]/.test(v)) return undefined;
      values.push(system === undefined ? { code } : { system, code });
    }
    out.push({ param, values });
  }
  return out;
}

const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|c?r?u?d?s?)(\?[^\s]{1,512})?$/;

const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };

/** Parses one scope; undefined for scopes that are not resource scopes (openid, launch, …) or malformed. */
export function parseResourceScope(scope: string): ResourceScope | undefined {
  const m = SCOPE.exec(scope);
  if (m === null || m[3] === '') return undefined;
  const perms = V1[m[3]!] ?? (m[3]!.split('') as Permission[]);
  const base = { context: m[1] as ScopeContext, type: m[2]!, permissions: new Set(perms) };
  if (m[4] === undefined) return { ...base, restricted: false };
  const restrictions = parseRestrictions(m[4].slice(1));
  return restrictions === undefined ? { ...base, restricted: true } : { ...base, restricted: true, restrictions };
}

/** Splits a space-separated scope string (RFC 6749 §3.3) and keeps the resource scopes. */
export function parseScopes(scope: string): ResourceScope[] {
  const out: ResourceScope[] = [];
  for (const s of scope.split(' ')) {
    if (s === '') continue;
    const parsed = parseResourceScope(s);
    if (parsed !== undefined) out.push(parsed);
  }
  return out;
}

/** Can the decision enforce a restricted scope on `type`? (Every parameter a token search parameter of the type.) */
export type RestrictionSupport = (type: string, restrictions: readonly ScopeRestriction[]) => boolean;

/** A restricted scope the decision can enforce: a query of token restrictions on one named type. */
export function isEnforceable(s: ResourceScope, supports: RestrictionSupport | undefined): boolean {
  return s.restrictions !== undefined && s.type !== '*' && supports !== undefined && supports(s.type, s.restrictions);
}

/**
 * Does any scope grant `permission` on `type` in one of the allowed contexts? Deny by
 * default. A restricted scope grants only when `supports` says the decision enforces its
 * query (the data-level part then limits the type, see permission-check.ts); without
 * `supports`, restricted scopes grant nothing.
 */
export function scopesGrant(scopes: readonly ResourceScope[], type: string, permission: Permission, contexts: readonly ScopeContext[], supports?: RestrictionSupport): boolean {
  return scopes.some((s) => (!s.restricted || isEnforceable(s, supports)) && contexts.includes(s.context) && (s.type === '*' || s.type === type) && s.permissions.has(permission));
}
