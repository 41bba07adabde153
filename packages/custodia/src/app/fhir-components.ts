/**
 * The FHIR domain's components, built from the generated R4 tables: the structural
 * validator, the search index extractor and the search syntax.
 */
import type { Clock } from '../kernel/index.js';
import {
  RESOURCE_TYPES,
  SearchParamRegistry,
  createIndexer,
  formatSearch,
  isResourceType,
  parseSearch,
  validateResource,
  type FhirLimits,
  type ResourceIndexer,
  type ResourceValidator,
  type SearchSyntax,
  type SearchQuery,
} from '../fhir/index.js';

export interface FhirComponents {
  readonly validator: ResourceValidator;
  readonly indexer: ResourceIndexer;
  readonly search: SearchSyntax;
}

export function fhirComponents(baseUrl: string, limits: FhirLimits, clock: Clock): FhirComponents {
  const registry = SearchParamRegistry.loadR4();
  const validator: ResourceValidator = Object.freeze({
    validate: (input: unknown) => validateResource(input),
    isResourceType,
    resourceTypes: RESOURCE_TYPES,
  });
  const search: SearchSyntax = Object.freeze({
    parse: (types: readonly string[], params: ReadonlyArray<readonly [string, string]>, handling: 'strict' | 'lenient') =>
      parseSearch(params, { types, registry, handling, defaultCount: limits.defaultCount, maxCount: limits.maxCount, now: clock.now(), baseUrl }),
    // A type-level search's self link need not repeat its type as _type.
    format: (query: SearchQuery) => formatSearch(query, { omitTypes: query.types.length === 1 }),
    describe: (type: string) => registry.list(type).map((p) => ({ name: p.code, type: p.type, definition: p.url })),
  });
  return { validator, indexer: createIndexer(registry, { baseUrl }), search };
}
