/**
 * The allowed codes of `code` elements that have a REQUIRED binding, for the structure table.
 *
 * FHIR R4 terminologies.html#required ("binding strength required"): "To be conformant, the
 * concept in this element SHALL be from the specified value set." The StructureDefinitions give,
 * per element, binding.strength and binding.valueSet, but not the codes: the value set
 * expansions are not in definitions/. The codes are taken from the `enum` lists of the JSON
 * Schema in definitions/fhir-r4/fhir.schema.json.gz, which is a vendor (Medplum) variant of the
 * R4 schema (see PROVENANCE.md), so an enum is only used when all of these hold:
 *
 *   - the StructureDefinition element is a single-typed `code` with binding strength `required`
 *     (CodeableConcept, Coding and string elements are never enum-checked);
 *   - the schema property is exactly that element: a definition named after the element's
 *     parent (Patient, Patient_Contact, CapabilityStatement_Interaction1 …), a property of the
 *     same name, and a description identical to the element's definition text (backbone names
 *     collide: CapabilityStatement_Interaction is rest.resource.interaction, _Interaction1 is
 *     rest.interaction; only the description tells them apart);
 *   - every code the element's `short` text lists (male | female | other | unknown) is in the
 *     enum, so a truncated or misplaced enum cannot reject a valid R4 code;
 *   - the value set is closed: value sets drawn from external, open-ended code systems are
 *     never enumerated (OPEN_VALUE_SETS).
 *
 * One list is kept per value set URL (versions such as `|4.0.1` stripped) and applied to every
 * required `code` element bound to that value set, also where the schema repeats no enum (the
 * schema gives the enum once; RequestGroup.action.cardinalityBehavior shares PlanDefinition's).
 * Two different enums for one value set make the generator fail: that needs a review.
 */

/**
 * Value sets whose codes come from an external, open-ended code system (or a snapshot of one
 * that keeps growing): never enumerated, whatever the schema says. Leniency wins: accepting a
 * code outside these is acceptable, rejecting a valid one is not.
 */
export const OPEN_VALUE_SETS = new Map([
  ['http://hl7.org/fhir/ValueSet/mimetypes', 'urn:ietf:bcp:13: any IANA media type, with parameters (Attachment.contentType, Binary.contentType …)'],
  ['http://hl7.org/fhir/ValueSet/languages', 'urn:ietf:bcp:47: a grammar of language tags, not a list'],
  ['http://hl7.org/fhir/ValueSet/all-languages', 'urn:ietf:bcp:47: a grammar of language tags, not a list'],
  ['http://hl7.org/fhir/ValueSet/ucum-units', 'http://unitsofmeasure.org: a grammar of units, not a list'],
  ['http://hl7.org/fhir/ValueSet/currencies', 'urn:iso:std:iso:4217: maintained by ISO, outside FHIR'],
  ['http://hl7.org/fhir/ValueSet/spdx-license', 'a 2019 snapshot of the SPDX License List, which keeps growing'],
]);

// FHIR R4 datatypes.html#code: the code regex (no leading, trailing or repeated whitespace).
const CODE = /^[^\s]+(\s[^\s]+)*$/;

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Schema definitions that may render the table type `typeKey` (Patient, Patient.contact …). */
function candidateDefinitions(typeKey) {
  const segments = typeKey.split('.');
  if (segments.length === 1) return [typeKey];
  const base = `${segments[0]}_${capitalise(segments[segments.length - 1])}`;
  return [base, ...Array.from({ length: 9 }, (_, i) => `${base}${i + 1}`)];
}

/** The enum of the schema property that is exactly `element`, or undefined. */
function schemaEnum(schema, typeKey, name, element, fail) {
  const found = new Set();
  for (const definitionName of candidateDefinitions(typeKey)) {
    const property = schema.definitions[definitionName]?.properties?.[name];
    const codes = property?.enum ?? property?.items?.enum;
    const description = property?.description ?? property?.items?.description;
    if (codes !== undefined && description === element.definition) found.add(JSON.stringify(codes));
  }
  if (found.size > 1) fail(`${element.path}: several schema properties match, with different enums`);
  return found.size === 1 ? JSON.parse([...found][0]) : undefined;
}

/** The codes an element's `short` text lists ("home | work | old (If known)" → home, work, old). */
function shortCodes(element) {
  const short = element.short ?? '';
  if (!short.includes(' | ')) return [];
  return short
    .split(' | ')
    .map((part) => part.trim().split(/\s+/)[0])
    .filter((code) => code !== '' && code !== '+');
}

function valueSetUrl(element) {
  return element.binding.valueSet.split('|')[0];
}

/** True for an element this module may enum-check. */
export function isRequiredCodeBinding(element) {
  return (
    element.binding?.strength === 'required' &&
    element.binding.valueSet !== undefined &&
    element.type?.length === 1 &&
    element.type[0].code === 'code' &&
    element.max !== '0'
  );
}

/**
 * Builds `{ valueSets, bindings }` from the required `code` elements of the table:
 *   valueSets: { "<value set URL>": ["code", …] }, sorted by URL, codes in schema order;
 *   bindings:  { "<table type>": { "<json name>": "<value set URL>" } }, types sorted, elements
 *              in definition order.
 * Elements whose value set is open (OPEN_VALUE_SETS) or has no enum in the schema (request-status,
 * event-status, fm-status, resource-types … 28 value sets in 4.0.1) are left out: not checked.
 *
 * @param bound  [{ typeKey, name, element }]: typeKey and name as in the structure table.
 * @param fail   reports a disagreement that needs a review, and exits.
 */
export function buildCodeBindings(schema, bound, fail) {
  const codesByUrl = new Map();
  for (const { typeKey, name, element } of bound) {
    const url = valueSetUrl(element);
    if (OPEN_VALUE_SETS.has(url)) continue;
    const codes = schemaEnum(schema, typeKey, name, element, fail);
    if (codes === undefined) continue;
    const wellFormed = codes.length > 0 && new Set(codes).size === codes.length && codes.every((code) => typeof code === 'string' && CODE.test(code));
    if (!wellFormed) fail(`${element.path}: malformed schema enum`);
    const previous = codesByUrl.get(url);
    if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(codes)) fail(`${url}: the schema has different enums (${element.path})`);
    codesByUrl.set(url, codes);
  }
  const bindings = {};
  for (const { typeKey, name, element } of bound) {
    const url = valueSetUrl(element);
    const codes = codesByUrl.get(url);
    if (codes === undefined) continue;
    const missing = shortCodes(element).filter((code) => !codes.includes(code));
    if (missing.length > 0) fail(`${element.path}: the enum of ${url} lacks ${missing.join(', ')} (listed in the definition)`);
    bindings[typeKey] ??= {};
    bindings[typeKey][name] = url;
  }
  const sortKeys = (object) => Object.fromEntries(Object.keys(object).sort().map((key) => [key, object[key]]));
  return { valueSets: sortKeys(Object.fromEntries(codesByUrl)), bindings: sortKeys(bindings) };
}
