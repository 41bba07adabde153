/**
 * The recursive walk over a resource: every property of every object is looked up in the
 * compiled type of that object, then checked for JSON shape (array or single), JSON type,
 * format, cardinality and choice exclusivity. Nested resources are walked with their own type.
 */
import { isJsonObject, type JsonObject } from '../resource.js';
import { compiledType, complexTypeOf, ElementKind, type CompiledElement, type CompiledType } from './compiled-types.js';
import { describeJsonType } from './json-type.js';
import { isResourceType } from './resource-types.js';
import { partnerItem, validatePrimitive } from './validate-primitive.js';
import { checkReference } from './reference-targets.js';
import type { ValidationContext } from './validation-context.js';

/** The primitive types whose `#id` value names a contained resource (dom-3: `as(canonical)`, `as(uri)`, `as(url)`). */
const LOCAL_URI_TYPES: ReadonlySet<string> = new Set(['canonical', 'uri', 'url']);

/** At most this many nested objects are walked, the resource included (official examples: 11). */
export const MAX_DEPTH = 64;

/** Where a resource sits: the input, DomainResource.contained, or another Resource-typed element. */
export const ResourceRole = { Root: 0, Contained: 1, Nested: 2 } as const;
export type ResourceRole = (typeof ResourceRole)[keyof typeof ResourceRole];

/**
 * Validates a JSON object that must be a resource. For the root, the expression starts with the
 * resource type (`Patient`); nested resources continue the current path
 * (`Bundle.entry[0].resource.name[0]`).
 */
export function validateResourceObject(obj: JsonObject, ctx: ValidationContext, depth: number, role: ResourceRole): void {
  // FHIR R4 json.html (resources): a resource is an object whose resourceType property names its type.
  const resourceType = Object.hasOwn(obj, 'resourceType') ? obj['resourceType'] : undefined;
  const type = typeof resourceType === 'string' && isResourceType(resourceType) ? compiledType(resourceType) : undefined;
  const isRoot = role === ResourceRole.Root;
  if (isRoot) ctx.push(type?.name ?? 'Resource');
  if (type === undefined) {
    reportResourceType(resourceType, ctx);
  } else if (role === ResourceRole.Contained) {
    const outer = ctx.containedId;
    ctx.containedId = typeof obj['id'] === 'string' ? obj['id'] : undefined;
    validateObject(obj, type, ctx, depth);
    ctx.containedId = outer;
    checkContainedResource(obj, ctx);
  } else {
    const outer = ctx.containedId;
    ctx.containedId = undefined;
    const frame = { targets: localTargetsOf(obj, type.name), uses: new Set<string>() };
    ctx.localFrames.push(frame);
    validateObject(obj, type, ctx, depth);
    ctx.localFrames.pop();
    if (!ctx.stopped) checkContainedUsed(obj, frame.uses, ctx);
    ctx.containedId = outer;
  }
  if (isRoot) ctx.leave();
}

/**
 * What a local reference can name inside `obj` (references.html §2.3.0.4 "Contained
 * Resources"): `#` the resource itself, `#id` each contained resource with a string id and
 * an R4 type. Only read from the hostile input; malformed entries are reported by the walk.
 */
function localTargetsOf(obj: JsonObject, type: string): Map<string, string> {
  const targets = new Map<string, string>([['#', type]]);
  const contained = Object.hasOwn(obj, 'contained') ? obj['contained'] : undefined;
  if (Array.isArray(contained)) {
    for (const c of contained) {
      if (!isJsonObject(c)) continue;
      const id = c['id'];
      const t = c['resourceType'];
      if (typeof id === 'string' && typeof t === 'string' && isResourceType(t)) targets.set(`#${id}`, t);
    }
  }
  return targets;
}

/**
 * FHIR R4 DomainResource invariant dom-3: a contained resource SHALL be referred to from
 * elsewhere in the resource (a Reference, canonical, uri or url `#id`), or SHALL refer to
 * the containing resource (`#`). `used` holds what the walk of `obj` recorded.
 */
