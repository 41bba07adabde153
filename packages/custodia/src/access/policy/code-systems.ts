/**
 * Code system URIs the policy engine reads and writes, and the older aliases of the HL7 v3
 * systems that it normalises to their R4 (terminology.hl7.org) URIs.
 *
 * R4 moved the v3 code systems from `http://hl7.org/fhir/v3/…` (STU3) to
 * `http://terminology.hl7.org/CodeSystem/v3-…` (R4 terminologies-systems.html); data and
 * consents written against STU3 or CDA (OIDs) still carry the old names.
 */

/** v3 Confidentiality (R4 security-labels value set): U, L, M, N, R, V. */
export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
/** v3 ActCode: holds the ActInformationSensitivityPolicy codes (HIV, ETH, PSY, …) and OPTIN/OPTOUT. */
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** v3 ActReason: holds the PurposeOfUse codes (TREAT, ETREAT, HPAYMT, …) in R4. */
export const ACT_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
/** The PurposeOfUse code system split out of ActReason after R4 (same codes). */
export const PURPOSE_OF_USE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse';
/** v3 ParticipationType: the roles in Consent.provision.actor.role (PRCP, AUT, CST, …). */
export const PARTICIPATION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
/** Consent.provision.action codes (collect, access, use, disclose, correct). */
export const CONSENT_ACTION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentaction';
/** Consent.provision.class codes that name FHIR resource types. */
export const RESOURCE_TYPES_SYSTEM = 'http://hl7.org/fhir/resource-types';

export const SNOMED_SYSTEM = 'http://snomed.info/sct';
export const LOINC_SYSTEM = 'http://loinc.org';
export const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const ICD10CM_SYSTEM = 'http://hl7.org/fhir/sid/icd-10-cm';

const ALIASES: ReadonlyMap<string, string> = new Map([
  ['http://hl7.org/fhir/v3/Confidentiality', CONFIDENTIALITY_SYSTEM],
  ['urn:oid:2.16.840.1.113883.5.25', CONFIDENTIALITY_SYSTEM],
  ['http://hl7.org/fhir/v3/ActCode', ACT_CODE_SYSTEM],
  ['urn:oid:2.16.840.1.113883.5.4', ACT_CODE_SYSTEM],
  ['http://hl7.org/fhir/v3/ActReason', ACT_REASON_SYSTEM],
  ['urn:oid:2.16.840.1.113883.5.8', ACT_REASON_SYSTEM],
  ['http://hl7.org/fhir/v3/ParticipationType', PARTICIPATION_TYPE_SYSTEM],
  ['urn:oid:2.16.840.1.113883.5.90', PARTICIPATION_TYPE_SYSTEM],
  ['http://hl7.org/fhir/consentaction', CONSENT_ACTION_SYSTEM],
]);

/**
 * The R4 URI for a known older alias of a v3 system; any other string unchanged.
 *
 * @example
 *   normalizeSystem('http://hl7.org/fhir/v3/Confidentiality') // 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality'
 */
export function normalizeSystem(system: string): string {
  return ALIASES.get(system) ?? system;
}
