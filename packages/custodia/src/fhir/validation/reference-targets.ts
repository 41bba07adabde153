/**
 * The resource types a `Reference` may point to (FHIR R4 references.html §2.3.0.1: "the
 * reference SHALL point to a resource of a type" its targetProfile allows), from the
 * structure table (scripts/generate-structure-tables.mjs: `references`). Only literal
 * RESTful references are checked — `Type/id`, `Type/id/_history/vid`, or either after an
 * http(s) base when `Type` is an R4 resource type (references.html §2.3.0.2); a local
 * `#id` names the type of the contained resource it points to (§2.3.0.4); `urn:` and
 * logical references name no type here. So are `Reference.type` values that name a
 * resource type.
 */
import { loadStructureTable } from './structure-table.js';
import { isResourceType } from './resource-types.js';
import type { JsonObject } from '../resource.js';
import type { ValidationContext } from './validation-context.js';

const targetSets = new Map<string, ReadonlySet<string>>();

/**
 * The targets of the Reference element `name` of table type `typeName`, or undefined when it
 * may point to any resource. Both names come from the table, not from the input.
 *
 * @example
 *   referenceTargetsOf('Observation', 'subject') // Set { 'Device', 'Group', 'Location', 'Patient' }
 */
export function referenceTargetsOf(typeName: string, name: string): ReadonlySet<string> | undefined {
  const { references } = loadStructureTable();
  const byName = Object.hasOwn(references, typeName) ? references[typeName] : undefined;
  const targets = byName !== undefined && Object.hasOwn(byName, name) ? byName[name] : undefined;
  if (targets === undefined) return undefined;
  const key = targets.join(',');
  let set = targetSets.get(key);
  if (set === undefined) {
    set = new Set(targets);
    targetSets.set(key, set);
  }
  return set;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const TYPE_NAME = /^[A-Z][A-Za-z]{0,63}$/;

/**
 * The resource type a literal reference names, or undefined for one that names none
 * (contained, urn:, or not of the RESTful form). `reference` is hostile input: it is split
 * on `/` (linear in its length; no backtracking regex runs over the whole string) and only
 * bounded segments are matched.
 */
export function referencedType(reference: string): string | undefined {
  if (reference.startsWith('#') || reference.startsWith('urn:')) return undefined;
  const parts = reference.split('/');
  let n = parts.length;
  if (n >= 4 && parts[n - 2] === '_history') n -= 2;
  if (n < 2) return undefined;
  const type = parts[n - 2]!;
  if (!TYPE_NAME.test(type) || !ID.test(parts[n - 1]!)) return undefined;
  if (n === 2) return type;
  // After an http(s) base (`https:`, '', host, …, Type, id): another server's URL need not be
  // RESTful, so it names a type only when that segment is an R4 resource type.
  const absolute = n >= 5 && (parts[0] === 'http:' || parts[0] === 'https:') && parts[1] === '';
  return absolute && isResourceType(type) ? type : undefined;
}

/**
 * Checks one Reference (`value` is hostile input, already walked as a Reference):
 *
 * - ref-1 (FHIR R4 Reference invariant; references.html §2.3.0.4): a local reference `#id`
 *   SHALL name a contained resource of the resource that holds it — the root, or the
 *   Bundle entry or Parameters resource it sits in; from inside a contained resource, its
 *   container. `#` alone names that resource itself (the spec's prose allows it from a
 *   contained resource; R4's expression predates that and would refuse it).
 * - target types, when `targets` is given: a literal or local reference, or `type`, that
 *   names a resource type `targets` does not allow.
 */
export function checkReference(value: JsonObject, targets: ReadonlySet<string> | undefined, ctx: ValidationContext): void {
  const reference = Object.hasOwn(value, 'reference') ? value['reference'] : undefined;
  // `#id`: the type of the contained resource it names in the enclosing resource.
  let local: string | undefined;
  if (typeof reference === 'string' && reference.startsWith('#')) {
    ctx.noteLocalUse(reference);
    local = ctx.localFrames.at(-1)?.targets.get(reference);
    if (local === undefined) ctx.report('invalid', 'invariant', 'A local reference (#id) must name a contained resource of the resource holding it (ref-1)', 'reference');
  }
  if (targets === undefined) return;
  const named = local ?? (typeof reference === 'string' ? referencedType(reference) : undefined);
  if (named !== undefined && !targets.has(named)) ctx.report('invalid', 'value', refused(named, targets), 'reference');
  const declared = Object.hasOwn(value, 'type') ? value['type'] : undefined;
  if (typeof declared === 'string' && TYPE_NAME.test(declared) && isResourceType(declared) && !targets.has(declared)) {
    ctx.report('invalid', 'value', refused(declared, targets), 'type');
  }
}

/** Names the allowed types and the type found when it is a resource type (never other input). */
function refused(found: string, targets: ReadonlySet<string>): string {
  const what = isResourceType(found) ? found : 'a type that is not an R4 resource type';
  return `This reference may point to ${[...targets].join(', ')}, not ${what} (targetProfile, FHIR R4 references.html)`;
}