function checkContainedUsed(obj: JsonObject, used: ReadonlySet<string>, ctx: ValidationContext): void {
  const contained = Object.hasOwn(obj, 'contained') ? obj['contained'] : undefined;
  if (!Array.isArray(contained)) return;
  contained.forEach((c: unknown, i) => {
    if (!isJsonObject(c) || typeof c['id'] !== 'string' || used.has(`#${c['id']}`)) return;
    ctx.push('contained');
    ctx.push(i);
    ctx.report('invalid', 'invariant', 'A contained resource must be referenced from elsewhere in the resource, or refer to it (dom-3)');
    ctx.leave();
    ctx.leave();
  });
}

/** Reports a resourceType that is missing, not a string, or not a concrete R4 type. */
function reportResourceType(resourceType: unknown, ctx: ValidationContext): void {
  if (resourceType === undefined) {
    ctx.report('structure', 'required', 'A resource must have a resourceType property', 'resourceType');
  } else if (typeof resourceType !== 'string') {
    ctx.report('structure', 'structure', `resourceType must be a JSON string, found ${describeJsonType(resourceType)}`, 'resourceType');
  } else {
    ctx.report('structure', 'not-supported', 'resourceType is not a concrete FHIR R4 resource type', 'resourceType');
  }
}

/** Rules that apply only to contained resources. */
function checkContainedResource(obj: JsonObject, ctx: ValidationContext): void {
  // FHIR R4 DomainResource invariant dom-2: a contained resource SHALL NOT contain nested resources.
  if (Object.hasOwn(obj, 'contained')) {
    ctx.report('invalid', 'invariant', 'A contained resource must not contain resources (dom-2)', 'contained');
  }
  // FHIR R4 resource.html (Resource.id) and references.html#contained: contained resources are
  // referenced by their local id; only a resource being created on a server has no id.
  if (!Object.hasOwn(obj, 'id')) ctx.report('invalid', 'required', 'A contained resource must have an id', 'id');
}

/** Validates the properties of `obj` against `type`, then its required elements. */
export function validateObject(obj: JsonObject, type: CompiledType, ctx: ValidationContext, depth: number): void {
  let seenRequired = 0;
  let seenChoices = 0;
  let empty = true;
  // input is attacker-controlled: keys are only looked up in a Map (never on an object, so
  // __proto__ or constructor are just unknown names), and values are only read, never written.
  for (const key in obj) {
    empty = false;
    const element = type.elements.get(key);
    if (element === undefined) {
      ctx.reportUnknown(key, `Unknown element: ${type.name} has no element with this name in FHIR R4`);
    } else if (element.kind !== ElementKind.ResourceType) {
      seenRequired |= element.requiredBit;
      // FHIR R4 formats.html#choice: only one variant of a choice element (value[x]) may be present;
      // `_valueString` next to `valueString` is the same variant.
      if (element.choiceBit !== 0 && (element.kind !== ElementKind.Sibling || !Object.hasOwn(obj, element.partnerName))) {
        if ((seenChoices & element.choiceBit) !== 0) {
          const diagnostics = `${type.name}.${element.choiceName} has more than one type: only one variant may be present`;
          ctx.report('invalid', 'structure', diagnostics, element.pathName);
        }
        seenChoices |= element.choiceBit;
      }
      ctx.push(element.pathName);
      validateValue(obj[key], element, obj, ctx, depth);
      ctx.leave();
    }
    if (ctx.stopped) return;
  }
  if (empty) {
    // FHIR R4 json.html ("no empty elements") and invariant ele-1: an element has a value or children.
    ctx.report('invalid', 'invariant', `${type.name} must not be an empty object (ele-1)`);
    return;
  }
  if ((seenRequired & type.requiredMask) !== type.requiredMask) {
    for (const slot of type.requiredSlots) {
      if ((seenRequired & slot.bit) === 0) {
        ctx.report('invalid', 'required', `${type.name}.${slot.name} is required (min 1) but missing`, slot.name);
      }
    }
  }
}

