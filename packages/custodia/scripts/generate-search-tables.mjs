#!/usr/bin/env node
/**
 * Generates the search tables the server loads at run time, from the official FHIR R4
 * definitions in `definitions/fhir-r4/` (never hand-listed):
 *
 * - `generated/search-parameters.json`: every official SearchParameter, per base type
 *   (`Resource` and `DomainResource` hold the common `_id`, `_lastUpdated`, … that apply to
 *   every concrete type), with the part of the FHIRPath expression that applies to that type
 *   (the official `A.x | B.y` unions are split by their root type), reference targets,
 *   composite components (with each component's type and expression), and the declared
 *   datatypes of the elements those expressions navigate (`elements`), which the FHIRPath
 *   compiler needs to expand choice types (`Observation.value` → `valueQuantity`, …) and to
 *   know what an expression lands on.
 * - `generated/compartments.json`: per compartment type, resource type → the parameter
 *   codes that place a resource in it (`{def}`, "the compartment's own resource", is written
 *   as `_id`).
 *
 * Usage: `node scripts/generate-search-tables.mjs [output-dir]` (default: `generated/`).
 * The output is deterministic: a test regenerates it and compares byte for byte.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const definitionsDir = join(packageDir, 'definitions', 'fhir-r4');
const outputDir = process.argv[2] ?? join(packageDir, 'generated');

function readBundle(name) {
  return JSON.parse(gunzipSync(readFileSync(join(definitionsDir, name))).toString('utf8'));
}

/** Compares strings by UTF-16 code units, independent of locale. */
function byCodeUnit(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// StructureDefinitions: concrete resource types and the declared type of every element.

const structures = new Map(); // type name -> StructureDefinition (specializations only)
for (const bundle of [readBundle('profiles-types.json.gz'), readBundle('profiles-resources.json.gz')]) {
  for (const entry of bundle.entry) {
    const sd = entry.resource;
    if (sd.resourceType !== 'StructureDefinition' || sd.kind === 'logical') continue;
    // `Resource` and `Element` are the roots (no derivation); everything else we need specializes.
    const isRoot = sd.type === 'Resource' || sd.type === 'Element';
    if (sd.derivation !== 'specialization' && !isRoot) continue;
    structures.set(sd.type, sd);
  }
}

const resourceTypes = [...structures.values()]
  .filter((sd) => sd.kind === 'resource' && !sd.abstract)
  .map((sd) => sd.type)
  .sort(byCodeUnit);

/** `Resource` or `DomainResource`: the abstract base whose common parameters apply. */
function abstractBaseOf(type) {
  let sd = structures.get(type);
  while (sd && sd.baseDefinition) {
    const parent = sd.baseDefinition.slice(sd.baseDefinition.lastIndexOf('/') + 1);
    if (parent === 'DomainResource' || parent === 'Resource') return parent;
    sd = structures.get(parent);
  }
  return 'Resource';
}

/** The FHIR type code of an element type, mapping the FHIRPath System types the snapshots use for `id`/`url`. */
function typeCode(t) {
  if (t.code.startsWith('http://hl7.org/fhirpath/System.')) {
    const ext = (t.extension ?? []).find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type');
    return ext?.valueUrl ?? (t.code.endsWith('.String') ? 'string' : t.code.slice(t.code.lastIndexOf('.') + 1).toLowerCase());
  }
  return t.code;
}

/** Children of `parentPath` in `sd`: name (without `[x]`) -> declared type (string, list for choices, `#path` for content references). */
function childrenOf(sd, parentPath) {
  const out = new Map();
  for (const el of sd.snapshot.element) {
    if (!el.path.startsWith(parentPath + '.')) continue;
    const rest = el.path.slice(parentPath.length + 1);
    if (rest.includes('.')) continue;
    const choice = rest.endsWith('[x]');
    const name = choice ? rest.slice(0, -3) : rest;
    if (el.contentReference) {
      out.set(name, '#' + el.contentReference.slice(el.contentReference.indexOf('.') + 1));
    } else {
      const codes = [...new Set((el.type ?? []).map(typeCode))];
      out.set(name, choice ? codes : codes[0] ?? 'Element');
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SearchParameters.

const searchParameters = readBundle('search-parameters.json.gz').entry.map((e) => e.resource);
const byUrl = new Map(searchParameters.map((sp) => [sp.url, sp]));

/** Splits a FHIRPath expression on the top-level `|` (outside parentheses and string literals). */
function splitUnion(expression) {
  const parts = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === "'") quoted = false;
    } else if (c === "'") quoted = true;
    else if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}

/** The type an expression part starts from: `(Observation.value as Quantity)` -> `Observation`. */
function rootTypeOf(part) {
  const m = /^\(*\s*([A-Za-z][A-Za-z0-9]*)/.exec(part);
  return m ? m[1] : null;
}

/** The identifiers an expression mentions (outside string literals), to bound the element table. */
function identifiersOf(expression, into) {
  const withoutStrings = expression.replace(/'(?:[^'\\]|\\.)*'/g, "''");
  for (const m of withoutStrings.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) into.add(m[0]);
}

const ALL_PREFIXES = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sa', 'eb', 'ap'];

// Many references may point at "any" resource type (every concrete type but Parameters):
// that list is written once, as `anyTargets`, and referred to as "*".
const anyTargets = [...new Set(searchParameters.filter((sp) => (sp.target?.length ?? 0) > 100).flatMap((sp) => sp.target))].sort(byCodeUnit);
function compactTargets(targets) {
  const sorted = [...new Set(targets)].sort(byCodeUnit);
  return sorted.length === anyTargets.length && sorted.every((t, i) => t === anyTargets[i]) ? '*' : sorted;
}

const params = new Map(); // base type -> Map(code -> entry)
const identifiersByRoot = new Map(); // resource type -> Set of identifiers its expressions mention

function addParam(base, code, entry) {
  if (!params.has(base)) params.set(base, new Map());
  const forBase = params.get(base);
  if (forBase.has(code)) throw new Error(`duplicate search parameter ${base}.${code}`);
  forBase.set(code, entry);
}

for (const sp of searchParameters) {
  for (const base of sp.base) {
    const entry = { type: sp.type, url: sp.url };
    if (sp.expression) {
      // Parts rooted at another type belong to that type; relative parts (`InsurancePlan-name`
      // is `name | alias`) apply to every base.
      const parts = splitUnion(sp.expression).filter((p) => {
        const root = rootTypeOf(p);
        return root === base || (root !== null && !structures.has(root));
      });
      if (parts.length === 0) throw new Error(`no expression part of ${sp.url} applies to ${base}`);
      entry.expression = parts.join(' | ');
      const ids = identifiersByRoot.get(base) ?? new Set();
      identifiersOf(entry.expression, ids);
      for (const c of sp.component ?? []) identifiersOf(c.expression, ids);
      identifiersByRoot.set(base, ids);
    }
    if (sp.target?.length) entry.targets = compactTargets(sp.target);
    if (sp.component?.length) {
      entry.components = sp.component.map((c) => {
        const def = byUrl.get(c.definition);
        if (!def) throw new Error(`component ${c.definition} of ${sp.url} is not an official parameter`);
        return { code: def.code, type: def.type, expression: c.expression };
      });
    }
    // Every official date/number/quantity parameter allows all nine prefixes and no other
    // does: the runtime derives them from the type, so the list is not repeated here.
    const prefixTyped = sp.type === 'date' || sp.type === 'number' || sp.type === 'quantity';
    if ((sp.comparator?.length ?? 0) !== (prefixTyped ? ALL_PREFIXES.length : 0)) {
      throw new Error(`${sp.url}: comparators ${sp.comparator} are not derivable from the type`);
    }
    addParam(base, sp.code, entry);
  }
}

// ---------------------------------------------------------------------------------------------
// The element table: declared types of the elements the expressions can reach. An element is
// listed when its name is an identifier of some expression rooted at that resource type (an
// over-approximation that keeps the table small and is trivially sound).

const elements = new Map(); // structure name -> Map(relative path -> type)
const datatypeIdentifiers = new Set();
for (const ids of identifiersByRoot.values()) for (const id of ids) datatypeIdentifiers.add(id);

function isComplex(type) {
  const sd = structures.get(type);
  return sd !== undefined && sd.kind === 'complex-type';
}

const pendingDatatypes = [];
function walk(structureName, sd, parentPath, relPrefix, identifiers, out, depth) {
  if (depth > 12) return;
  for (const [name, type] of childrenOf(sd, parentPath)) {
    if (!identifiers.has(name)) continue;
    const rel = relPrefix ? `${relPrefix}.${name}` : name;
    out.set(rel, type);
    const types = Array.isArray(type) ? type : [type];
    for (const t of types) {
      if (t === 'BackboneElement' || t === 'Element') walk(structureName, sd, `${parentPath}.${name}`, rel, identifiers, out, depth + 1);
      else if (t.startsWith('#')) walk(structureName, sd, `${sd.type}.${t.slice(1)}`, t.slice(1), identifiers, out, depth + 1);
      else if (isComplex(t) && !elements.has(t)) pendingDatatypes.push(t);
    }
  }
}

for (const [root, ids] of [...identifiersByRoot].sort((a, b) => byCodeUnit(a[0], b[0]))) {
  const sd = structures.get(root);
  if (!sd) throw new Error(`unknown base type ${root}`);
  const out = new Map();
  walk(root, sd, root, '', ids, out, 0);
  elements.set(root, out);
}
while (pendingDatatypes.length > 0) {
  const t = pendingDatatypes.shift();
  if (elements.has(t)) continue;
  const out = new Map();
  elements.set(t, out);
  walk(t, structures.get(t), t, '', datatypeIdentifiers, out, 0);
}

// ---------------------------------------------------------------------------------------------
// Output.

function sortedObject(map, mapValue = (v) => v) {
  const obj = {};
  for (const key of [...map.keys()].sort(byCodeUnit)) obj[key] = mapValue(map.get(key));
  return obj;
}

/** One line per top-level key's member: compact, deterministic and still diffable. */
function formatTables(tables) {
  const lines = ['{'];
  const keys = Object.keys(tables);
  keys.forEach((key, i) => {
    const value = tables[key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      lines.push(`${JSON.stringify(key)}: {`);
      const inner = Object.keys(value);
      inner.forEach((k, j) => lines.push(`${JSON.stringify(k)}: ${JSON.stringify(value[k])}${j < inner.length - 1 ? ',' : ''}`));
      lines.push(`}${i < keys.length - 1 ? ',' : ''}`);
    } else {
      lines.push(`${JSON.stringify(key)}: ${JSON.stringify(value)}${i < keys.length - 1 ? ',' : ''}`);
    }
  });
  lines.push('}');
  return lines.join('\n') + '\n';
}

const version = readFileSync(join(definitionsDir, 'version.info'), 'utf8').match(/FhirVersion=([^\s]+)/)?.[1] ?? '4.0.1';

// Datatype specializations (`Age` is a `Quantity`, `code` is a `string`): FHIRPath `is`/`as`/
// `ofType` accept subtypes.
const typeParents = new Map();
for (const [type, sd] of structures) {
  if (sd.kind !== 'primitive-type' && sd.kind !== 'complex-type') continue;
  const parent = sd.baseDefinition?.slice(sd.baseDefinition.lastIndexOf('/') + 1);
  if (parent && parent !== 'Element' && parent !== 'BackboneElement') typeParents.set(type, parent);
}

const searchTables = {
  fhirVersion: version,
  resourceTypes: sortedObject(new Map(resourceTypes.map((t) => [t, abstractBaseOf(t)]))),
  anyTargets,
  params: sortedObject(params, (m) => sortedObject(m)),
  elements: sortedObject(elements, (m) => sortedObject(m)),
  typeParents: sortedObject(typeParents),
};

const compartments = new Map();
for (const file of readdirSync(definitionsDir).filter((f) => /^CompartmentDefinition-.*\.json$/.test(f)).sort(byCodeUnit)) {
  const def = JSON.parse(readFileSync(join(definitionsDir, file), 'utf8'));
  // The official example (id `example`) illustrates the format; it is not a compartment.
  if (def.id === 'example') continue;
  const members = new Map();
  for (const r of def.resource ?? []) {
    if (!r.param?.length) continue;
    members.set(r.code, r.param.map((p) => (p === '{def}' ? '_id' : p)));
  }
  compartments.set(def.code, sortedObject(members));
}

mkdirSync(outputDir, { recursive: true });
writeFileSync(join(outputDir, 'search-parameters.json'), formatTables(searchTables));
writeFileSync(join(outputDir, 'compartments.json'), formatTables(sortedObject(compartments)));
