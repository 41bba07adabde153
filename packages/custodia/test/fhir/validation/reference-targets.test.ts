/**
 * Reference targets (FHIR R4 references.html: "the reference SHALL point to a resource of
 * a type" the element's targetProfile allows), from the official R4 definitions.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { validateResource } from '../../../src/fhir/validation/index.js';
import { referencedType, referenceTargetsOf } from '../../../src/fhir/validation/reference-targets.js';

const issuesOf = (r: unknown) => validateResource(r).map(({ kind, code, expression }) => ({ kind, code, expression }));
const observation = (extra: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, ...extra });

describe('referenceTargetsOf', () => {
  it('gives the targetProfiles of R4 Reference elements, and nothing for Reference(Any)', () => {
    expect([...referenceTargetsOf('Observation', 'subject')!]).toEqual(['Device', 'Group', 'Location', 'Patient']);
    expect([...referenceTargetsOf('MedicationRequest', 'medicationReference')!]).toEqual(['Medication']);
    expect([...referenceTargetsOf('Annotation', 'authorReference')!]).toEqual(['Organization', 'Patient', 'Practitioner', 'RelatedPerson']);
    expect([...referenceTargetsOf('MedicationRequest.dispenseRequest', 'performer')!]).toEqual(['Organization']);
    expect(referenceTargetsOf('Extension', 'valueReference')).toBeUndefined();
    expect(referenceTargetsOf('Provenance', 'target')).toBeUndefined();
    expect(referenceTargetsOf('Observation', 'status')).toBeUndefined();
  });
});

describe('referencedType', () => {
  it('reads the type of relative and absolute RESTful references (references.html §2.3.0.2)', () => {
    expect(referencedType('Patient/1')).toBe('Patient');
    expect(referencedType('Patient/a-b.c/_history/2')).toBe('Patient');
    expect(referencedType('http://example.org/fhir/Patient/1')).toBe('Patient');
    expect(referencedType('https://example.org/a/b/Encounter/1/_history/3')).toBe('Encounter');
    // A relative reference must be RESTful, so its type is checked even when it is not one.
    expect(referencedType('Spaceship/1')).toBe('Spaceship');
  });

  it('names no type for contained, urn:, logical or non-RESTful references', () => {
    for (const r of ['#c1', 'urn:uuid:5c3c8f3e-3b1a-4d5e-9d6f-1b2c3d4e5f60', 'urn:oid:1.2.3', 'Patient', '', '/', 'Patient/', 'patient/1', 'a/b/Patient/1', `Patient/${'a'.repeat(65)}`, 'ftp://x/Patient/1']) {
      expect(referencedType(r)).toBeUndefined();
    }
    // Another server's URL names a type only where that segment is an R4 resource type.
    expect(referencedType('http://hl7.org/fhir/ig/vhdir/Network/patriotppo')).toBeUndefined();
  });

  test.prop([fc.string({ maxLength: 200 })], { numRuns: 500 })('never throws, and answers a type name or nothing', (s) => {
    const t = referencedType(s);
    if (t !== undefined) expect(t).toMatch(/^[A-Z][A-Za-z]{0,63}$/);
  });

  it('reads a megabyte of slashes in one pass (hostile input)', () => {
    expect(referencedType(`${'/'.repeat(1 << 20)}Patient/1`)).toBeUndefined();
    expect(referencedType(`http://${'a/'.repeat(1 << 19)}Patient/1`)).toBe('Patient');
  });
});

describe('validateResource with reference targets', () => {
  it('accepts references to allowed types, and the forms that name no type', () => {
    for (const reference of ['Patient/p1', 'Group/g/_history/2', 'https://other.example/fhir/Device/d', '#c', 'urn:uuid:5c3c8f3e-3b1a-4d5e-9d6f-1b2c3d4e5f60']) {
      expect(issuesOf(observation({ subject: { reference }, ...(reference === '#c' ? { contained: [{ resourceType: 'Patient', id: 'c' }] } : {}) }))).toEqual([]);
    }
    expect(issuesOf(observation({ subject: { identifier: { value: 'x' } } }))).toEqual([]);
    expect(issuesOf(observation({ extension: [{ url: 'http://example.org/x', valueReference: { reference: 'Encounter/e' } }] }))).toEqual([]);
  });

  it('refuses a reference to another type (422), naming the allowed types but not the id', () => {
    const issues = validateResource(observation({ subject: { reference: 'Encounter/secret-id' } }));
    expect(issues.map(({ kind, code, expression }) => ({ kind, code, expression }))).toEqual([{ kind: 'invalid', code: 'value', expression: 'Observation.subject.reference' }]);
    expect(issues[0]!.diagnostics).toContain('Device, Group, Location, Patient, not Encounter');
    expect(issues[0]!.diagnostics).not.toContain('secret-id');
    expect(validateResource(observation({ subject: { reference: 'Spaceship/1' } }))[0]!.diagnostics).toContain('not a type that is not an R4 resource type');
  });

  it('checks a local reference (#id) against the contained resource it names, in the resource that contains it', () => {
    const medication = { resourceType: 'Medication', id: 'm1', code: { text: 'x' } };
    const organization = { resourceType: 'Organization', id: 'm1', name: 'x' };
    const request = (ref: string, contained: unknown[]) => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p' }, medicationReference: { reference: ref }, contained });
    const wrong = [{ kind: 'invalid', code: 'value', expression: 'MedicationRequest.medicationReference.reference' }];
    expect(issuesOf(request('#m1', [medication]))).toEqual([]);
    expect(issuesOf(request('#m1', [organization]))).toEqual(wrong);
    // '#' is the container itself (a MedicationRequest here).
    expect(issuesOf(request('#', [medication]))).toEqual([...wrong, { kind: 'invalid', code: 'invariant', expression: 'MedicationRequest.contained[0]' }]);
    // Each Bundle entry resolves against its own contained resources.
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: request('#m1', [medication]) }, { resource: request('#m1', [organization]) }] };
    expect(issuesOf(bundle)).toEqual([{ kind: 'invalid', code: 'value', expression: 'Bundle.entry[1].resource.medicationReference.reference' }]);
  });

  it('refuses a local reference that names no contained resource (ref-1), wherever the Reference sits, without echoing the id', () => {
    const ref1 = (expression: string) => ({ kind: 'invalid', code: 'invariant', expression });
    const unnamed = validateResource(observation({ subject: { reference: '#secret-id' } }));
    expect(unnamed.map(({ kind, code, expression }) => ({ kind, code, expression }))).toEqual([ref1('Observation.subject.reference')]);
    expect(unnamed[0]!.diagnostics).toContain('ref-1');
    expect(unnamed[0]!.diagnostics).not.toContain('secret-id');
    // Reference(Any) elements and extensions have no target types, but ref-1 holds for every Reference.
    expect(issuesOf({ resourceType: 'Provenance', recorded: '2020-01-01T00:00:00Z', agent: [{ who: { reference: 'Practitioner/p' } }], target: [{ reference: '#x' }] })).toEqual([ref1('Provenance.target[0].reference')]);
    expect(issuesOf(observation({ extension: [{ url: 'http://example.org/x', valueReference: { reference: '#x' } }] }))).toEqual([ref1('Observation.extension[0].valueReference.reference')]);
    // The id is looked up in the resource that holds the Reference: not a sibling entry's, not the Bundle's.
    const patient = { resourceType: 'Patient', id: 'c' };
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: observation({ subject: { reference: '#c' }, contained: [patient] }) }, { resource: observation({ subject: { reference: '#c' } }) }] };
    expect(issuesOf(bundle)).toEqual([ref1('Bundle.entry[1].resource.subject.reference')]);
    // From inside a contained resource, its container's other contained resources, and '#' the container itself.
    const inner = { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, subject: { reference: '#c' }, hasMember: [{ reference: '#' }], derivedFrom: [{ reference: '#z' }] };
    expect(issuesOf(observation({ contained: [patient, inner], hasMember: [{ reference: '#o' }] }))).toEqual([ref1('Observation.contained[1].derivedFrom[0].reference')]);
  });

  it('checks Reference.type, data types, backbone elements, choice variants and nested resources', () => {
    expect(issuesOf(observation({ subject: { type: 'Encounter', reference: '#c' }, contained: [{ resourceType: 'Patient', id: 'c' }] }))).toEqual([{ kind: 'invalid', code: 'value', expression: 'Observation.subject.type' }]);
    expect(issuesOf(observation({ note: [{ authorReference: { reference: 'Device/d' }, text: 'x' }] }))).toEqual([{ kind: 'invalid', code: 'value', expression: 'Observation.note[0].authorReference.reference' }]);
    const medication = { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p' }, medicationReference: { reference: 'Patient/p' }, dispenseRequest: { performer: { reference: 'Practitioner/x' } } };
    expect(issuesOf(medication)).toEqual([
      { kind: 'invalid', code: 'value', expression: 'MedicationRequest.medicationReference.reference' },
      { kind: 'invalid', code: 'value', expression: 'MedicationRequest.dispenseRequest.performer.reference' },
    ]);
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: observation({ subject: { reference: 'Encounter/e' } }) }] };
    expect(issuesOf(bundle)).toEqual([{ kind: 'invalid', code: 'value', expression: 'Bundle.entry[0].resource.subject.reference' }]);
  });
});
