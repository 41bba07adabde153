/**
 * Validation of one primitive value: its JSON type, the `null` placeholders of repeating
 * primitives, its lexical format, and for `code` elements with a required binding, its code.
 */
import { isJsonObject, type JsonObject } from '../resource.js';
import type { CompiledElement } from './compiled-types.js';
import { describeJsonType } from './json-type.js';
import type { ValidationContext } from './validation-context.js';

/** The item at `index` of `owner[name]` when that is an array (undefined otherwise). */
export function partnerItem(owner: JsonObject, name: string, index: number): unknown {
  if (index < 0 || name === '' || !Object.hasOwn(owner, name)) return undefined;
  const partner = owner[name];
  return Array.isArray(partner) ? (partner[index] as unknown) : undefined;
}

/**
 * Validates `value`, the item `index` (-1 for a single value) of the primitive `element`
 * found in `owner`. Issues are reported at the context's current location.
 */
export function validatePrimitive(
  value: unknown,
  element: CompiledElement,
  owner: JsonObject,
  index: number,
  ctx: ValidationContext,
): void {
  const format = element.format;
  if (format === undefined) return;
  // input is attacker-controlled: check the JSON type before looking at the content.
  if (typeof value === format.json) {
    const failure = format.check(value as string | number | boolean);
    if (failure !== undefined) {
      ctx.report('invalid', failure.code, `${element.name} (${element.typeName}): expected ${failure.expected}`);
    } else if (element.binding !== undefined && !element.binding.codes.has(value as string)) {
      // FHIR R4 terminologies.html#required ("binding strength required"): the code SHALL be
      // from the value set. The value is attacker-controlled and may be patient data: it is only
      // looked up in a Set, and the diagnostics name the element and value set, not the value.
      ctx.report('invalid', 'code-invalid', element.binding.diagnostics);
    }
    return;
  }
  if (value === null) {
    // FHIR R4 json.html §2.6.2: in a repeating primitive, null fills the place of a value
    // whose id/extension are given at the same index of the `_name` array.
    if (isJsonObject(partnerItem(owner, element.partnerName, index))) return;
    const diagnostics = `${element.name}: null is only allowed in a repeating primitive, where _${element.pathName} has an object`;
    ctx.report('structure', 'structure', diagnostics);
    return;
  }
  const found = describeJsonType(value);
  ctx.report('structure', 'structure', `${element.name} (${element.typeName}): expected a JSON ${format.json}, found ${found}`);
}
