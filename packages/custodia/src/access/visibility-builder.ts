/**
 * The data-dependent part of the decision, as one Visibility predicate (fhir/ports/
 * visibility.ts) that the store ANDs into every query for this request:
 *
 *   compartment  ∧  scope queries  ∧  ( break-glass patients  ∨  ( labels  ∧  consent ) )
 *
 * - compartment: types the request reaches only through a patient-context grant are
 *   limited to that patient's compartment (permission-check.ts).
 * - scope queries: types reached only through restricted scopes (`?category=…`) are
 *   limited to what the queries match (permission-check.ts `scopeRestriction`).
 * - labels: every sensitive label the principal has not been granted hides what carries it.
 * - consent: for each group of patients whose consents reduce (for this principal and
 *   purpose) to the same rule, resources in those patients' compartments must satisfy it.
 * - break-glass: for a patient with an active break-glass session, labels and consent
 *   do not apply; scopes, role and compartment still do.
 * - a patient is never hidden from their own record by their own consent or labels.
 * The operator sees everything; every other principal goes through all of it.
 */
import { SEE_ALL, simplifyVisibility, type Visibility } from '../fhir/index.js';
import type { PermissionOutcome } from './permission-check.js';
import { ownPatientId } from './permission-check.js';
import type { Principal } from './principal.js';

export interface LabelRequirement {
  readonly system: string;
  readonly code: string;
  /** The clearance (granted to users by an administrator) that lifts it. */
  readonly clearance: string;
  /** Also lifted where the resource carries a sensitive category the principal is cleared for. */
  readonly liftedByCarriedCategory?: boolean;
}

export interface ConsentGroup {
  readonly patients: readonly string[];
  /** What these patients' consents permit this principal to see of their records. */
  readonly permitted: Visibility;
  /** Why, for explanations. */
  readonly reasons: readonly string[];
}

export interface VisibilityInputs {
  readonly principal: Principal;
  readonly permissions: PermissionOutcome;
  readonly labels: readonly LabelRequirement[];
  readonly consent: readonly ConsentGroup[];
  readonly breakGlassPatients: readonly string[];
}

export interface VisibilityDecision {
  readonly visibility: Visibility;
  readonly reasons: readonly string[];
}

const inCompartment = (ids: readonly string[]): Visibility => ({ kind: 'in-compartment', compartment: 'Patient', ids });

export function buildVisibility(i: VisibilityInputs): VisibilityDecision {
  const p = i.principal;
  if (p.kind === 'operator') return { visibility: SEE_ALL, reasons: ['operator token: sees everything its scopes allow'] };
  const reasons: string[] = [];
  const parts: Visibility[] = [];
  const { compartmentTypes, compartmentPatient } = i.permissions;
  if (compartmentTypes.size > 0 && compartmentPatient !== undefined) {
    parts.push({ kind: 'or', items: [{ kind: 'not', item: { kind: 'type-in', types: [...compartmentTypes].sort() } }, inCompartment([compartmentPatient])] });
    reasons.push(`limited to the compartment of Patient/${compartmentPatient} for ${[...compartmentTypes].length} resource type(s)`);
  }
  if (i.permissions.restriction !== undefined) {
    parts.push(i.permissions.restriction);
    reasons.push('limited by the queries of restricted scopes');
  }
  const own = ownPatientId(p);

  const protections: Visibility[] = [];
  const clearedCategories = i.labels.filter((l) => l.liftedByCarriedCategory !== true && p.clearances.includes(l.clearance));
  for (const l of i.labels) {
    if (p.clearances.includes(l.clearance)) continue;
    const hidden: Visibility = { kind: 'not', item: { kind: 'has-label', system: l.system, code: l.code } };
    const lifts: Visibility[] = l.liftedByCarriedCategory === true ? clearedCategories.map((c) => ({ kind: 'has-label', system: c.system, code: c.code })) : [];
    protections.push(lifts.length === 0 ? hidden : { kind: 'or', items: [hidden, ...lifts] });
    reasons.push(`hides data labelled ${l.code} (no ${l.clearance} clearance)`);
  }
  if (own !== undefined) {
    // A patient sees all of their own record; anything else they reach (reference data
    // only, by the compartment bound above) keeps its labels' protection.
    parts.push({ kind: 'or', items: [inCompartment([own]), { kind: 'and', items: protections }] });
    return { visibility: simplifyVisibility({ kind: 'and', items: parts }), reasons: [...reasons, 'a patient sees their own record'] };
  }
  for (const g of i.consent) {
    protections.push({ kind: 'or', items: [{ kind: 'not', item: inCompartment(g.patients) }, g.permitted] });
    reasons.push(...g.reasons);
  }
  let protectedView: Visibility = { kind: 'and', items: protections };
  if (i.breakGlassPatients.length > 0) {
    protectedView = { kind: 'or', items: [inCompartment(i.breakGlassPatients), protectedView] };
    reasons.push(`break-glass: consent and labels lifted for ${i.breakGlassPatients.map((id) => `Patient/${id}`).join(', ')}`);
  }
  parts.push(protectedView);
  return { visibility: simplifyVisibility({ kind: 'and', items: parts }), reasons };
}
