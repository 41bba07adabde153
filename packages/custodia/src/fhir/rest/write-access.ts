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
 * - A restricted caller writes only into the compartments of patients it can see
 *   ({@link assertPatientsSeen}): the same 403 for a patient that does not exist as for
 *   one whose consent hides them from the caller.
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

const outsideWhatIsSeen = (): CustodiaError =>
  new CustodiaError('forbidden', 'The token does not allow writing this resource (its patient or its labels are outside what the caller may see)');

function refusal(access: WriteAccess, w: VersionWrite): CustodiaError | undefined {
  if (!isRestricted(access.visibility) || w.json === null) return undefined;
  const tokens = w.index?.token ?? [];
  const labels = tokens.filter((t) => t.param === '_security').map((t) => ({ system: t.system, code: t.code }));
  const facts = { type: w.type, id: w.id, compartments: w.compartments ?? [], labels, tokens };
  if (!isVisible(access.visibility, facts)) return outsideWhatIsSeen();
  if (access.changeable !== access.visibility && !isVisible(access.changeable, facts)) return notChangeable(w.type, w.id);
  return undefined;
}

/** An existing resource the caller can see (update, delete) must also be theirs to change. */
export async function assertChangeable(reader: ResourceReader, access: WriteAccess, type: string, id: string): Promise<void> {
  if (access.changeable === access.visibility) return;
  if ((await reader.readCurrent(type, id, access.changeable)) === undefined) throw notChangeable(type, id);
}

/**
 * A restricted caller writes only into the compartments of patients it can see: each
 * Patient the new version's Patient compartments name must be one the caller can read
 * now, or one written by the same request (`written`: ids of Patients a Bundle creates or
 * updates), or the version itself when it is a Patient. Without this, a record for a
 * patient whose Consent hides them from the caller (refused: the new version would be
 * invisible to its writer) would be answered otherwise than one for a patient id that
 * was never used (created, with a dangling reference): an oracle for which patients
 * exist and have shut the caller out. Both now get {@link assertWritable}'s 403.
 */
export async function assertPatientsSeen(reader: ResourceReader, access: WriteAccess, w: VersionWrite, written: ReadonlySet<string> = NONE): Promise<void> {
  if (!isRestricted(access.visibility) || w.json === null) return;
  for (const c of w.compartments ?? []) {
    if (c.compartment !== 'Patient' || (w.type === 'Patient' && c.id === w.id) || written.has(c.id)) continue;
    if ((await reader.readCurrent('Patient', c.id, access.visibility)) === undefined) throw outsideWhatIsSeen();
  }
}

const NONE: ReadonlySet<string> = new Set();
