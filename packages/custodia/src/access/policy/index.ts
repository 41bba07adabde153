/**
 * The pure policy engine for consent (R4 consent.html) and security labels (R4
 * security-labels.html): no I/O, no database. `docs/sensitive-data.md` describes it for
 * privacy officers; `evaluate-consents.ts` and `consent-data-rule.ts` state the semantics.
 */
export {
  CONFIDENTIALITY_SYSTEM,
  ACT_CODE_SYSTEM,
  ACT_REASON_SYSTEM,
  PURPOSE_OF_USE_SYSTEM,
  PARTICIPATION_TYPE_SYSTEM,
  CONSENT_ACTION_SYSTEM,
  RESOURCE_TYPES_SYSTEM,
  SNOMED_SYSTEM,
  LOINC_SYSTEM,
  RXNORM_SYSTEM,
  ICD10_SYSTEM,
  ICD10CM_SYSTEM,
  normalizeSystem,
} from './code-systems.js';
export {
  CONFIDENTIALITY_CODES,
  SENSITIVITY_LABELS,
  compareLabels,
  confidentialityLabel,
  confidentialityRank,
  effectiveConfidentialityRank,
  labelKey,
  sensitivityLabel,
  type ConfidentialityCode,
  type SecurityLabel,
  type SensitivityCategory,
  type SensitivityLabelDefinition,
} from './security-labels.js';
export {
  CIEL_CONCEPTS,
  ICD10_RULES,
  LOINC_CONCEPTS,
  RXNORM_CONCEPTS,
  SENSITIVE_RESOURCE_TYPES,
  SNOMED_CONCEPTS,
  type IcdRule,
  type SensitiveConcept,
} from './sensitivity-value-sets.js';
export { labelResource, sensitivityCategories, codingCategories } from './label-resource.js';
export type {
  AccessRequest,
  ActorCondition,
  CodeRef,
  CompiledConsent,
  CompiledProvision,
  ConsentDecision,
  ConsentDecisionValue,
  DataCondition,
  DataItem,
  ProvisionType,
  PurposeOfUse,
  TimeRange,
  Tri,
} from './consent-model.js';
export { compileConsent, DATA_SIDE_ROLES } from './compile-consent.js';
export { dateTimeBounds, parsePeriod } from './fhir-period.js';
export { evaluateConsents } from './evaluate-consents.js';
export { consentDataRule } from './consent-data-rule.js';
export {
  FALSE,
  TRUE,
  and,
  or,
  not,
  typeIn,
  refIn,
  hasLabel,
  evaluatePredicate,
  formatPredicate,
  predicateLabels,
  predicateKey,
  assumeLabel,
  type DataPredicate,
  type PredicateSubject,
} from './data-predicate.js';
