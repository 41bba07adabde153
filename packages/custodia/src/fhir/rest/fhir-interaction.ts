/**
 * The interactions of R4 http.html, as a closed union. A request is parsed into one of
 * these before anything else happens, so that authentication, authorisation and audit
 * see exactly what will be executed: parse → authenticate → authorize → execute → audit.
 */
import type { Visibility } from '../ports/visibility.js';
import type { SummaryMode } from '../search/query.js';

/** A conditional read: 304 when the current version is one of `versions` (or any, `*`), or not newer than `since`. */
export interface UnlessChanged {
  readonly versions?: readonly number[] | '*';
  readonly since?: number;
}

/**
 * `_summary` / `_elements` on a read or vread (R4 http.html §3.1.0.1.7: "for use with all
 * of the interactions"): only part of the resource is returned, tagged SUBSETTED.
 */
export interface Projection {
  readonly summary?: SummaryMode;
  readonly elements?: readonly string[];
}

export type FhirInteraction =
  | { readonly kind: 'capabilities' }
  | { readonly kind: 'read'; readonly type: string; readonly id: string; readonly projection?: Projection; readonly unlessChanged?: UnlessChanged }
  | { readonly kind: 'vread'; readonly type: string; readonly id: string; readonly version: string; readonly projection?: Projection }
  | { readonly kind: 'create'; readonly type: string; readonly body: unknown; readonly ifNoneExist?: string }
  | { readonly kind: 'update'; readonly type: string; readonly id: string; readonly body: unknown; readonly ifMatch?: number }
  | { readonly kind: 'conditional-update'; readonly type: string; readonly query: string; readonly body: unknown; readonly ifMatch?: number }
  | { readonly kind: 'patch'; readonly type: string; readonly id: string; readonly body: unknown; readonly ifMatch?: number }
  | { readonly kind: 'delete'; readonly type: string; readonly id: string }
  | { readonly kind: 'conditional-delete'; readonly type: string; readonly query: string }
  | { readonly kind: 'search'; readonly types: readonly string[]; readonly params: ReadonlyArray<readonly [string, string]>; readonly compartment?: { readonly type: 'Patient'; readonly id: string } }
  | { readonly kind: 'page'; readonly pageId: string; readonly offset: number; readonly count: number }
  | { readonly kind: 'history'; readonly type?: string; readonly id?: string; readonly params: ReadonlyArray<readonly [string, string]> }
  | { readonly kind: 'bundle'; readonly body: unknown }
  /** `[type/[id/]]$name`: the operation, the type and instance it is invoked on, and its query parameters. */
  | { readonly kind: 'operation'; readonly name: string; readonly type?: string; readonly id?: string; readonly params?: ReadonlyArray<readonly [string, string]> };

/** Request-wide options from headers (R4 http.html §3.1.0.1.8 Prefer). */
export interface RequestOptions {
  readonly returnPreference: 'minimal' | 'representation' | 'OperationOutcome' | undefined;
  readonly handling: 'strict' | 'lenient';
  /** Opaque identity of the caller, binding paging links to it. */
  readonly owner: string;
  /** What the caller may see (the access decision's data-dependent part). */
  readonly visibility: Visibility;
  /**
   * What the caller may change, for interactions that write: the patients' consents for
   * the action `correct` as well as `access` (consent.html, Consent.provision.action).
   * Absent: the same as `visibility`.
   */
  readonly writeVisibility?: Visibility;
}

/** Read-only interactions, which never change stored data. */
export function isReadOnly(i: FhirInteraction): boolean {
  return i.kind === 'capabilities' || i.kind === 'read' || i.kind === 'vread' || i.kind === 'search' || i.kind === 'page' || i.kind === 'history';
}