/** Checks the JSON shape (array or single) and cardinality of one property, then its items. */
function validateValue(value: unknown, element: CompiledElement, owner: JsonObject, ctx: ValidationContext, depth: number): void {
  if (element.prohibited) {
    // e.g. SimpleQuantity invariant sqty-1: the comparator is not used (max 0 in the profile).
    ctx.report('invalid', 'invariant', `${element.name} is not allowed here (max 0 in the profile of this element)`);
    return;
  }
  if (!element.array) {
    if (!Array.isArray(value)) validateItem(value, element, owner, -1, ctx, depth);
    else ctx.report('structure', 'structure', `${element.name} does not repeat: expected a single value, not an array`);
    return;
  }
  if (!Array.isArray(value)) {
    ctx.report('structure', 'structure', `${element.name} repeats: expected a JSON array, found ${describeJsonType(value)}`);
    return;
  }
  if (value.length === 0) {
    // FHIR R4 json.html ("no empty elements"): arrays are never empty.
    ctx.report('invalid', 'invariant', `${element.name} must not be an empty array`);
    return;
  }
  if (element.kind === ElementKind.Sibling) checkAlignment(value, element, owner, ctx);
  for (let i = 0; i < value.length; i++) {
    ctx.push(i);
    validateItem(value[i], element, owner, i, ctx, depth);
    ctx.leave();
    if (ctx.stopped) return;
  }
}

/** FHIR R4 json.html §2.6.2: `_given` and `given` are aligned arrays of the same length. */
function checkAlignment(siblings: readonly unknown[], element: CompiledElement, owner: JsonObject, ctx: ValidationContext): void {
  const values = Object.hasOwn(owner, element.partnerName) ? owner[element.partnerName] : undefined;
  if (Array.isArray(values) && values.length !== siblings.length) {
    ctx.report('structure', 'structure', `${element.name} must have as many entries as ${element.partnerName}, aligned with null`);
  }
}

/** Validates one item of a property (`index` = -1 for a non-repeating property). */
function validateItem(
  value: unknown,
  element: CompiledElement,
  owner: JsonObject,
  index: number,
  ctx: ValidationContext,
  depth: number,
): void {
  if (element.kind === ElementKind.Primitive) {
    validatePrimitive(value, element, owner, index, ctx);
    if (typeof value === 'string' && value.startsWith('#') && LOCAL_URI_TYPES.has(element.typeName)) ctx.noteLocalUse(value);
    return;
  }
  if (value === null && element.kind === ElementKind.Sibling) {
    // FHIR R4 json.html §2.6.2: null in `_given` where `given` has a value but no id/extension.
    const partnerValue = partnerItem(owner, element.partnerName, index);
    if (partnerValue !== null && partnerValue !== undefined) return;
    const diagnostics = `${element.name}: null is only allowed where ${element.partnerName} has a value at the same index`;
    ctx.report('structure', 'structure', diagnostics);
    return;
  }
  if (!isJsonObject(value)) {
    const found = describeJsonType(value);
    ctx.report('structure', 'structure', `${element.name} (${element.typeName}): expected a JSON object, found ${found}`);
    return;
  }
  if (depth + 1 >= MAX_DEPTH) {
    ctx.report('structure', 'too-costly', `Nesting deeper than ${MAX_DEPTH} objects is not accepted`);
    return;
  }
  if (element.kind === ElementKind.Resource) {
    validateResourceObject(value, ctx, depth + 1, element.contained ? ResourceRole.Contained : ResourceRole.Nested);
  } else {
    validateObject(value, complexTypeOf(element), ctx, depth + 1);
    if (element.typeName === 'Reference') checkReference(value, element.targets, ctx);
  }
}
