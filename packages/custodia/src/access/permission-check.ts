/**
 * The interaction-level part of the decision: the token's SMART scopes intersected with
 * the user's role (role-permissions.ts). It depends only on who asks and what they ask
 * for — never on stored data — so refusing here (403) reveals nothing about records.
 *
 * - operator (`custodia token`): its system/ and user/ scopes.
 * - client (backend services): `system/` scopes.
 * - user: the role must grant the permission, and a `user/` scope grants it everywhere
 *   the role reaches, while a `patient/` scope grants it only inside the compartment of
 *   the token's patient. A user whose role is `patient` is always limited to their own
 *   compartment.
 * Deny by default: a requirement nothing grants is refused.
 */
import { CustodiaError } from '../kernel/index.js';
import type { Principal } from './principal.js';
import { isReferenceData } from './reference-data.js';
import { roleGrants } from './role-permissions.js';
import { scopesGrant } from './smart-scopes.js';
import type { Requirement } from './interaction-permissions.js';

export interface TypeClasses {
  /** Types the Patient CompartmentDefinition can place in a patient's compartment (the role matrix's "patient data" group). */
  isPatientData(type: string): boolean;
}

export interface PermissionOutcome {
  /** Types this request may reach only inside `compartmentPatient`'s compartment. */
  readonly compartmentTypes: ReadonlySet<string>;
  /** The patient whose compartment bounds those types. */
  readonly compartmentPatient?: string;
}

function forbidden(): never {
  throw new CustodiaError('forbidden', 'The token does not grant this interaction');
}

/**
 * Types this principal may reach only inside one patient's compartment, for any
 * permission: such a type is bounded for every interaction (deny more, never less), so
 * one Visibility serves the whole request, bundle entries included. Every type but
 * reference data (reference-data.ts) is bounded: a type that cannot be in the
 * compartment is then hidden from a patient-bound request, not open to it.
 */
export function compartmentBoundTypes(p: Principal, allTypes: readonly string[], classes: TypeClasses): PermissionOutcome {
  const types = new Set<string>();
  if (p.kind !== 'user' || p.role === undefined) return { compartmentTypes: types };
  const own = ownPatientId(p);
  const patient = own ?? p.patient;
  for (const type of allTypes) {
    if (isReferenceData(type)) continue;
    for (const perm of ['c', 'r', 'u', 'd', 's'] as const) {
      if (!roleGrants(p.role, type, perm, classes.isPatientData(type))) continue;
      const userWide = own === undefined && scopesGrant(p.scopes, type, perm, ['user']);
      if (!userWide && scopesGrant(p.scopes, type, perm, ['patient', 'user'])) {
        types.add(type);
        break;
      }
    }
  }
  return patient === undefined ? { compartmentTypes: types } : { compartmentTypes: types, compartmentPatient: patient };
}

/** The patient a patient-role user is (their fhirUser), or undefined. */
export function ownPatientId(p: Principal): string | undefined {
  return p.role === 'patient' && p.fhirUser?.startsWith('Patient/') === true ? p.fhirUser.slice('Patient/'.length) : undefined;
}

export function checkPermissions(p: Principal, requirements: readonly Requirement[], classes: TypeClasses): PermissionOutcome {
  const compartmentTypes = new Set<string>();
  if (p.kind === 'operator') {
    // An operator token has no patient context: patient/ scopes grant it nothing.
    for (const r of requirements) if (!scopesGrant(p.scopes, r.type, r.permission, ['system', 'user'])) forbidden();
    return { compartmentTypes };
  }
  if (p.kind === 'client') {
    for (const r of requirements) if (!scopesGrant(p.scopes, r.type, r.permission, ['system'])) forbidden();
    return { compartmentTypes };
  }
  if (p.role === undefined) forbidden();
  const own = ownPatientId(p);
  if (p.role === 'patient' && own === undefined) forbidden();
  const patient = own ?? p.patient;
  for (const r of requirements) {
    const patientData = classes.isPatientData(r.type);
    if (!roleGrants(p.role, r.type, r.permission, patientData)) forbidden();
    const userWide = own === undefined && scopesGrant(p.scopes, r.type, r.permission, ['user']);
    if (userWide) continue;
    if (!scopesGrant(p.scopes, r.type, r.permission, ['patient', 'user'])) forbidden();
    // Only a patient-context grant remains: bounded by that patient's compartment.
    if (patient === undefined) forbidden();
    if (!isReferenceData(r.type)) compartmentTypes.add(r.type);
  }
  return patient === undefined ? { compartmentTypes } : { compartmentTypes, compartmentPatient: patient };
}
