#!/usr/bin/env node
/**
 * Generates the structure tables the runtime validator (`src/fhir/validation/`) loads:
 *
 *   generated/fhir-structure.json  every resource, complex data type and backbone element with
 *                                  its allowed child elements (min, max, type), and every
 *                                  primitive type with its JSON kind and regex;
 *   generated/resource-types.json  the concrete R4 resource types, sorted.
 *
 * Input: the official R4 4.0.1 StructureDefinition snapshots in `definitions/fhir-r4/`
 * (profiles-resources.json.gz, profiles-types.json.gz). The R4 JSON Schema (fhir.schema.json.gz)
 * is used only as a cross-check (structure-schema-check.mjs): any disagreement that is not a
 * reviewed one makes the script fail, so a change in the definitions cannot slip in silently.
 *
 * Usage: node scripts/generate-structure-tables.mjs [output-directory]
 * (default: <package>/generated). The output is deterministic: same input, same bytes.
 *
 * Table format (fhir-structure.json):
 *   { "fhirVersion": "4.0.1",
 *     "primitives": { "<type>": { "json": "string"|"number"|"boolean", "regex"?: "...", "maxLength"?: n } },
 *     "types": { "<type or backbone path>": { "kind": "resource"|"complex"|"backbone",
 *                "elements": { "<json name>": [type, min, max, choice?] } } },
 *     "valueSets": { "<value set URL>": ["<code>", …] },
 *     "bindings": { "<type or backbone path>": { "<json name>": "<value set URL>" } },
 *     "references": { "<type or backbone path>": { "<json name>": ["<resource type>", …] } } }
 *   - type: a primitive name, a key of "types", or "Resource" (a nested resource that declares
 *     its own resourceType). A leading "@" marks a primitive that has no `_name` sibling in
 *     JSON (Element.id, Resource.id, xhtml).
 *   - max: 0 (prohibited by a constraint profile), 1 (single JSON value) or "*" (JSON array).
 *   - choice: for the expanded variants of a choice element (valueString, valueQuantity …),
 *     the name of the choice element ("value[x]"); only one variant may be present.
 *   - valueSets / bindings: the `code` elements with a REQUIRED binding to a closed value set,
 *     and that value set's codes, one shared list per URL (see code-bindings.mjs for where the
 *     codes come from and which value sets are left open).
 *   - references: the resource types a `Reference` element may point to (its targetProfiles),
 *     for every Reference element, or Reference variant of a choice element, whose targets
 *     are not "any resource" (targetProfile absent or naming Resource).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildCodeBindings, isRequiredCodeBinding } from './code-bindings.mjs';
import { findSchemaDifferences } from './structure-schema-check.mjs';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const definitionsDir = path.join(packageRoot, 'definitions', 'fhir-r4');
const outputDir = path.resolve(process.argv[2] ?? path.join(packageRoot, 'generated'));

const FHIR_VERSION = '4.0.1';
const REGEX_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/regex';
const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const SYSTEM_TYPE_PREFIX = 'http://hl7.org/fhirpath/System.';
const SIMPLE_QUANTITY = 'http://hl7.org/fhir/StructureDefinition/SimpleQuantity';

function readGzipJson(file) {
  return JSON.parse(gunzipSync(readFileSync(path.join(definitionsDir, file))).toString('utf8'));
}

function fail(message) {
  process.stderr.write(`generate-structure-tables: ${message}\n`);
  process.exit(1);
}

const structureDefinitions = [
  ...readGzipJson('profiles-types.json.gz').entry,
  ...readGzipJson('profiles-resources.json.gz').entry,
]
  .map((entry) => entry.resource)
  .filter((resource) => resource.resourceType === 'StructureDefinition');
const schema = readGzipJson('fhir.schema.json.gz');

const byId = new Map(structureDefinitions.map((sd) => [sd.id, sd]));

// FHIR R4 json.html §2.6.2: integer, positiveInt, unsignedInt and decimal are JSON numbers,
// boolean is a JSON boolean, every other primitive is a JSON string.
const JSON_KIND = { boolean: 'boolean', integer: 'number', positiveInt: 'number', unsignedInt: 'number', decimal: 'number' };

function extensionValue(extensions, url) {
  return (extensions ?? []).find((ext) => ext.url === url);
}

function buildPrimitives() {
  const primitives = {};
  const names = structureDefinitions
    .filter((sd) => sd.kind === 'primitive-type')
    .map((sd) => sd.id)
    .sort();
  for (const name of names) {
    const sd = byId.get(name);
    const valueElement = sd.snapshot.element.find((el) => el.path === `${name}.value`);
    if (!valueElement) fail(`primitive ${name} has no ${name}.value element`);
    const entry = { json: JSON_KIND[name] ?? 'string' };
    const regex = extensionValue(valueElement.type?.[0]?.extension, REGEX_EXTENSION)?.valueString;
    if (regex !== undefined) entry.regex = regex;
    if (valueElement.maxLength !== undefined) entry.maxLength = valueElement.maxLength;
    primitives[name] = entry;
  }
  return primitives;
}

const primitives = buildPrimitives();
const primitiveNames = new Set(Object.keys(primitives));

function capitalise(code) {
  return code.charAt(0).toUpperCase() + code.slice(1);
}

/** The table type of one ElementDefinition.type entry. */
function tableType(element, type, rootPath) {
  const code = type.code;
  if (code.startsWith(SYSTEM_TYPE_PREFIX)) {
    const fhirType = extensionValue(type.extension, FHIR_TYPE_EXTENSION)?.valueUrl;
    const name = element.path.slice(element.path.lastIndexOf('.') + 1);
    if (name === 'id') {
      // FHIR R4 resource.html: Resource.id has type id; Element.id is a plain string. Neither
      // can carry extensions (no `_id` in JSON). The 4.0.1 snapshot records both as System.String.
      return element.path === `${rootPath}.id` && isResourceDefinition(rootPath) ? '@id' : '@string';
    }
    if (fhirType === undefined || !primitiveNames.has(fhirType)) fail(`cannot map ${code} at ${element.path}`);
    return fhirType;
  }
  if (code === 'xhtml') return '@xhtml'; // xhtml.extension is max 0: no `_div`
  if (code === 'Quantity' && type.profile?.includes(SIMPLE_QUANTITY)) return 'SimpleQuantity';
  if (code === 'BackboneElement' || code === 'Element') return element.path;
  return code;
}

