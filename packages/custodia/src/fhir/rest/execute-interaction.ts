/**
 * Executes a parsed interaction. The one switch from interaction kind to the code
 * that implements it; the HTTP adapter and batch processing both come through here.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { FhirContext } from './fhir-context.js';
import type { FhirInteraction, RequestOptions } from './fhir-interaction.js';
import type { FhirResult } from './fhir-result.js';
import { processBatch } from './batch-bundle.js';
import { atEntry, parseBundleRequest } from './bundle-request.js';
import { capabilityStatement } from './capability-statement.js';
import { patientCompartmentScope, patientEverything } from './patient-everything.js';
import { compartmentResourceTypes } from '../search/index.js';
import { historyResources } from './history-interaction.js';
import { informationOutcome } from './operation-outcome.js';
import { readResource, vreadResource } from './read-interactions.js';
import { searchPage, searchResources } from './search-interaction.js';
import { processTransaction } from './transaction-bundle.js';
import { conditionalDelete, conditionalUpdate, createResource, deleteResource, patchResource, updateResource } from './write-interactions.js';
import { writeAccessOf } from './write-access.js';

/** Prefer: return (R4 http.html §3.1.0.1.8) for create and update. */
function preferred(r: FhirResult, options: RequestOptions): FhirResult {
  const { body, ...rest } = r;
  switch (options.returnPreference) {
    case 'minimal':
      return rest;
    case 'OperationOutcome':
      return { ...rest, body: informationOutcome(r.status === 201 ? 'Created' : 'Updated') };
    default:
      return r;
  }
}

/**
 * Called before every interaction runs, including each entry of a batch or transaction
 * (all transaction entries are checked before any executes). Throws to refuse.
 */
export type InteractionGuard = (i: FhirInteraction) => void;

/** The types of the Patient compartment the guard lets the caller search. */
function searchable(ctx: FhirContext, guard: InteractionGuard): string[] {
  return compartmentResourceTypes('Patient', ctx.validator.resourceTypes).filter((type) => {
    try {
      guard({ kind: 'search', types: [type], params: [] });
      return true;
    } catch {
      return false;
    }
  });
}

export async function executeInteraction(ctx: FhirContext, i: FhirInteraction, options: RequestOptions, guard: InteractionGuard): Promise<FhirResult> {
  guard(i);
  switch (i.kind) {
    case 'capabilities':
      return { status: 200, body: capabilityStatement(ctx, new Date(ctx.clock.now()).toISOString()) };
    case 'read':
      return readResource(ctx, i.type, i.id, options.visibility, i.projection, i.unlessChanged);
    case 'vread':
      return vreadResource(ctx, i.type, i.id, i.version, options.visibility, i.projection);
    case 'create':
      return preferred(await createResource(ctx, i.type, i.body, i.ifNoneExist, writeAccessOf(options)), options);
    case 'update':
      return preferred(await updateResource(ctx, i.type, i.id, i.body, i.ifMatch, writeAccessOf(options)), options);
    case 'conditional-update':
      return preferred(await conditionalUpdate(ctx, i.type, i.query, i.body, i.ifMatch, writeAccessOf(options)), options);
    case 'delete':
      return deleteResource(ctx, i.type, i.id, writeAccessOf(options));
    case 'conditional-delete':
      return conditionalDelete(ctx, i.type, i.query, writeAccessOf(options));
    case 'search':
      return searchResources(ctx, {
        types: i.types,
        params: i.params,
        handling: options.handling,
        owner: options.owner,
        visibility: options.visibility,
        // A compartment search (R4 http.html §3.1.0.8) does not look the patient up: an unknown
        // or hidden one gives an empty Bundle, as a search by `patient=` does.
        ...(i.compartment === undefined ? {} : patientCompartmentScope(ctx, i.compartment.id, i.types[0] ?? '*', i.params)),
      });
    case 'page':
      return searchPage(ctx, i.pageId, i.offset, i.count, options.owner, options.visibility);
    case 'history':
      return historyResources(ctx, { ...(i.type === undefined ? {} : { type: i.type }), ...(i.id === undefined ? {} : { id: i.id }), params: i.params, visibility: options.visibility });
    case 'bundle': {
      const bundle = parseBundleRequest(ctx, i.body);
      if (bundle.type === 'transaction') {
        for (const e of bundle.entries) {
          try {
            guard(e.interaction);
          } catch (err) {
            throw atEntry(e.index, err);
          }
        }
        return processTransaction(ctx, bundle.entries, options);
      }
      return processBatch(ctx, bundle.entries, options, (inner, o) => executeInteraction(ctx, inner, o, guard));
    }
    case 'patch':
      return preferred(await patchResource(ctx, i.type, i.id, i.body, i.ifMatch, writeAccessOf(options)), options);
    case 'operation':
      if (i.name === '$everything' && i.type === 'Patient' && i.id !== undefined) return patientEverything(ctx, i.id, i.params ?? [], options, () => searchable(ctx, guard));
      throw new CustodiaError('not-supported', 'This operation is not supported');
  }
}
