/**
 * Everything a FHIR interaction needs, built once by the composition root and frozen.
 * The validator, indexer and search parser are injected as small interfaces so that
 * interactions can be tested with the real implementations or narrowed ones.
 */
import type { Clock, Random } from '../../kernel/index.js';
import type { FhirResource } from '../resource.js';
import type { ResourceStore } from '../ports/resource-store.js';
import type { IndexRows } from '../search/index-rows.js';
import type { SearchQuery } from '../search/query.js';

export interface StructureIssue {
  readonly kind: 'structure' | 'invalid';
  readonly code: string;
  readonly expression: string;
  readonly diagnostics: string;
}

export interface ResourceValidator {
  validate(input: unknown): readonly StructureIssue[];
  isResourceType(name: string): boolean;
  readonly resourceTypes: readonly string[];
}

export interface ResourceIndexer {
  extract(resource: FhirResource): IndexRows;
  /** The ids of the Patients whose compartment the resource is in (for the audit of reads). */
  patients(resource: FhirResource): string[];
}

/**
 * Security labels of a resource: its explicit `meta.security` and those the vault derives
 * from its coded data (sensitive categories). Stored as `_security` index rows, which
 * access control filters on.
 */
export interface ResourceLabeler {
  label(resource: FhirResource): readonly { readonly system: string; readonly code: string }[];
}

/** Rules beyond R4 structure that a resource must meet to be stored (e.g. a Consent the vault can enforce). */
export interface ResourceRules {
  check(resource: FhirResource): readonly StructureIssue[];
}

export interface SearchSyntax {
  /** Parses attacker-controlled query parameters. `types` empty for a system-level search. */
  parse(types: readonly string[], params: ReadonlyArray<readonly [string, string]>, handling: 'strict' | 'lenient'): SearchQuery;
  /** The canonical query string of a parsed search, for the Bundle's self link. */
  format(query: SearchQuery): [string, string][];
  /** The search parameters a resource type supports, for the CapabilityStatement. */
  describe(type: string): readonly SearchParamSummary[];
}

export interface SearchParamSummary {
  readonly name: string;
  readonly type: string;
  readonly definition: string;
}

export interface FhirLimits {
  /** Page size when `_count` is absent. */
  readonly defaultCount: number;
  /** Largest page size a client may ask for. */
  readonly maxCount: number;
  /** Most matches remembered for paging one search; more must be narrowed by the client. */
  readonly maxResults: number;
  /** Most resources added to one page by `_include`/`_revinclude`. */
  readonly maxIncludes: number;
  /** Most entries in one batch or transaction Bundle. */
  readonly maxBundleEntries: number;
  /** Search index rows one resource version may have (extract-index-rows.ts); a write of more is `resource-too-costly`. */
  readonly maxIndexRows: number;
  /** How long paging links stay valid. */
  readonly pageTtlMs: number;
}

export interface FhirContext {
  /** Absolute base URL of the FHIR endpoint, without a trailing slash (e.g. http://127.0.0.1:8080/fhir). */
  readonly baseUrl: string;
  readonly store: ResourceStore;
  readonly validator: ResourceValidator;
  readonly indexer: ResourceIndexer;
  readonly labeler: ResourceLabeler;
  readonly rules: ResourceRules;
  readonly search: SearchSyntax;
  readonly clock: Clock;
  readonly random: Random;
  readonly limits: FhirLimits;
  /** Software name/version for the CapabilityStatement. */
  readonly software: { readonly name: string; readonly version: string };
  /** True when browser apps of other origins may call this endpoint (CapabilityStatement.rest.security.cors). */
  readonly cors: boolean;
  /** The SMART authorization server's endpoints, announced in the CapabilityStatement (absent: none). */
  readonly oauthUris?: { readonly authorize: string; readonly token: string; readonly revoke: string; readonly introspect: string };
  /**
   * Types whose search another component answers (AuditEvent: the ledger's audit trail),
   * with the parameters it takes: the CapabilityStatement announces those, not the registry's.
   */
  readonly searchServedElsewhere?: Readonly<Record<string, readonly string[]>>;
}
