/**
 * SMART App Launch 2.x resource scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html),
 * v1 (`.read`, `.write`, `.*`) and v2 (`.cruds` letters) forms:
 *   <context>/<ResourceType|*>.<permissions>[?param=value]
 * Scope strings come from tokens and requests: attacker-controlled until parsed.
 */
export type ScopeContext = 'patient' | 'user' | 'system';
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

export interface ResourceScope {
  readonly context: ScopeContext;
  /** A resource type, or `*`. */
  readonly type: string;
  readonly permissions: ReadonlySet<Permission>;
  /** v2 query restrictions (`?category=…`); a scope with one grants nothing until restrictions are enforced. */
  readonly restricted: boolean;
}

const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|c?r?u?d?s?)(\?[^\s]{1,512})?$/;

const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };

/** Parses one scope; undefined for scopes that are not resource scopes (openid, launch, …) or malformed. */
export function parseResourceScope(scope: string): ResourceScope | undefined {
  const m = SCOPE.exec(scope);
  if (m === null || m[3] === '') return undefined;
  const perms = V1[m[3]!] ?? (m[3]!.split('') as Permission[]);
  return { context: m[1] as ScopeContext, type: m[2]!, permissions: new Set(perms), restricted: m[4] !== undefined };
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

/** Does any scope grant `permission` on `type` in one of the allowed contexts? Deny by default. */
export function scopesGrant(scopes: readonly ResourceScope[], type: string, permission: Permission, contexts: readonly ScopeContext[]): boolean {
  return scopes.some((s) => !s.restricted && contexts.includes(s.context) && (s.type === '*' || s.type === type) && s.permissions.has(permission));
}
