/**
 * Literal references (FHIR R4 references.html §2.3.0.1): `Type/id`, `Type/id/_history/v`,
 * absolute URLs, `#contained` and URNs. Shared by the indexer, the query parser and the
 * offline `resolve()` used by search expressions (`.where(resolve() is Patient)`), which
 * never fetches anything: a reference "resolves" to a resource of the type it names.
 */

export type ParsedReference =
  | { readonly kind: 'local'; readonly type: string; readonly id: string }
  | { readonly kind: 'contained'; readonly id: string }
  | { readonly kind: 'url'; readonly url: string; readonly type: string | undefined };

/**
 * True when `s` is a valid resource id (R4 datatypes.html#id: `[A-Za-z0-9\-\.]{1,64}`).
 *
 * @example isResourceId('a-1.b') // true
 */
export function isResourceId(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46;
    if (!ok) return false;
  }
  return true;
}

/** `Type/id` or `Type/id/_history/v` at the end of `segments`, or undefined. */
function typeAndIdAtEnd(segments: readonly string[], isType: (t: string) => boolean): { type: string; id: string; used: number } | undefined {
  const n = segments.length;
  if (n >= 4 && segments[n - 2] === '_history') {
    const type = segments[n - 4]!;
    const id = segments[n - 3]!;
    if (isType(type) && isResourceId(id)) return { type, id, used: 4 };
  }
  if (n >= 2) {
    const type = segments[n - 2]!;
    const id = segments[n - 1]!;
    if (isType(type) && isResourceId(id)) return { type, id, used: 2 };
  }
  return undefined;
}

/** True when `ref` starts with a URI scheme (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"). */
export function hasScheme(ref: string): boolean {
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (c === 58) return i > 0;
    if (!alpha && (i === 0 || !((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46))) return false;
  }
  return false;
}

/**
 * Parses a literal reference. Conditional references (`Patient?identifier=…`) are not literal
 * references and give undefined. Absolute URLs under `baseUrl` become local; other absolute
 * URLs keep their text without a trailing `/_history/v`.
 *
 * @example parseReference('Patient/1/_history/2', isType) // { kind: 'local', type: 'Patient', id: '1' }
 */
export function parseReference(ref: string, isType: (t: string) => boolean, baseUrl?: string): ParsedReference | undefined {
  if (ref.length === 0 || ref.length > 4096) return undefined;
  if (ref.startsWith('#')) return ref.length > 1 ? { kind: 'contained', id: ref.slice(1) } : undefined;
  const slash = ref.indexOf('/');
  if (!hasScheme(ref)) {
    // The common case, `Type/id`, without allocating the split.
    if (slash > 0 && ref.indexOf('/', slash + 1) === -1) {
      const type = ref.slice(0, slash);
      const id = ref.slice(slash + 1);
      return isType(type) && isResourceId(id) ? { kind: 'local', type, id } : undefined;
    }
    const segments = ref.split('/');
    if (segments.length !== 2 && segments.length !== 4) return undefined;
    const found = typeAndIdAtEnd(segments, isType);
    return found !== undefined && found.used === segments.length ? { kind: 'local', type: found.type, id: found.id } : undefined;
  }
  if (baseUrl !== undefined && baseUrl.length > 0) {
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    if (ref.startsWith(base)) {
      const local = parseReference(ref.slice(base.length), isType);
      if (local?.kind === 'local') return local;
    }
  }
  const segments = ref.split('/');
  const found = typeAndIdAtEnd(segments, isType);
  if (found === undefined) return { kind: 'url', url: ref, type: undefined };
  const url = found.used === 4 ? segments.slice(0, segments.length - 2).join('/') : ref;
  return { kind: 'url', url, type: found.type };
}

/**
 * `url|version` → `url` (R4 references.html §2.3.0.4 canonical references).
 *
 * @example stripCanonicalVersion('http://x/ValueSet/v|4.0.1') // 'http://x/ValueSet/v'
 */
export function stripCanonicalVersion(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar === -1 ? canonical : canonical.slice(0, bar);
}

/**
 * The resource type a Reference element "resolves" to without fetching: the type its literal
 * reference names (a contained resource's own type for `#id`), else its `type` element.
 */
export function resolvedTypeOf(reference: unknown, root: unknown, isType: (t: string) => boolean): string | undefined {
  if (typeof reference !== 'object' || reference === null) return undefined;
  const r = reference as { reference?: unknown; type?: unknown };
  if (typeof r.reference === 'string') {
    const parsed = parseReference(r.reference, isType);
    if (parsed?.kind === 'local') return parsed.type;
    if (parsed?.kind === 'url' && parsed.type !== undefined) return parsed.type;
    if (parsed?.kind === 'contained') return containedTypeOf(root, parsed.id);
  }
  return typeof r.type === 'string' && isType(r.type) ? r.type : undefined;
}

function containedTypeOf(root: unknown, id: string): string | undefined {
  const contained = (root as { contained?: unknown } | null)?.contained;
  if (!Array.isArray(contained)) return undefined;
  for (const c of contained) {
    const res = c as { id?: unknown; resourceType?: unknown } | null;
    if (res?.id === id && typeof res.resourceType === 'string') return res.resourceType;
  }
  return undefined;
}
