/**
 * The generated structure table (generated/fhir-structure.json, written by
 * scripts/generate-structure-tables.mjs from the official R4 4.0.1 StructureDefinitions).
 * Loaded lazily, once.
 */
import { readFileSync } from 'node:fs';

/**
 * One allowed child element: `[type, min, max, choice?]`.
 * - type: a primitive name, a key of `types`, or `Resource`; a leading `@` marks a primitive
 *   without a `_name` sibling (Element.id, Resource.id, xhtml).
 * - max: 0 (prohibited by a profile), 1 (single JSON value) or `*` (JSON array).
 * - choice: for `valueString`, `valueQuantity` …, the choice element they expand (`value[x]`).
 */
export type ElementEntry = readonly [type: string, min: number, max: 0 | 1 | '*', choice?: string];

export interface PrimitiveEntry {
  readonly json: 'string' | 'number' | 'boolean';
  /** The StructureDefinition regex; it must match the whole value. */
  readonly regex?: string;
  readonly maxLength?: number;
}

export interface TypeEntry {
  readonly kind: 'resource' | 'complex' | 'backbone';
  readonly elements: Readonly<Record<string, ElementEntry>>;
}

export interface StructureTable {
  readonly fhirVersion: string;
  readonly primitives: Readonly<Record<string, PrimitiveEntry>>;
  readonly types: Readonly<Record<string, TypeEntry>>;
  /** The codes of each closed value set that a `code` element is required-bound to, by URL. */
  readonly valueSets: Readonly<Record<string, readonly string[]>>;
  /** Per type (`Patient`, `Patient.contact`), the value set URL of each required-bound `code` element. */
  readonly bindings: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Per type (`Observation`, `Annotation`), the resource types each `Reference` element may point to. */
  readonly references: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

let table: StructureTable | undefined;

/**
 * Returns the parsed structure table (memoised).
 *
 * @example
 *   loadStructureTable().types['Patient']?.elements['birthDate'] // ['date', 0, 1]
 */
export function loadStructureTable(): StructureTable {
  // src/fhir/validation/ and dist/fhir/validation/ sit at the same depth below the package root.
  table ??= JSON.parse(readFileSync(new URL('../../../generated/fhir-structure.json', import.meta.url), 'utf8')) as StructureTable;
  return table;
}
