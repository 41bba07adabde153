/**
 * Reference and uri index rows (FHIR R4 search.html §3.1.1.4.9 "reference", §3.1.1.4.11 "uri").
 *
 * - Reference.reference `Type/id` (a version `/_history/n` is dropped) → targetType/targetId;
 *   an absolute URL under our own base → the same; other absolute URLs (and URNs) → `url`;
 *   contained references `#x` are skipped. Reference.identifier → identifier columns.
 * - canonical and uri values → `url`, a canonical's `|version` stripped.
 * - A resource (`Bundle.entry[0].resource`) → its own type and id, when it is of a target type.
 * - uri rows keep the value; a versioned canonical also gets a row without its version.
 */
import { parseReference, stripCanonicalVersion } from './reference-target.js';
import type { RowSink } from './row-sink.js';

type Obj = Record<string, unknown>;
const URI_TYPES: ReadonlySet<string> = new Set(['canonical', 'uri', 'url', 'oid', 'uuid']);

export interface ReferenceContext {
  readonly isType: (t: string) => boolean;
  /** Our own base URL: absolute references under it are local. */
  readonly baseUrl?: string;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function addReference(sink: RowSink, param: string, grp: number, ref: Obj, ctx: ReferenceContext): number {
  let targetType: string | null = null;
  let targetId: string | null = null;
  let url: string | null = null;
  const literal = str(ref['reference']);
  if (literal !== null) {
    const parsed = parseReference(literal, ctx.isType, ctx.baseUrl);
    if (parsed?.kind === 'local') {
      targetType = parsed.type;
      targetId = parsed.id;
    } else if (parsed?.kind === 'url') {
      url = parsed.url;
    }
  }
  const identifier = ref['identifier'];
  let identifierSystem: string | null = null;
  let identifierValue: string | null = null;
  if (typeof identifier === 'object' && identifier !== null && !Array.isArray(identifier)) {
    identifierSystem = str((identifier as Obj)['system']);
    identifierValue = str((identifier as Obj)['value']);
  }
  if (targetId === null && url === null && identifierValue === null && identifierSystem === null) return 0;
  sink.reference(param, grp, targetType, targetId, url, identifierSystem, identifierValue);
  return 1;
}

/**
 * Adds the reference rows of `value` (of FHIR datatype `type`); returns how many it produced.
 *
 * @example addReferenceRows(sink, 'subject', 0, { reference: 'Patient/1' }, 'Reference', ctx)
 */
export function addReferenceRows(
  sink: RowSink,
  param: string,
  grp: number,
  value: unknown,
  type: string,
  ctx: ReferenceContext,
  targets: readonly string[] = [],
): number {
  if (typeof value === 'string') {
    if (value.length === 0 || value.startsWith('#') || !URI_TYPES.has(type)) return 0;
    // canonical, uri, url: a URL that is not a literal reference into this server.
    const parsed = type === 'canonical' ? undefined : parseReference(value, ctx.isType, ctx.baseUrl);
    if (parsed?.kind === 'local') sink.reference(param, grp, parsed.type, parsed.id, null, null, null);
    else sink.reference(param, grp, null, null, parsed?.kind === 'url' ? parsed.url : stripCanonicalVersion(value), null, null);
    return 1;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 0;
  const obj = value as Obj;
  if (type === 'Reference') return addReference(sink, param, grp, obj, ctx);
  const resourceType = str(obj['resourceType']);
  const id = str(obj['id']);
  if (resourceType !== null && targets.includes(resourceType) && id !== null) {
    sink.reference(param, grp, resourceType, id, null, null, null);
    return 1;
  }
  return 0;
}

/**
 * Adds the uri rows of `value`; returns how many it produced.
 *
 * @example addUriRows(sink, 'url', 0, 'http://hl7.org/fhir/ValueSet/x|4.0.1', 'canonical') // 2 rows
 */
export function addUriRows(sink: RowSink, param: string, grp: number, value: unknown, type: string): number {
  if (typeof value !== 'string' || value.length === 0) return 0;
  sink.uri(param, grp, value);
  if (type === 'canonical' && value.includes('|')) sink.uri(param, grp, stripCanonicalVersion(value));
  return 1;
}
