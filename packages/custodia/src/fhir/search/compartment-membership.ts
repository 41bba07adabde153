/**
 * Compartment membership (R4 compartmentdefinition.html): a resource is in the
 * compartment of Patient X when one of the parameters the official Patient
 * CompartmentDefinition lists for its type references Patient/X, and a Patient is in its
 * own compartment (`{def}`, written `_id` in the generated table). Derived from the
 * version's reference index rows, so it is computed once per write and stored with them.
 */
import type { IndexRows } from './index-rows.js';
import { compartmentParams } from './search-param-registry.js';

export interface CompartmentRow {
  /** The compartment type, e.g. `Patient`. */
  readonly compartment: string;
  /** The id of the compartment's resource, e.g. the patient's id. */
  readonly id: string;
}

/** The compartments this vault materialises for access control. */
export const MATERIALISED_COMPARTMENTS: readonly string[] = ['Patient'];

/**
 * @example
 *   compartmentMemberships('Observation', 'o1', rows) // [{ compartment: 'Patient', id: 'p1' }]
 */
export function compartmentMemberships(resourceType: string, id: string, index: IndexRows): CompartmentRow[] {
  const out: CompartmentRow[] = [];
  const seen = new Set<string>();
  for (const compartment of MATERIALISED_COMPARTMENTS) {
    const params = compartmentParams(compartment, resourceType);
    if (params.length === 0 && resourceType !== compartment) continue;
    const add = (memberId: string): void => {
      const key = `${compartment}/${memberId}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ compartment, id: memberId });
    };
    // The compartment's own resource is in it ({def}), whatever its parameters say.
    if (resourceType === compartment) add(id);
    for (const r of index.reference) {
      if (r.targetType === compartment && r.targetId !== null && params.includes(r.param)) add(r.targetId);
    }
  }
  return out;
}

/** Resource types that can be in a compartment at all (the others are shared data: Medication, Organization…). */
export function compartmentResourceTypes(compartment: string, types: readonly string[]): string[] {
  return types.filter((t) => compartmentParams(compartment, t).length > 0);
}
