/**
 * The authorization server's view of patients, over the vault's own FHIR store: the
 * patient search of a standalone launch's patient-selection step, and the existence
 * check of an EHR launch.
 */
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { userPrincipal, type PatientChoice, type PatientDirectory, type Principal, type User } from '../access/index.js';
import { executeInteraction, isJsonObject, parseInteraction, type FhirContext, type JsonObject, type Visibility } from '../fhir/index.js';
import type { AccessControl } from './access-control.js';

const MAX_RESULTS = 20;

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 200) : undefined;
}

/** A display name from Patient.name (HumanName: text, else given + family). */
function nameOf(p: JsonObject): string {
  const names = Array.isArray(p['name']) ? (p['name'] as unknown[]).filter(isJsonObject) : [];
  const n = names.find((x) => x['use'] === 'official') ?? names[0];
  if (n === undefined) return '(no name)';
  const given = Array.isArray(n['given']) ? (n['given'] as unknown[]).filter((g): g is string => typeof g === 'string') : [];
  return text(n['text']) ?? text([...given, typeof n['family'] === 'string' ? n['family'] : ''].join(' ')) ?? '(no name)';
}

function choiceOf(p: JsonObject): PatientChoice | undefined {
  const id = text(p['id']);
  if (id === undefined) return undefined;
  const ids = Array.isArray(p['identifier']) ? (p['identifier'] as unknown[]).filter(isJsonObject) : [];
  const identifier = text(ids[0]?.['value']);
  const birthDate = text(p['birthDate']);
  return { id, name: nameOf(p), ...(birthDate === undefined ? {} : { birthDate }), ...(identifier === undefined ? {} : { identifier }) };
}

async function searchPatients(fhir: FhirContext, params: [string, string][], owner: string, visibility: Visibility): Promise<PatientChoice[]> {
  const interaction = parseInteraction({ method: 'GET', path: 'Patient', query: new URLSearchParams([...params, ['_count', String(MAX_RESULTS)]]).toString(), body: undefined });
  let result;
  try {
    result = await executeInteraction(fhir, interaction, { returnPreference: undefined, handling: 'lenient', owner, visibility }, () => undefined);
  } catch (e) {
    if (e instanceof CustodiaError && e.code === 'search-invalid') return [];
    throw e;
  }
  const bundle = typeof result.body === 'string' ? (JSON.parse(result.body) as unknown) : result.body;
  const entries = isJsonObject(bundle) && Array.isArray(bundle['entry']) ? (bundle['entry'] as unknown[]).filter(isJsonObject) : [];
  return entries.map((e) => e['resource']).filter(isJsonObject).filter((r) => r['resourceType'] === 'Patient').map(choiceOf).filter((c): c is PatientChoice => c !== undefined);
}

/** The signing-in user as the access decision sees them when picking a patient: their role, reading patients. */
function pickerPrincipal(user: User): Principal {
  return userPrincipal(user, { issuer: 'oauth-sign-in', tokenId: `sign-in:${user.id}`, scope: 'user/Patient.rs' });
}

/** What `p` may see of Patients, or nothing when its role may not read them at all. */
async function patientVisibility(access: AccessControl, p: Principal): Promise<Visibility> {
  try {
    access.guardFor(p)({ kind: 'search', types: ['Patient'], params: [] });
  } catch (e) {
    if (isCustodiaError(e, 'forbidden')) return { kind: 'none' };
    throw e;
  }
  return (await access.forRequest(p)).visibility;
}

export function fhirPatientDirectory(fhir: FhirContext, access: AccessControl): PatientDirectory {
  return {
    // `query` is attacker-controlled; it only ever becomes a search parameter value.
    async search(query: string, user: User): Promise<readonly PatientChoice[]> {
      const owner = `oauth-patient-search:${user.id}`;
      // Only patients the user may see are offered (the access decision, as for any search).
      const visibility = await patientVisibility(access, pickerPrincipal(user));
      const byName = await searchPatients(fhir, [['name', query]], owner, visibility);
      const byIdentifier = /\s/.test(query) ? [] : await searchPatients(fhir, [['identifier', query]], owner, visibility);
      const seen = new Set<string>();
      return [...byIdentifier, ...byName].filter((c) => !seen.has(c.id) && seen.add(c.id)).slice(0, MAX_RESULTS);
    },
    async canLaunch(patientId: string, p: Principal): Promise<boolean> {
      const v = await fhir.store.readCurrent('Patient', patientId, await patientVisibility(access, p));
      return v !== undefined && !v.deleted;
    },
  };
}
