/**
 * The official R4 search parameters, per concrete resource type (FHIR R4 searchparameter-registry.html).
 * Common parameters declared on `Resource` (`_id`, `_lastUpdated`, `_tag`, `_profile`, `_security`,
 * `_source`, `_content`, `_query`) apply to every type, `DomainResource` ones (`_text`) to every
 * DomainResource.
 */
import { ElementModel } from './element-model.js';
import { isSearchParamType, type SearchParameter, type SearchParamType } from './search-parameter.js';
import { loadCompartmentTables, loadSearchTables, type RawSearchParam, type RawSearchTables } from './search-tables.js';

let r4: SearchParamRegistry | undefined;

export class SearchParamRegistry {
  readonly #byType: ReadonlyMap<string, ReadonlyMap<string, SearchParameter>>;
  readonly #types: readonly string[];
  /** Declared element types, for the FHIRPath compiler. */
  readonly model: ElementModel;
  readonly fhirVersion: string;

  private constructor(tables: RawSearchTables) {
    this.model = new ElementModel(tables);
    this.fhirVersion = tables.fhirVersion;
    const byType = new Map<string, ReadonlyMap<string, SearchParameter>>();
    for (const [resourceType, base] of Object.entries(tables.resourceTypes)) {
      const params = new Map<string, SearchParameter>();
      const layers = base === 'DomainResource' ? ['Resource', 'DomainResource', resourceType] : ['Resource', resourceType];
      for (const layer of layers) {
        const raw = Object.hasOwn(tables.params, layer) ? tables.params[layer] : undefined;
        for (const [code, p] of Object.entries(raw ?? {})) params.set(code, toSearchParameter(code, resourceType, p, tables.anyTargets));
      }
      byType.set(resourceType, params);
    }
    this.#byType = byType;
    this.#types = [...byType.keys()];
  }

  /**
   * The registry of the official R4 parameters, loaded from the generated tables on first use.
   *
   * @example SearchParamRegistry.loadR4().get('Observation', 'code')?.type // 'token'
   */
  static loadR4(): SearchParamRegistry {
    r4 ??= new SearchParamRegistry(loadSearchTables());
    return r4;
  }

  /** A registry over other tables (tests, profiles with extra parameters). */
  static fromTables(tables: RawSearchTables): SearchParamRegistry {
    return new SearchParamRegistry(tables);
  }

  /** The parameter `code` of `resourceType`, if any. Safe for any string (`__proto__` included). */
  get(resourceType: string, code: string): SearchParameter | undefined {
    return this.#byType.get(resourceType)?.get(code);
  }

  /** All parameters of `resourceType` (empty for unknown types). */
  list(resourceType: string): readonly SearchParameter[] {
    const params = this.#byType.get(resourceType);
    return params === undefined ? [] : [...params.values()];
  }

  /** The concrete resource types, sorted. */
  resourceTypes(): readonly string[] {
    return this.#types;
  }

  isResourceType(type: string): boolean {
    return this.#byType.has(type);
  }
}

function toSearchParameter(code: string, resourceType: string, raw: RawSearchParam, anyTargets: readonly string[]): SearchParameter {
  const type: SearchParamType = isSearchParamType(raw.type) ? raw.type : 'special';
  const targets = raw.targets === '*' ? anyTargets : (raw.targets ?? []);
  const components = (raw.components ?? []).map((c) => ({
    code: c.code,
    type: isSearchParamType(c.type) ? c.type : 'special',
    expression: c.expression,
  }));
  const base = { code, type, url: raw.url, resourceType, targets, components };
  return Object.freeze(raw.expression === undefined ? base : { ...base, expression: raw.expression });
}

/**
 * The parameters that place a `resourceType` resource in a compartment (R4 compartmentdefinition.html);
 * `_id` stands for the compartment's own resource (`{def}`). Empty when the type is not in it.
 *
 * @example compartmentParams('Patient', 'Observation') // ['subject', 'performer']
 */
export function compartmentParams(compartment: string, resourceType: string): readonly string[] {
  const tables = loadCompartmentTables();
  const members = Object.hasOwn(tables, compartment) ? tables[compartment] : undefined;
  if (members === undefined || !Object.hasOwn(members, resourceType)) return [];
  return members[resourceType] ?? [];
}

/**
 * The compartment types.
 *
 * @example compartmentTypes() // ['Device', 'Encounter', 'Patient', 'Practitioner', 'RelatedPerson']
 */
export function compartmentTypes(): readonly string[] {
  return Object.keys(loadCompartmentTables());
}
