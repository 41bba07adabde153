/**
 * Cross-check of the generated structure table against the R4 JSON Schema (draft-06) shipped in
 * definitions/fhir-r4/fhir.schema.json.gz. The StructureDefinitions are the source of the table;
 * the schema is an independent rendering of the same definitions, so every disagreement is
 * either a reviewed one (listed here, with the reason) or a failure of the generator.
 */

/**
 * Known, reviewed disagreements between the StructureDefinitions (which win) and the JSON
 * Schema shipped in definitions/. Keyed by "<schema definition>.<property>" or "primitive:<type>".
 */
const SCHEMA_DIFFERENCES = new Map([
  // The schema file carries no pattern for base64Binary; the StructureDefinition regex is kept
  // (the runtime checks it with a linear scanner: the regex itself backtracks exponentially).
  ['primitive:base64Binary', 'schema has no pattern'],
  // The schema file is not the pristine R4 one: besides 41 non-FHIR resource definitions
  // (Project, ClientApplication, Bot …, ignored here) it adds these properties, none of which
  // exists in FHIR R4 4.0.1. The StructureDefinitions win: the vault rejects them.
  ...[
    'DeviceDefinition.classification',
    'Meta.project',
    'Meta.author',
    'Meta.account',
    'Meta.compartment',
    'ObservationDefinition.publisher',
    'OperationOutcome.status',
    'OperationOutcome.resource',
    'Reference.resource',
  ].map((key) => [key, 'not FHIR R4: a vendor addition in the schema file']),
]);

function capitalise(code) {
  return code.charAt(0).toUpperCase() + code.slice(1);
}

/** The JSON properties (name → 'array' | 'single') of a schema definition. */
function schemaProperties(definition) {
  return new Map(Object.entries(definition.properties ?? {}).map(([name, prop]) => [name, prop.type === 'array' ? 'array' : 'single']));
}

/** The JSON properties the table allows for one type, `_name` siblings included. */
function tableProperties(type, primitiveNames) {
  const expected = new Map();
  if (type.kind === 'resource') expected.set('resourceType', 'single');
  for (const [name, [elementType, , max]] of Object.entries(type.elements)) {
    const shape = max === '*' ? 'array' : 'single';
    expected.set(name, shape);
    if (primitiveNames.has(elementType)) expected.set(`_${name}`, shape);
  }
  return expected;
}

/**
 * Schema definitions of backbone elements are named after the resource and the last path
 * segment (Patient_Contact for Patient.contact, Bundle_Request for Bundle.entry.request), with
 * a digit appended on collisions (ClaimResponse_Detail1): the best-matching candidate is used.
 */
function findSchemaDefinition(schema, typeName, expected) {
  const segments = typeName.split('.');
  if (segments.length === 1) return schema.definitions[typeName] ? typeName : undefined;
  const base = `${segments[0]}_${capitalise(segments[segments.length - 1])}`;
  let best;
  let bestScore = -Infinity;
  for (const candidate of [base, `${base}1`, `${base}2`]) {
    const definition = schema.definitions[candidate];
    if (!definition) continue;
    const names = [...schemaProperties(definition).keys()];
    const score = names.filter((name) => expected.has(name)).length - names.filter((name) => !expected.has(name)).length;
    if (score > bestScore) [best, bestScore] = [candidate, score];
  }
  return best;
}

/**
 * Reviewed, generic disagreements where the StructureDefinitions win:
 * - the schema has no `_name` sibling for canonical elements, although FHIR R4 json.html §2.6.2
 *   gives every primitive one;
 * - the schema allows modifierExtension on the Element-based parts of data types
 *   (DataRequirement.codeFilter …), which the snapshots (type Element, not BackboneElement) do not.
 */