function isResourceDefinition(rootPath) {
  return byId.get(rootPath)?.kind === 'resource';
}

const KIND_BY_SD = { resource: 'resource', 'complex-type': 'complex' };

/** The required `code` elements met by addDefinition: [{ typeKey, name, element }]. */
const requiredCodeElements = [];

const STRUCTURE_DEFINITION_BASE = 'http://hl7.org/fhir/StructureDefinition/';
/** Per type or backbone path, per JSON name: the resource types a Reference may point to. */
const references = {};

/** FHIR R4 references.html: a Reference's target SHALL be of a type its targetProfile allows. */
function addReferenceTargets(typeKey, name, type) {
  if (type.code !== 'Reference') return;
  const profiles = type.targetProfile ?? [];
  if (profiles.length === 0 || profiles.includes(`${STRUCTURE_DEFINITION_BASE}Resource`)) return;
  const targets = profiles.map((url) => {
    if (!url.startsWith(STRUCTURE_DEFINITION_BASE)) fail(`unexpected targetProfile ${url} at ${typeKey}.${name}`);
    const target = url.slice(STRUCTURE_DEFINITION_BASE.length);
    if (byId.get(target)?.kind !== 'resource') fail(`targetProfile ${url} at ${typeKey}.${name} is not a resource type`);
    return target;
  });
  (references[typeKey] ??= {})[name] = [...new Set(targets)].sort();
}

