/**
 * The CapabilityStatement at [base]/metadata (R4 capabilitystatement.html,
 * http.html §3.1.0.12), built from what this server really does: every R4 resource
 * type, the interactions implemented in this module, and the search parameters the
 * registry indexes. Nothing here is hand-listed per resource type.
 */
import type { FhirContext } from './fhir-context.js';

const TYPE_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'];

export function capabilityStatement(ctx: FhirContext, fhirDate: string): object {
  const elsewhere = ctx.searchServedElsewhere ?? {};
  const resources = ctx.validator.resourceTypes.map((type) => {
    const served = Object.hasOwn(elsewhere, type) ? new Set(elsewhere[type]) : undefined;
    const params = ctx.search.describe(type).filter((p) => served === undefined || served.has(p.name));
    const refs = params.filter((p) => p.type === 'reference');
    return {
      type,
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      interaction: TYPE_INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'full-support',
      conditionalUpdate: true,
      conditionalDelete: 'single',
      referencePolicy: ['literal', 'logical', 'local'],
      searchInclude: ['*', ...refs.map((p) => `${type}:${p.name}`)],
      searchRevInclude: ctx.validator.resourceTypes.length > 0 ? ['*'] : [],
      searchParam: params
        .filter((p) => !p.name.startsWith('_') || p.name === '_id' || p.name === '_lastUpdated' || p.name === '_tag' || p.name === '_profile' || p.name === '_security' || p.name === '_source')
        .map((p) => ({ name: p.name, definition: p.definition, type: p.type })),
      ...(type === 'Patient' ? { operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] } : {}),
    };
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: fhirDate,
    publisher: 'Custodia',
    kind: 'instance',
    software: { name: ctx.software.name, version: ctx.software.version },
    implementation: { description: 'Custodia health-data vault', url: ctx.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    // JSON Patch, and FHIRPath Patch (a Parameters resource): http.html §3.1.0.6.
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          // R4 capabilitystatement-definitions.html#CapabilityStatement.rest.security.cors:
          // "Server adds CORS headers when responding to requests - this enables Javascript
          // applications to use the server". Only when the operator listed origins.
          cors: ctx.cors,
          // SMART App Launch: the authoritative discovery document is
          // /.well-known/smart-configuration (conformance.html); the oauth-uris extension and
          // the SMART-on-FHIR service code are also given for clients of SMART v1, which
          // read them from here.
          ...(ctx.oauthUris === undefined
            ? {}
            : {
                extension: [
                  {
                    url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                    extension: Object.entries(ctx.oauthUris).map(([url, valueUri]) => ({ url, valueUri })),
                  },
                ],
                service: [
                  {
                    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
                    text: 'OAuth 2.0 with the SMART App Launch profile (see /.well-known/smart-configuration)',
                  },
                ],
              }),
          description: 'Every request except /metadata needs an OAuth 2.0 bearer token (RFC 6750) signed by this server.',
        },
        resource: resources,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }, { code: 'history-system' }],
        searchParam: [
          { name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id' },
          { name: '_lastUpdated', type: 'date', definition: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated' },
          { name: '_type', type: 'special' },
        ],
      },
    ],
  };
}