function isKnownDifference(types, typeName, name) {
  const type = types[typeName];
  const element = type.elements[name.startsWith('_') ? name.slice(1) : name];
  if (name.startsWith('_') && element?.[0] === 'canonical') return true;
  return name === 'modifierExtension' && !type.elements.modifierExtension && types[typeName.split('.')[0]]?.kind === 'complex';
}

/**
 * The mandatory elements the schema lists as required: those that cannot be given by their
 * `_name` sibling alone (in the schema's view: complex types, canonical, and "@" primitives).
 */
function requiredProperties(type, primitiveNames) {
  const required = Object.entries(type.elements)
    .filter(([, [elementType, min, , choice]]) => min === 1 && choice === undefined && (!primitiveNames.has(elementType) || elementType === 'canonical'))
    .map(([name]) => name);
  if (type.kind === 'resource') required.push('resourceType');
  return required.sort();
}

function comparePrimitives(schema, primitives, differ) {
  for (const [name, entry] of Object.entries(primitives)) {
    const definition = schema.definitions[name];
    if (!definition) {
      differ(`primitive:${name}`, 'missing in schema');
      continue;
    }
    if (name !== 'xhtml' && definition.type !== entry.json) differ(`primitive:${name}`, `json ${entry.json} vs schema ${definition.type}`);
    const expected = entry.regex === undefined ? undefined : `^${entry.regex}$`;
    if (definition.pattern !== expected) differ(`primitive:${name}`, `regex ${expected} vs schema ${definition.pattern}`);
  }
}

function compareType(schema, types, typeName, primitiveNames, differ) {
  const type = types[typeName];
  const expected = tableProperties(type, primitiveNames);
  const definitionName = findSchemaDefinition(schema, typeName, expected);
  if (!definitionName) {
    differ(typeName, 'missing in schema');
    return;
  }
  const actual = schemaProperties(schema.definitions[definitionName]);
  for (const [name, shape] of expected) {
    if (isKnownDifference(types, typeName, name)) continue;
    if (!actual.has(name)) differ(`${typeName}.${name}`, `not in schema ${definitionName}`);
    else if (actual.get(name) !== shape) differ(`${typeName}.${name}`, `${shape} vs schema ${actual.get(name)}`);
  }
  for (const name of actual.keys()) {
    if (!expected.has(name) && !isKnownDifference(types, typeName, name)) differ(`${typeName}.${name}`, `only in schema ${definitionName}`);
  }
  const required = requiredProperties(type, primitiveNames);
  const schemaRequired = [...(schema.definitions[definitionName].required ?? [])].sort();
  if (required.join() !== schemaRequired.join()) differ(`${typeName}:required`, `${required.join()} vs schema ${schemaRequired.join()}`);
}

/**
 * Returns the unreviewed disagreements between `table` ({ primitives, types } as written to
 * generated/fhir-structure.json) and `schema`, as readable strings (empty when they agree).
 * A reviewed difference that no longer occurs is reported too, so the list stays current.
 */
export function findSchemaDifferences(schema, table) {
  const { primitives, types } = table;
  const primitiveNames = new Set(Object.keys(primitives));
  const differences = [];
  const usedDifferences = new Set();
  const differ = (key, message) => {
    if (SCHEMA_DIFFERENCES.has(key)) usedDifferences.add(key);
    else differences.push(`${key}: ${message}`);
  };
  comparePrimitives(schema, primitives, differ);
  for (const typeName of Object.keys(types)) {
    // SimpleQuantity is a profile on Quantity: the schema has no definition for it.
    if (typeName !== 'SimpleQuantity') compareType(schema, types, typeName, primitiveNames, differ);
    if (types[typeName].kind === 'resource' && !schema.discriminator?.mapping?.[typeName]) differ(typeName, 'resource type missing from the schema mapping');
  }
  for (const key of SCHEMA_DIFFERENCES.keys()) {
    if (!usedDifferences.has(key)) differences.push(`${key}: listed in SCHEMA_DIFFERENCES but no longer differs`);
  }
  return differences;
}