/** Adds one StructureDefinition's elements, under its own name and its backbone paths. */
function addDefinition(types, sd, typeName) {
  const elements = sd.snapshot.element;
  const rootPath = elements[0].path;
  const keyOf = (parentPath) => (parentPath === rootPath ? typeName : parentPath);
  types[typeName] = { kind: KIND_BY_SD[sd.kind], elements: {} };
  for (const element of elements.slice(1)) {
    const dot = element.path.lastIndexOf('.');
    const parentKey = keyOf(element.path.slice(0, dot));
    const name = element.path.slice(dot + 1);
    const max = element.max === '*' ? '*' : Number(element.max);
    if (max !== '*' && max !== 0 && max !== 1) fail(`unexpected max ${element.max} at ${element.path}`);
    if (element.min !== 0 && element.min !== 1) fail(`unexpected min ${element.min} at ${element.path}`);
    const parent = types[parentKey];
    if (!parent) fail(`no parent ${parentKey} for ${element.path}`);
    if (element.contentReference) {
      parent.elements[name] = [element.contentReference.slice(1), element.min, max];
      continue;
    }
    const elementTypes = element.type ?? [];
    if (name.endsWith('[x]')) {
      const base = name.slice(0, -3);
      for (const type of elementTypes) {
        parent.elements[base + capitalise(type.code)] = [tableType(element, type, rootPath), element.min, max, name];
        addReferenceTargets(parentKey, base + capitalise(type.code), type);
      }
      continue;
    }
    if (elementTypes.length !== 1) fail(`expected one type at ${element.path}`);
    const type = tableType(element, elementTypes[0], rootPath);
    parent.elements[name] = [type, element.min, max];
    addReferenceTargets(parentKey, name, elementTypes[0]);
    if (isRequiredCodeBinding(element)) requiredCodeElements.push({ typeKey: parentKey, name, element });
    if (type === element.path) types[element.path] = { kind: 'backbone', elements: {} };
  }
}

function buildTypes() {
  const types = {};
  const wanted = structureDefinitions.filter(
    (sd) =>
      (sd.kind === 'resource' && !sd.abstract) ||
      (sd.kind === 'complex-type' && sd.derivation === 'specialization' && !sd.abstract) ||
      sd.id === 'Element' ||
      sd.id === 'SimpleQuantity',
  );
  for (const sd of wanted) addDefinition(types, sd, sd.id);
  // A complex type's snapshot inherits Element.id: there is nothing to add for the root.
  const sorted = {};
  for (const key of Object.keys(types).sort()) sorted[key] = types[key];
  return sorted;
}

const types = buildTypes();
const resourceTypes = Object.keys(types)
  .filter((key) => types[key].kind === 'resource')
  .sort();

// ---- integrity checks on the table itself ------------------------------------------------
for (const [typeName, type] of Object.entries(types)) {
  for (const [name, [elementType]] of Object.entries(type.elements)) {
    const bare = elementType.replace(/^@/, '');
    if (bare !== 'Resource' && !primitiveNames.has(bare) && !types[bare]) {
      fail(`${typeName}.${name} refers to unknown type ${elementType}`);
    }
  }
}

// ---- cross-check against the JSON Schema ---------------------------------------------------
const differences = findSchemaDifferences(schema, { primitives, types });
if (differences.length > 0) fail(`the JSON Schema disagrees with the StructureDefinitions:\n  ${differences.join('\n  ')}`);

// ---- required bindings of code elements ----------------------------------------------------
const { valueSets, bindings } = buildCodeBindings(schema, requiredCodeElements, fail);

// ---- output ------------------------------------------------------------------------------
function serialiseTable() {
  const lines = ['{', `"fhirVersion":${JSON.stringify(FHIR_VERSION)},`, '"primitives":{'];
  const primitiveLines = Object.entries(primitives).map(([name, entry]) => `${JSON.stringify(name)}:${JSON.stringify(entry)}`);
  lines.push(primitiveLines.join(',\n'), '},', '"types":{');
  const typeLines = Object.entries(types).map(([name, entry]) => `${JSON.stringify(name)}:${JSON.stringify(entry)}`);
  lines.push(typeLines.join(',\n'), '},', '"valueSets":{');
  const valueSetLines = Object.entries(valueSets).map(([url, codes]) => `${JSON.stringify(url)}:${JSON.stringify(codes)}`);
  lines.push(valueSetLines.join(',\n'), '},', '"bindings":{');
  const bindingLines = Object.entries(bindings).map(([name, byElement]) => `${JSON.stringify(name)}:${JSON.stringify(byElement)}`);
  lines.push(bindingLines.join(',\n'), '},', '"references":{');
  const referenceLines = Object.keys(references)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(Object.fromEntries(Object.entries(references[key]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))}`);
  lines.push(referenceLines.join(',\n'), '}', '}');
  return `${lines.join('\n')}\n`;
}

mkdirSync(outputDir, { recursive: true });
writeFileSync(path.join(outputDir, 'fhir-structure.json'), serialiseTable());
writeFileSync(path.join(outputDir, 'resource-types.json'), `${JSON.stringify(resourceTypes, null, 1)}\n`);
