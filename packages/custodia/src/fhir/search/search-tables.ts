/**
 * The generated search tables (`generated/search-parameters.json`, `generated/compartments.json`),
 * written by `scripts/generate-search-tables.mjs` from the official R4 definitions and read
 * lazily, once per process.
 */
import { readFileSync } from 'node:fs';

/** One parameter as generated: `targets` is `"*"` for "any resource type" (see `anyTargets`). */
export interface RawSearchParam {
  readonly type: string;
  readonly url: string;
  readonly expression?: string;
  readonly targets?: readonly string[] | '*';
  readonly components?: readonly { readonly code: string; readonly type: string; readonly expression: string }[];
}

/** A declared element type: one type, a list for choice elements (`value[x]`), or `#path` for a content reference. */
export type RawElementType = string | readonly string[];

export interface RawSearchTables {
  readonly fhirVersion: string;
  /** Concrete resource type → the abstract base whose common parameters apply. */
  readonly resourceTypes: Readonly<Record<string, 'Resource' | 'DomainResource'>>;
  readonly anyTargets: readonly string[];
  /** Base type (a resource type, `Resource` or `DomainResource`) → code → parameter. */
  readonly params: Readonly<Record<string, Readonly<Record<string, RawSearchParam>>>>;
  /** Structure (resource or datatype) → relative element path → declared type. */
  readonly elements: Readonly<Record<string, Readonly<Record<string, RawElementType>>>>;
  /** Datatype → the datatype it specializes (`Age` → `Quantity`, `code` → `string`). */
  readonly typeParents: Readonly<Record<string, string>>;
}

/** Compartment type → resource type → parameter codes that place a resource in the compartment. */
export type RawCompartments = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

// src/fhir/search/x.ts and dist/fhir/search/x.js sit at the same depth below the package.
const SEARCH_TABLES_URL = new URL('../../../generated/search-parameters.json', import.meta.url);
const COMPARTMENTS_URL = new URL('../../../generated/compartments.json', import.meta.url);

let searchTables: RawSearchTables | undefined;
let compartments: RawCompartments | undefined;

/** The generated search tables, parsed on first use. */
export function loadSearchTables(): RawSearchTables {
  searchTables ??= JSON.parse(readFileSync(SEARCH_TABLES_URL, 'utf8')) as RawSearchTables;
  return searchTables;
}

/** The generated compartment tables, parsed on first use. */
export function loadCompartmentTables(): RawCompartments {
  compartments ??= JSON.parse(readFileSync(COMPARTMENTS_URL, 'utf8')) as RawCompartments;
  return compartments;
}
