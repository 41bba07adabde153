/**
 * The FHIR domain's components, built from the generated R4 tables: the structural
 * validator, the search index extractor and the search syntax.
 */
import { isCustodiaError, type Clock } from '../kernel/index.js';
import { compileConsent, labelResource } from '../access/index.js';
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
  type FhirResource,
  type ResourceLabeler,
  type ResourceRules,
} from '../fhir/index.js';

export interface FhirComponents {
  readonly validator: ResourceValidator;
  readonly indexer: ResourceIndexer;
  readonly labeler: ResourceLabeler;
  readonly rules: ResourceRules;
  readonly search: SearchSyntax;
}

/**
 * A Consent is only stored if the vault can enforce it (access/policy compileConsent):
 * accepting one it would then have to ignore, or guess at, is worse than refusing it.
 */
const vaultRules: ResourceRules = Object.freeze({
  check(resource: FhirResource) {
    if (resource.resourceType !== 'Consent') return [];
    try {
      compileConsent(resource);
      return [];
    } catch (e) {
      if (!isCustodiaError(e)) throw e;
      return [{ kind: 'invalid' as const, code: 'business-rule', expression: 'Consent', diagnostics: `This Consent cannot be enforced as written: ${e.message}` }];
    }
  },
});

const vaultLabeler: ResourceLabeler = Object.freeze({ label: (r: FhirResource) => labelResource(r) });

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
  return { validator, indexer: createIndexer(registry, { baseUrl, maxRows: limits.maxIndexRows }), labeler: vaultLabeler, rules: vaultRules, search };
}
