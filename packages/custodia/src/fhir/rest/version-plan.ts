/**
 * Planning a write: the new version's number, its stamped JSON and index rows, and the
 * version it must replace. Planning is pure; the caller applies the plan inside a store
 * transaction, so a batch of plans (a transaction Bundle, an import) commits at once.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { FhirResource } from '../resource.js';
import type { IndexRows } from '../search/index-rows.js';
import { compartmentMemberships, type CompartmentRow } from '../search/compartment-membership.js';
import type { CurrentState, VersionWrite } from '../ports/resource-store.js';
import type { FhirContext } from './fhir-context.js';

export interface PlannedWrite {
  readonly write: VersionWrite;
  /** 201 for a new resource (or one brought back after deletion), 200 for an update. */
  readonly status: 200 | 201;
}

/**
 * R4 resource.html#Meta: the server owns meta.versionId and meta.lastUpdated. The stamped
 * copy puts resourceType, id and meta first, as people expect to read them.
 */
export function stampResource(resource: FhirResource, id: string, versionId: number, lastUpdated: number): FhirResource {
  const { resourceType, id: _ignored, meta, ...rest } = resource;
  const { versionId: _v, lastUpdated: _l, ...otherMeta } = meta ?? {};
  return {
    resourceType,
    id,
    meta: { versionId: String(versionId), lastUpdated: new Date(lastUpdated).toISOString(), ...otherMeta },
    ...rest,
  };
}

/**
 * Everything about a new version that does not depend on its number or time: its index
 * rows and its JSON around the meta the server stamps. Computed before the store
 * transaction, so the transaction (and the database's write lock) only has to compose
 * and write.
 */
export interface PreparedResource {
  readonly type: string;
  readonly id: string;
  readonly index: IndexRows;
  readonly compartments: readonly CompartmentRow[];
  /** JSON members of `meta` other than versionId and lastUpdated, without braces ('' if none). */
  readonly metaRest: string;
  /** JSON members other than resourceType, id and meta, without braces ('' if none). */
  readonly bodyRest: string;
}

export function prepareResource(ctx: Pick<FhirContext, 'indexer' | 'labeler'>, resource: FhirResource, id: string): PreparedResource {
  const { resourceType, id: _ignored, meta, ...rest } = resource;
  const { versionId: _v, lastUpdated: _l, ...otherMeta } = meta ?? {};
  const index = withLabels(ctx.indexer.extract(resource.id === id ? resource : { ...resource, id }), ctx.labeler.label(resource));
  return {
    type: resourceType,
    id,
    index,
    compartments: compartmentMemberships(resourceType, id, index),
    metaRest: JSON.stringify(otherMeta).slice(1, -1),
    bodyRest: JSON.stringify(rest).slice(1, -1),
  };
}

/** Adds the resource's security labels (explicit and derived) as `_security` token rows, once each. */
function withLabels(index: IndexRows, labels: readonly { system: string; code: string }[]): IndexRows {
  if (labels.length === 0) return index;
  const have = new Set(index.token.filter((t) => t.param === '_security').map((t) => `${t.system}|${t.code}`));
  const extra = labels.filter((l) => !have.has(`${l.system}|${l.code}`)).map((l) => ({ param: '_security', grp: 0, system: l.system, code: l.code, text: null }));
  return extra.length === 0 ? index : { ...index, token: [...index.token, ...extra] };
}

/** The stored JSON: exactly `JSON.stringify(stampResource(…))`, composed without a second serialisation. */
export function composeStamped(p: PreparedResource, versionId: number, lastUpdated: number): string {
  const meta = `"versionId":"${versionId}","lastUpdated":"${new Date(lastUpdated).toISOString()}"${p.metaRest === '' ? '' : `,${p.metaRest}`}`;
  return `{"resourceType":${JSON.stringify(p.type)},"id":${JSON.stringify(p.id)},"meta":{${meta}}${p.bodyRest === '' ? '' : `,${p.bodyRest}`}}`;
}

/**
 * Labels are never removed by a write (docs/sensitive-data.md): a new version keeps every
 * label of the version it replaces, or of the last live version of a deleted resource.
 * Every version of a resource is judged by one set of facts (ports/resource-store.ts), so
 * dropping a label would expose the earlier, labelled versions through vread and history.
 * The kept labels go into the index only; the stored JSON is what the writer sent.
 */
function keepingLabels(p: PreparedResource, current: CurrentState | undefined): PreparedResource {
  const labels = current?.labels ?? [];
  if (labels.length === 0) return p;
  const index = withLabels(p.index, labels);
  return index === p.index ? p : { ...p, index };
}

export function planPrepared(prepared: PreparedResource, current: CurrentState | undefined, now: number, method: 'POST' | 'PUT'): PlannedWrite {
  const p = keepingLabels(prepared, current);
  const versionId = current === undefined ? 1 : current.versionId + 1;
  return {
    status: current === undefined || current.deleted ? 201 : 200,
    write: {
      type: p.type,
      id: p.id,
      versionId,
      lastUpdated: now,
      method,
      json: composeStamped(p, versionId, now),
      index: p.index,
      compartments: p.compartments,
      expected: current ?? null,
    },
  };
}

export function planPut(
  ctx: FhirContext,
  resource: FhirResource,
  id: string,
  current: CurrentState | undefined,
  now: number,
  method: 'POST' | 'PUT',
): PlannedWrite {
  return planPrepared(prepareResource(ctx, resource, id), current, now, method);
}

/** A deletion version, or null when there is nothing live to delete (R4 http.html §3.1.0.7). */
export function planDelete(type: string, id: string, current: CurrentState | undefined, now: number): VersionWrite | null {
  if (current === undefined || current.deleted) return null;
  return { type, id, versionId: current.versionId + 1, lastUpdated: now, method: 'DELETE', json: null, index: null, compartments: null, expected: current };
}

/** If-Match (R4 http.html §3.1.0.4.2): the update must name the current version. */
export function checkIfMatch(current: CurrentState | undefined, ifMatch: number | undefined): void {
  if (ifMatch === undefined) return;
  if (current === undefined || current.deleted || current.versionId !== ifMatch) {
    throw new CustodiaError('precondition-failed', 'If-Match does not name the current version of the resource');
  }
}
