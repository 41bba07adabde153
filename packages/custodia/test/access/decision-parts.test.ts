/**
 * The interaction-level check (scopes ∩ role) and the visibility builder, on their own.
 * The full matrix through HTTP lives in test/api/permission-matrix.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildVisibility, checkPermissions, compartmentBoundTypes, parseScopes, requirementsOf, type Principal } from '../../src/access/index.js';
import { isVisible, type FhirInteraction } from '../../src/fhir/index.js';
import { isCustodiaError } from '../../src/kernel/index.js';

const PATIENT_DATA = new Set(['Patient', 'Observation', 'Condition', 'AuditEvent', 'Consent', 'Encounter']);
const classes = { isPatientData: (t: string) => PATIENT_DATA.has(t) };
const ALL = ['Patient', 'Observation', 'Condition', 'AuditEvent', 'Consent', 'Encounter', 'Organization', 'Practitioner'];

function principal(over: Partial<Principal>): Principal {
  return { subject: 'u1', issuer: 'i', tokenId: 't', scope: '', scopes: [], expiresAt: 0, kind: 'user', purposeOfUse: 'TREAT', clearances: [], ...over };
}
const withScope = (scope: string, over: Partial<Principal> = {}): Principal => principal({ scope, scopes: parseScopes(scope), ...over });
const check = (p: Principal, i: FhirInteraction) => checkPermissions(p, requirementsOf(i, ALL), classes);
const denied = (p: Principal, i: FhirInteraction): boolean => {
  try {
    check(p, i);
    return false;
  } catch (e) {
    if (isCustodiaError(e, 'forbidden')) return true;
    throw e;
  }
};

describe('checkPermissions: scopes ∩ role, deny by default', () => {
  const read = (type: string): FhirInteraction => ({ kind: 'read', type, id: 'x' });
  const create = (type: string): FhirInteraction => ({ kind: 'create', type, body: {} });

  it('a clinician with user/*.cruds reads and writes patient data, not audit events', () => {
    const p = withScope('user/*.cruds', { role: 'clinician', fhirUser: 'Practitioner/d1' });
    expect(denied(p, read('Observation'))).toBe(false);
    expect(denied(p, create('Observation'))).toBe(false);
    expect(denied(p, read('AuditEvent'))).toBe(true);
    expect(denied(p, { kind: 'delete', type: 'Observation', id: 'x' })).toBe(true);
  });

  it('scopes narrow the role: user/Observation.rs cannot create', () => {
    const p = withScope('user/Observation.rs', { role: 'clinician' });
    expect(denied(p, read('Observation'))).toBe(false);
    expect(denied(p, create('Observation'))).toBe(true);
    expect(denied(p, read('Condition'))).toBe(true);
  });

  it('an administrator manages shared resources but never reads patient data', () => {
    const p = withScope('user/*.cruds', { role: 'admin' });
    expect(denied(p, create('Organization'))).toBe(false);
    expect(denied(p, read('Patient'))).toBe(true);
    expect(denied(p, read('Observation'))).toBe(true);
  });

  it('a patient-context grant is bounded by the compartment; without a patient it grants nothing', () => {
    expect(check(withScope('patient/Observation.rs', { role: 'clinician', patient: 'p1' }), read('Observation'))).toMatchObject({ compartmentPatient: 'p1' });
    expect(denied(withScope('patient/Observation.rs', { role: 'clinician' }), read('Observation'))).toBe(true);
  });

  it('a patient user is always bounded to their own compartment, whatever the scope says', () => {
    const p = withScope('user/*.rs', { role: 'patient', fhirUser: 'Patient/me' });
    const outcome = check(p, read('Observation'));
    expect([...outcome.compartmentTypes]).toEqual(['Observation']);
    expect(outcome.compartmentPatient).toBe('me');
    expect(denied(withScope('user/*.rs', { role: 'patient' }), read('Observation'))).toBe(true);
  });

  it('backend clients need system/ scopes; malformed or unknown scopes grant nothing', () => {
    expect(denied(withScope('system/Patient.rs', { kind: 'client' }), read('Patient'))).toBe(false);
    expect(denied(withScope('user/Patient.rs', { kind: 'client' }), read('Patient'))).toBe(true);
    expect(denied(withScope('system/Patient.rs?category=x', { kind: 'client' }), read('Patient'))).toBe(true);
    expect(denied(withScope('openid fhirUser', { role: 'clinician' }), read('Patient'))).toBe(true);
  });
});

describe('buildVisibility', () => {
  const facts = (type: string, patient: string | undefined, labels: string[] = []) => ({
    type,
    id: 'r',
    compartments: patient === undefined ? [] : [{ compartment: 'Patient', id: patient }],
    labels: labels.map((code) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code })),
  });
  const HIV = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV', clearance: 'HIV' }];

  it('hides uncleared labels, lifts them with a clearance or break-the-glass for that patient only', () => {
    const clinician = withScope('user/*.cruds', { role: 'clinician' });
    const base = { permissions: compartmentBoundTypes(clinician, [...PATIENT_DATA], classes), labels: HIV, consent: [], breakGlassPatients: [] };
    const v = buildVisibility({ ...base, principal: clinician }).visibility;
    expect(isVisible(v, facts('Observation', 'p1', ['HIV']))).toBe(false);
    expect(isVisible(v, facts('Observation', 'p1'))).toBe(true);
    const cleared = buildVisibility({ ...base, principal: { ...clinician, clearances: ['HIV'] } }).visibility;
    expect(isVisible(cleared, facts('Observation', 'p1', ['HIV']))).toBe(true);
    const btg = buildVisibility({ ...base, principal: clinician, breakGlassPatients: ['p1'] }).visibility;
    expect(isVisible(btg, facts('Observation', 'p1', ['HIV']))).toBe(true);
    expect(isVisible(btg, facts('Observation', 'p2', ['HIV']))).toBe(false);
  });

  it('applies a consent rule only inside the compartments of its patients', () => {
    const clinician = withScope('user/*.cruds', { role: 'clinician' });
    const v = buildVisibility({
      principal: clinician,
      permissions: compartmentBoundTypes(clinician, [...PATIENT_DATA], classes),
      labels: [],
      consent: [{ patients: ['p1'], permitted: { kind: 'none' }, reasons: ['Consent/c1 denies'] }],
      breakGlassPatients: [],
    });
    expect(isVisible(v.visibility, facts('Observation', 'p1'))).toBe(false);
    expect(isVisible(v.visibility, facts('Observation', 'p2'))).toBe(true);
    expect(isVisible(v.visibility, facts('Organization', undefined))).toBe(true);
    expect(v.reasons).toContain('Consent/c1 denies');
  });

  it('a patient sees their own record whatever their consents and labels say, and nothing else of patient data', () => {
    const patient = withScope('user/*.rs', { role: 'patient', fhirUser: 'Patient/me' });
    const v = buildVisibility({
      principal: patient,
      permissions: compartmentBoundTypes(patient, [...PATIENT_DATA], classes),
      labels: HIV,
      consent: [{ patients: ['me'], permitted: { kind: 'none' }, reasons: [] }],
      breakGlassPatients: [],
    }).visibility;
    expect(isVisible(v, facts('Observation', 'me', ['HIV']))).toBe(true);
    expect(isVisible(v, facts('Observation', 'someone-else'))).toBe(false);
    expect(isVisible(v, facts('Practitioner', undefined))).toBe(true);
  });
});
