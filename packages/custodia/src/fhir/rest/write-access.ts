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
  if (!mayCreateWithId(visibility)) throw new CustodiaError('resource-not-found', `${type}/${id} is not known`);
}

export const mayCreateWithId = (visibility: Visibility): boolean => !isRestricted(visibility);

/**
 * What a writer may see and what it may change. `changeable` adds the patients' consents
 * for the action `correct` (R4 consent.html, Consent.provision.action): a patient can let
 * a practitioner read their record but not amend it. Whoever may see a resource learns
 * nothing from a refusal to change it, so that refusal is a 403.
 */
export interface WriteAccess {
  readonly visibility: Visibility;
  readonly changeable: Visibility;
}

export function writeAccessOf(o: { readonly visibility: Visibility; readonly writeVisibility?: Visibility }): WriteAccess {
  return { visibility: o.visibility, changeable: o.writeVisibility ?? o.visibility };
}

const notChangeable = (type: string, id: string): CustodiaError =>
  new CustodiaError('forbidden', `The patient's consent does not allow this caller to change ${type}/${id}`);

/** The new version must be visible to the one writing it, and theirs to change. */
export function assertWritable(access: WriteAccess, w: VersionWrite): void {
  const refused = refusal(access, w);
  if (refused !== undefined) throw refused;
}

/** Whether {@link assertWritable} lets the caller write `w`. */
export const mayWrite = (access: WriteAccess, w: VersionWrite): boolean => refusal(access, w) === undefined;

function refusal(access: WriteAccess, w: VersionWrite): CustodiaError | undefined {
  if (!isRestricted(access.visibility) || w.json === null) return undefined;
  const tokens = w.index?.token ?? [];
  const labels = tokens.filter((t) => t.param === '_security').map((t) => ({ system: t.system, code: t.code }));
  const facts = { type: w.type, id: w.id, compartments: w.compartments ?? [], labels, tokens };
  if (!isVisible(access.visibility, facts)) {
    return new CustodiaError('forbidden', 'The token does not allow writing this resource (its patient or its labels are outside what the caller may see)');
  }
  if (access.changeable !== access.visibility && !isVisible(access.changeable, facts)) return notChangeable(w.type, w.id);
  return undefined;
}

/** An existing resource the caller can see (update, delete) must also be theirs to change. */
export async function assertChangeable(reader: ResourceReader, access: WriteAccess, type: string, id: string): Promise<void> {
  if (access.changeable === access.visibility) return;
  if ((await reader.readCurrent(type, id, access.changeable)) === undefined) throw notChangeable(type, id);
}
