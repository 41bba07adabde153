/**
 * What the authorization server needs to know about patients: finding one to choose in a
 * standalone launch (SMART `launch/patient`), and checking that an EHR launch names one
 * that exists. The app implements it over the vault's FHIR store.
 */
import type { User } from '../identity/index.js';
import type { Principal } from '../principal.js';
import type { PatientChoice } from './pages.js';

export interface PatientDirectory {
  /** Patients matching a name or identifier (attacker input), that `user` may choose. At most 20. */
  search(text: string, user: User): Promise<readonly PatientChoice[]>;
  /** True when `Patient/<id>` exists and `p` may open a launch for it. */
  canLaunch(patientId: string, p: Principal): Promise<boolean>;
}
