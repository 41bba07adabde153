/**
 * What each role may do, per resource type and interaction, before scopes, compartment,
 * consent and labels narrow it further. Types are grouped rather than hand-listed:
 * "patient data" is every type the official Patient CompartmentDefinition can place in
 * a patient's compartment; "shared" is everything else (Organization, Practitioner,
 * Medication, terminology…). Exceptions are listed per type. Deny by default: anything
 * not granted here is refused. The matrix is documented in docs/access-control.md and
 * exercised by the permission-matrix test.
 */
import type { Permission } from './smart-scopes.js';
import type { Role } from './identity/roles.js';

interface RoleGrants {
  readonly patientData: readonly Permission[];
  readonly shared: readonly Permission[];
  /** Overrides for single types (replace the group's grant). */
  readonly types: Readonly<Record<string, readonly Permission[]>>;
}

const READ: readonly Permission[] = ['r', 's'];
const NONE: readonly Permission[] = [];

/** Records about access itself: only the privacy officer (and a patient, for their own) reads them. */
const OVERSIGHT = { AuditEvent: NONE, Consent: READ } as const;

export const ROLE_GRANTS: Readonly<Record<Role, RoleGrants>> = Object.freeze({
  clinician: { patientData: ['c', 'r', 'u', 's'], shared: READ, types: { ...OVERSIGHT } },
  nurse: {
    patientData: READ,
    shared: READ,
    types: { ...OVERSIGHT, Observation: ['c', 'r', 'u', 's'], Immunization: ['c', 'r', 'u', 's'], Communication: ['c', 'r', 'u', 's'], Task: ['c', 'r', 'u', 's'] },
  },
  // Administrators run the vault: users, organisations, practitioners, devices. Not patient data.
  admin: { patientData: NONE, shared: ['c', 'r', 'u', 'd', 's'], types: { Patient: NONE } },
  'privacy-officer': {
    patientData: NONE,
    shared: READ,
    types: { Consent: ['c', 'r', 'u', 's'], AuditEvent: READ, Provenance: READ, Patient: READ },
  },
  // A patient's access is further limited to their own compartment by the decision point.
  patient: {
    patientData: READ,
    shared: READ,
    types: { AuditEvent: READ, Consent: ['c', 'r', 'u', 's'], QuestionnaireResponse: ['c', 'r', 'u', 's'], Observation: ['c', 'r', 's'] },
  },
});

/** Does `role` hold `permission` on `type`? `isPatientData` says which group the type is in. */
export function roleGrants(role: Role, type: string, permission: Permission, isPatientData: boolean): boolean {
  const g = ROLE_GRANTS[role];
  const own = Object.hasOwn(g.types, type) ? g.types[type] : undefined;
  const perms = own ?? (isPatientData ? g.patientData : g.shared);
  return perms.includes(permission);
}
