/**
 * batch (R4 http.html §3.1.0.11.1): each entry succeeds or fails on its own, in its own
 * transaction, and the response says which. Entries may not depend on each other, so a
 * `urn:uuid:` reference is an error; conditional references are resolved per entry.
 */
import { GiveWay, isCustodiaError, uuidV4, CustodiaError } from '../../kernel/index.js';
import type { FhirContext } from './fhir-context.js';
import type { StoredVersion } from '../ports/resource-store.js';
import type { FhirInteraction, RequestOptions } from './fhir-interaction.js';
import { etagOf, statusLine, type FhirResult } from './fhir-result.js';
import { bundleJson, type BundleEntryJson } from './bundle-json.js';
import { atEntry, type BundleEntryRequest } from './bundle-request.js';
import { outcomeFromError } from './operation-outcome.js';
import { ReferenceResolver } from './reference-resolution.js';
import { assertResourceType, parseResourceBody } from './resource-input.js';
import { catalogEntry } from '../../kernel/index.js';

export type Executor = (i: FhirInteraction, options: RequestOptions) => Promise<FhirResult>;

export async function processBatch(ctx: FhirContext, entries: readonly BundleEntryRequest[], options: RequestOptions, execute: Executor): Promise<FhirResult> {
  const out: BundleEntryJson[] = [];
  const returned: StoredVersion[] = [];
  // Up to 10,000 entries, each a read or search the store may answer without ever giving
  // the event loop away: other requests get their turn every millisecond (kernel/give-way.ts).
  const turns = new GiveWay();
  for (const e of entries) {
    await turns.ifDue();
    try {
      if (e.interaction.kind === 'bundle') throw new CustodiaError('bundle-invalid', 'A batch cannot contain another batch or transaction');
      const interaction = await withResolvedReferences(ctx, e.interaction, options);
      const r = await execute(interaction, { ...options, returnPreference: options.returnPreference ?? 'minimal' });
      out.push(entryOf(r, options, e.interaction.kind));
      if (r.returned !== undefined) returned.push(...r.returned);
    } catch (err) {
      const located = atEntry(e.index, err);
      if (!isCustodiaError(located)) throw err;
      const entry = catalogEntry(located.code);
      out.push({ response: { status: statusLine(entry.status), outcome: outcomeFromError(located) } });
    }
  }
  const body = bundleJson({ type: 'batch-response', id: uuidV4(ctx.random), timestamp: new Date(ctx.clock.now()).toISOString() }, out);
  return { status: 200, body, returned };
}

/**
 * The entry with its conditional references resolved. The body is validated first, as the
 * transaction's are: a body that cannot be stored is refused before it is copied (a value
 * nested thousands deep overflowed structuredClone's stack: a 500 until 2026-12-01) or
 * costs a search. The interaction validates the rewritten body again, since a resolved
 * reference names its target's type, which the element may not allow.
 */
async function withResolvedReferences(ctx: FhirContext, i: FhirInteraction, options: RequestOptions): Promise<FhirInteraction> {
  if (i.kind !== 'create' && i.kind !== 'update' && i.kind !== 'conditional-update') return i;
  assertResourceType(ctx, i.type);
  const body = structuredClone(parseResourceBody(ctx, i.body, i.type));
  await new ReferenceResolver(ctx, ctx.store, options.visibility).rewrite(body);
  return { ...i, body };
}

function entryOf(r: FhirResult, options: RequestOptions, kind: FhirInteraction['kind']): BundleEntryJson {
  const response: NonNullable<BundleEntryJson['response']> = { status: statusLine(r.status) };
  if (r.location !== undefined) response.location = r.location;
  if (r.versionId !== undefined) response.etag = etagOf(r.versionId);
  if (r.lastModified !== undefined) response.lastModified = new Date(r.lastModified).toISOString();
  const isRead = kind === 'read' || kind === 'vread' || kind === 'search' || kind === 'history' || kind === 'page' || kind === 'capabilities';
  const withBody = r.body !== undefined && (isRead || options.returnPreference === 'representation');
  return withBody ? { resource: r.body!, response } : { response };
}
