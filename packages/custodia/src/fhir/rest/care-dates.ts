/**
 * Care dates, for `Patient/[id]/$everything?start&end` (R4 patient-operation-everything.html:
 * "The date range relates to care dates, not record currency dates - e.g. all records
 * relating to care provided in a certain date range. If no start date is provided, all
 * records prior to the end date are in scope", and the same for `end`).
 *
 * R4 defines no "care date" search parameter. This table names, for each type of the
 * Patient compartment (CompartmentDefinition-patient) that records care at a time, the R4
 * date search parameters of that time: when it happened, was performed, ordered, authored,
 * issued, recorded or covered. All of them are R4 SearchParameters of type date, so their
 * index rows already exist. The bounds are inclusive and compared by overlap. A record's
 * care is in range when one of these dates overlaps it. For example, an Encounter's period
 * that began before `start` and ended after it counts. So does a Condition whose onset,
 * abatement or recording falls in the range.
 *
 * Types not listed have no time of care. They are returned whatever the bounds: the
 * patient themself, their Coverage, RelatedPerson, Group, BodyStructure,
 * DeviceUseStatement, and the resources a match references (`_include=*`). A record of a
 * listed type with none of these dates is not returned when bounds are given: nothing
 * places it in the range, and an export broader than asked for is the worse mistake.
 */
import { CustodiaError } from '../../kernel/index.js';
import { parseDateRange, RANGE_MAX, RANGE_MIN, type Condition } from '../search/index.js';

/** Type → its care-date search parameters (R4 search-parameters.json codes, type date). */
export const CARE_DATE_PARAMS: ReadonlyArray<readonly [type: string, codes: readonly string[]]> = [
  ['Account', ['period']],
  ['AdverseEvent', ['date']],
  ['AllergyIntolerance', ['onset', 'date', 'last-date']],
  ['Appointment', ['date']],
  ['Basic', ['created']],
  ['CarePlan', ['date', 'activity-date']],
  ['CareTeam', ['date']],
  ['ChargeItem', ['occurrence', 'entered-date']],
  ['Claim', ['created']],
  ['ClaimResponse', ['created', 'payment-date']],
  ['ClinicalImpression', ['date']],
  ['Communication', ['sent', 'received']],
  ['CommunicationRequest', ['authored', 'occurrence']],
  ['Composition', ['date', 'period']],
  ['Condition', ['onset-date', 'abatement-date', 'recorded-date']],
  ['Consent', ['date', 'period']],
  ['CoverageEligibilityRequest', ['created']],
  ['CoverageEligibilityResponse', ['created']],
  ['DetectedIssue', ['identified']],
  ['DeviceRequest', ['authored-on', 'event-date']],
  ['DiagnosticReport', ['date', 'issued']],
  ['DocumentManifest', ['created']],
  ['DocumentReference', ['date', 'period']],
  ['Encounter', ['date']],
  ['EpisodeOfCare', ['date']],
  ['ExplanationOfBenefit', ['created']],
  ['FamilyMemberHistory', ['date']],
  ['Flag', ['date']],
  ['Goal', ['start-date', 'target-date']],
  ['ImagingStudy', ['started']],
  ['Immunization', ['date']],
  ['ImmunizationEvaluation', ['date']],
  ['ImmunizationRecommendation', ['date']],
  ['Invoice', ['date']],
  ['List', ['date']],
  ['MeasureReport', ['date', 'period']],
  ['Media', ['created']],
  ['MedicationAdministration', ['effective-time']],
  ['MedicationDispense', ['whenhandedover', 'whenprepared']],
  ['MedicationRequest', ['authoredon', 'date']],
  ['MedicationStatement', ['effective']],
  ['NutritionOrder', ['datetime']],
  ['Observation', ['date']],
  ['Procedure', ['date']],
  ['Provenance', ['recorded', 'when']],
  ['QuestionnaireResponse', ['authored']],
  ['RequestGroup', ['authored']],
  ['ResearchSubject', ['date']],
  ['RiskAssessment', ['date']],
  ['Schedule', ['date']],
  ['ServiceRequest', ['authored', 'occurrence']],
  ['Specimen', ['collected']],
  ['SupplyRequest', ['date']],
  ['VisionPrescription', ['datewritten']],
];

/** A FHIR date (R4 datatypes.html#date: YYYY, YYYY-MM or YYYY-MM-DD): `start` and `end` are of that type. */
const DATE = /^\d{4}(?:-\d{2}(?:-\d{2})?)?$/;

/**
 * The care-date condition for `start` and `end` (hostile query text, each a FHIR date), or
 * undefined when neither is given. `start` takes in its whole first day (month, year), and
 * `end` its whole last one.
 *
 * @example careDateCondition('2020', undefined) // every care date from 2020-01-01T00:00:00Z on
 */
export function careDateCondition(start: string | undefined, end: string | undefined): Condition | undefined {
  if (start === undefined && end === undefined) return undefined;
  const lo = start === undefined ? RANGE_MIN : boundOf('start', start).lo;
  const hi = end === undefined ? RANGE_MAX : boundOf('end', end).hi;
  if (lo > hi) throw new CustodiaError('search-invalid', 'start is after end');
  return { kind: 'care-date', params: CARE_DATE_PARAMS, range: { lo, hi } };
}

function boundOf(name: string, value: string): { lo: number; hi: number } {
  const range = DATE.test(value) ? parseDateRange(value) : undefined;
  if (range === undefined) throw new CustodiaError('search-invalid', `${name} is a date such as 2020, 2020-06 or 2020-06-30`);
  return range;
}
