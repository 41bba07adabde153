/**
 * The compiled form of an R4 Consent (consent.html) and the two sides of an access question:
 * who asks, why and how ({@link AccessRequest}), and what is asked for ({@link DataItem}).
 * Compiling validates once and normalises codes, so evaluation is pure look-ups.
 */
import type { SecurityLabel } from './security-labels.js';

export type ProvisionType = 'permit' | 'deny';

/** Three-valued match: `unknown` means "cannot be decided from the request and (type, id, labels)". */
export type Tri = 'yes' | 'no' | 'unknown';

/** A time range in epoch milliseconds: `start` included, `end` excluded; either may be open. */
export interface TimeRange {
  readonly start?: number;
  readonly end?: number;
  /** The period as written, for reasons. */
  readonly text: string;
}

/** A Coding reduced to what matching needs; `system` normalised (see normalizeSystem). */
export interface CodeRef {
  readonly system?: string;
  readonly code?: string;
}

/**
 * One `Consent.provision.actor`. Roles from v3-ParticipationType that describe the data
 * (author, custodian, informant, …: "how the individual is involved in the resources content")
 * make the entry a condition on the data, which cannot be checked: `side: 'data'`. Every other
 * role names whoever receives the data: `side: 'requester'`, matched on `reference`.
 */
export interface ActorCondition {
  readonly roles: readonly CodeRef[];
  readonly side: 'requester' | 'data';
  /** A literal relative reference `Type/id`; absent when the reference is absolute, contained, logical or missing (never matched: `unknown`). */
  readonly reference?: string;
  /** The reference as written, for reasons. */
  readonly text: string;
}

/** One `Consent.provision.data`. */
export interface DataCondition {
  readonly meaning: 'instance' | 'related' | 'dependents' | 'authoredby';
  /** `Type/id` when the reference is literal and relative. */
  readonly reference?: string;
  /** Set when the reference names one version (`Type/id/_history/v`). */
  readonly version?: string;
  readonly text: string;
}

/**
 * One node of the provision tree. Lists are alternatives (any entry matches); the conditions
 * of a provision must all match; an empty list is no condition.
 */
export interface CompiledProvision {
  /** FHIRPath-like location for reasons: `provision`, `provision.provision[0]`, … */
  readonly path: string;
  readonly type: ProvisionType;
  /** `explicit` when `provision.type` is written; `policy-rule` when taken from the policyRule (root only). */
  readonly typeSource: 'explicit' | 'policy-rule';
  readonly period?: TimeRange;
  readonly actors: readonly ActorCondition[];
  /** One CodeableConcept each (its codings are alternatives). */
  readonly actions: readonly (readonly CodeRef[])[];
  readonly securityLabels: readonly CodeRef[];
  readonly purposes: readonly CodeRef[];
  readonly classes: readonly CodeRef[];
  /** `provision.code`, one CodeableConcept each: cannot be checked on (type, id, labels). */
  readonly codes: readonly (readonly CodeRef[])[];
  /** `provision.dataPeriod`: cannot be checked on (type, id, labels). */
  readonly dataPeriod?: TimeRange;
  readonly data: readonly DataCondition[];
  readonly provisions: readonly CompiledProvision[];
}

/**
 * A Consent ready for evaluation.
 *
 * - `base` is the consent's base policy from `policyRule` (OPTIN/OPTINR → permit,
 *   OPTOUT/OPTOUTE → deny): the decision wherever the provision tree does not apply.
 * - `root` is `Consent.provision`, "an exception to the base policy" (consent.html): its type is
 *   `provision.type` when written, otherwise the opposite of `base`.
 */
export interface CompiledConsent {
  readonly id?: string;
  /** `Consent/<id>`, or `Consent/(no id)`. */
  readonly reference: string;
  /** `Patient/<id>` from `Consent.patient`. */
  readonly patient: string;
  readonly status: string;
  /** Only `active` consents take part in decisions. */
  readonly active: boolean;
  /** The policyRule code that set `base` (OPTIN, OPTOUT, …). */
  readonly policyRule?: string;
  readonly base?: ProvisionType;
  readonly root?: CompiledProvision;
  /** Interpretation notes for people (e.g. where the consent departs from R4 rules). */
  readonly notes: readonly string[];
}

/** HL7 v3 PurposeOfUse codes (v3-ActReason / v3-PurposeOfUse), e.g. TREAT, ETREAT, HPAYMT, BTG. */
export type PurposeOfUse = string;

/**
 * Who asks, why and how.
 *
 * @example
 *   const req: AccessRequest = {
 *     actor: { references: ['Practitioner/p1', 'PractitionerRole/r1', 'Organization/o1'] },
 *     purposeOfUse: 'TREAT', action: 'access', now: Date.parse('2024-05-01T10:00:00Z'),
 *   };
 */
export interface AccessRequest {
  readonly actor: {
    /** Everything the requester is, as literal relative references (user, role, organisation, groups; or the client id). */
    readonly references: readonly string[];
    /**
     * References the requester may or may not be: a link to them that is not in effect now (a
     * PractitionerRole that is inactive or outside its period, a CareTeam that is suspended, a
     * Group membership marked inactive). An actor entry naming one matches `unknown`: a deny
     * still applies, a permit does not.
     */
    readonly possibly?: readonly string[];
    /**
     * Resource types whose references to the requester could not all be looked up (a limit was
     * reached). An actor entry of such a type that is in neither list matches `unknown`.
     */
    readonly unresolvedTypes?: readonly string[];
    /**
     * The roles (codes of `Consent.provision.actor.role`, e.g. v3-ParticipationType `PRCP`) the
     * requester acts in. When given, a requester-side actor entry whose role is not among them
     * only `unknown`-matches: a deny still applies, a permit does not. When absent, roles are
     * not compared.
     */
    readonly roleCodes?: readonly string[];
  };
  readonly purposeOfUse: PurposeOfUse;
  /** `access`: read (search, history, includes); `correct`: write. consentaction codes. */
  readonly action: 'access' | 'correct';
  /** Epoch milliseconds. */
  readonly now: number;
}

/**
 * A resource as the decision sees it. `labels` are compared as exact (system, code) strings:
 * pass the labels computed by labelResource (normalised systems).
 *
 * @example
 *   const item: DataItem = { resourceType: 'Observation', id: 'o1', labels: [] };
 */
export interface DataItem {
  readonly resourceType: string;
  readonly id: string;
  readonly labels: readonly SecurityLabel[];
}

export type ConsentDecisionValue = 'permit' | 'deny' | 'none';

/** The consent layer's answer. `none`: no consent says anything; the caller applies the vault default. */
export interface ConsentDecision {
  readonly decision: ConsentDecisionValue;
  /** Human-readable: consent reference, provision path and conditions (codes only, never clinical content). */
  readonly reasons: readonly string[];
}
