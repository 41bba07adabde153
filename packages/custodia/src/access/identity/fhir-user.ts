/**
 * The FHIR resource a user is (SMART App Launch `fhirUser` claim): a Practitioner,
 * PractitionerRole or Patient, as a relative reference `Type/id`. Patients may only be
 * linked to a Patient and staff only to a Practitioner or PractitionerRole, so a
 * linking mistake cannot hand a clinician's login a patient's compartment or the
 * reverse.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { Role } from './roles.js';

export type FhirUserType = 'Practitioner' | 'PractitionerRole' | 'Patient';

/** `Type/id` with an R4 id (datatypes.html#id: `[A-Za-z0-9\-\.]{1,64}`). */
const FHIR_USER = /^(Practitioner|PractitionerRole|Patient)\/([A-Za-z0-9.-]{1,64})$/;

export interface FhirUserRef {
  readonly type: FhirUserType;
  readonly id: string;
}

/** Parses operator input; undefined when it is not `Practitioner/ID`, `PractitionerRole/ID` or `Patient/ID`. */
export function parseFhirUser(text: string): FhirUserRef | undefined {
  const m = FHIR_USER.exec(text);
  if (m === null) return undefined;
  return { type: m[1] as FhirUserType, id: m[2]! };
}

/** Validates a fhirUser for a role and returns it in canonical `Type/id` form; throws `request-malformed`. */
export function checkFhirUser(text: string, role: Role): string {
  const ref = parseFhirUser(text);
  if (ref === undefined) throw new CustodiaError('request-malformed', 'fhirUser must be Practitioner/<id>, PractitionerRole/<id> or Patient/<id>');
  if ((role === 'patient') !== (ref.type === 'Patient')) {
    throw new CustodiaError('request-malformed', role === 'patient' ? 'A patient can only be linked to a Patient' : 'Only a patient can be linked to a Patient');
  }
  return `${ref.type}/${ref.id}`;
}
