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
import { isEnforceable, scopesGrant, type ResourceScope, type RestrictionSupport, type ScopeContext } from './smart-scopes.js';
import { simplifyVisibility, type Visibility } from '../fhir/index.js';
import type { Requirement } from './interaction-permissions.js';

export interface TypeClasses {
  /** Types the Patient CompartmentDefinition can place in a patient's compartment (the role matrix's "patient data" group). */
  isPatientData(type: string): boolean;
  /** Which scope queries the decision enforces (restricted scopes it cannot enforce grant nothing). */
  readonly supportsRestriction?: RestrictionSupport;
}

export interface PermissionOutcome {
  /** Types this request may reach only inside `compartmentPatient`'s compartment. */
  readonly compartmentTypes: ReadonlySet<string>;
  /** The patient whose compartment bounds those types. */
  readonly compartmentPatient?: string;
  /**
   * What the token's restricted scopes leave of the types they limit (SMART finer-grained
   * scopes): for each such type, "not of this type, or matching one of its scopes' queries".
   */
  readonly restriction?: Visibility;
}

const WIDER_OR_SAME: Readonly<Record<ScopeContext, readonly ScopeContext[]>> = { patient: ['patient', 'user'], user: ['user'], system: ['system'] };

/**
 * The scope queries that limit each type, for the contexts a principal's scopes count in.
 * A type is limited when an enforceable restricted scope names it and no unrestricted scope
 * of the same or a wider context lets the principal read or search it; then only what one
 * of those queries matches is
 * reachable, for every interaction (deny more, never less): with one predicate per
 * request, a write of something outside the queries is refused too.
 */
export function scopeRestriction(scopes: readonly ResourceScope[], contexts: readonly ScopeContext[], supports: RestrictionSupport | undefined): Visibility | undefined {
  const byType = new Map<string, { queries: Visibility[]; limits: boolean }>();
  for (const s of scopes) {
    if (!contexts.includes(s.context) || !isEnforceable(s, supports)) continue;
    const all = s.restrictions!.map((r): Visibility => ({ kind: 'or', items: r.values.map((v) => ({ kind: 'has-token', param: r.param, code: v.code, ...(v.system === undefined ? {} : { system: v.system }) })) }));
    // It limits the type unless an unrestricted scope as wide (user/ is wider than patient/) lets the type be read or searched.
    const asWide = WIDER_OR_SAME[s.context];
    const open = scopesGrant(scopes, s.type, 'r', asWide) || scopesGrant(scopes, s.type, 's', asWide);
    const had = byType.get(s.type) ?? { queries: [], limits: false };
    byType.set(s.type, { queries: [...had.queries, { kind: 'and', items: all }], limits: had.limits || !open });
  }
  const parts: Visibility[] = [];
  for (const [type, { queries, limits }] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    if (limits) parts.push({ kind: 'or', items: [{ kind: 'not', item: { kind: 'type-in', types: [type] } }, ...queries] });
  }
  return parts.length === 0 ? undefined : simplifyVisibility({ kind: 'and', items: parts });
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
  const supports = classes.supportsRestriction;
  if (p.kind === 'client') {
    const restriction = scopeRestriction(p.scopes, ['system'], supports);
    return restriction === undefined ? { compartmentTypes: types } : { compartmentTypes: types, restriction };
  }
  if (p.kind !== 'user' || p.role === undefined) return { compartmentTypes: types };
  const restriction = scopeRestriction(p.scopes, ['patient', 'user'], supports);
  const restricted = restriction === undefined ? {} : { restriction };
  const own = ownPatientId(p);
  const patient = own ?? p.patient;
  for (const type of allTypes) {
    if (isReferenceData(type)) continue;
    for (const perm of ['c', 'r', 'u', 'd', 's'] as const) {
      if (!roleGrants(p.role, type, perm, classes.isPatientData(type))) continue;
      const userWide = own === undefined && scopesGrant(p.scopes, type, perm, ['user'], supports);
      if (!userWide && scopesGrant(p.scopes, type, perm, ['patient', 'user'], supports)) {
        types.add(type);
        break;
      }
    }
  }
  return patient === undefined ? { compartmentTypes: types, ...restricted } : { compartmentTypes: types, compartmentPatient: patient, ...restricted };
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
  const supports = classes.supportsRestriction;
  if (p.kind === 'client') {
    for (const r of requirements) if (!scopesGrant(p.scopes, r.type, r.permission, ['system'], supports)) forbidden();
    return { compartmentTypes };
  }
  if (p.role === undefined) forbidden();
  const own = ownPatientId(p);
  if (p.role === 'patient' && own === undefined) forbidden();
  const patient = own ?? p.patient;
  for (const r of requirements) {
    const patientData = classes.isPatientData(r.type);
    if (!roleGrants(p.role, r.type, r.permission, patientData)) forbidden();
    const userWide = own === undefined && scopesGrant(p.scopes, r.type, r.permission, ['user'], supports);
    if (userWide) continue;
    if (!scopesGrant(p.scopes, r.type, r.permission, ['patient', 'user'], supports)) forbidden();
    // Only a patient-context grant remains: bounded by that patient's compartment.
    if (patient === undefined) forbidden();
    if (!isReferenceData(r.type)) compartmentTypes.add(r.type);
  }
  return patient === undefined ? { compartmentTypes } : { compartmentTypes, compartmentPatient: patient };
}
