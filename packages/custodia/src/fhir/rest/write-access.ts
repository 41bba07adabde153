/**
 * Writes under a caller's Visibility (see ports/visibility.ts). The one rule: what the
 * caller may not see behaves exactly like what does not exist.
 * - Updating or deleting a resource first looks it up through the caller's visibility.
 * - A caller whose visibility is restricted cannot create with an id of its choosing
 *   (update-as-create): a 201 for a new id next to a 404 for an existing invisible one
 *   would tell which ids exist. Such callers get 404 for any id they cannot see.
 * - The version being written must itself be visible to its writer: nobody can write
 *   into a compartment, or under a label, they could not read back (403: the caller's
 *   own data, so nothing leaks).
 */
import { CustodiaError } from '../../kernel/index.js';
import { isVisible, type Visibility } from '../ports/visibility.js';
import type { CurrentState, ResourceReader, VersionWrite } from '../ports/resource-store.js';

export const isRestricted = (v: Visibility): boolean => v.kind !== 'all';

/**
 * The current state of `type/id` as the caller may know it: undefined when it does not
 * exist, or exists but is invisible to the caller.
 */
export async function visibleState(reader: ResourceReader, type: string, id: string, visibility: Visibility): Promise<CurrentState | undefined> {
  const state = (await reader.currentStates([{ type, id }])).get(`${type}/${id}`);
  if (state === undefined || !isRestricted(visibility)) return state;
  if (state.deleted) return undefined;
  return (await reader.readCurrent(type, id, visibility)) === undefined ? undefined : state;
}

/** Update-as-create is for callers who see everything (the operator, system clients). */
export function assertMayCreateWithId(visibility: Visibility, type: string, id: string): void {
  if (isRestricted(visibility)) throw new CustodiaError('resource-not-found', `${type}/${id} is not known`);
}

/** The new version must be visible to the one writing it. */
export function assertWritable(visibility: Visibility, w: VersionWrite): void {
  if (!isRestricted(visibility) || w.json === null) return;
  const labels = (w.index?.token ?? []).filter((t) => t.param === '_security').map((t) => ({ system: t.system, code: t.code }));
  const facts = { type: w.type, id: w.id, compartments: w.compartments ?? [], labels };
  if (!isVisible(visibility, facts)) {
    throw new CustodiaError('forbidden', 'The token does not allow writing this resource (its patient or its labels are outside what the caller may see)');
  }
}
