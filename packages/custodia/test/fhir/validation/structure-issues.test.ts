import { describe, expect, it } from 'vitest';
import { issuesOf, structure } from './issue-summary.js';

describe('structure issues (not R4 JSON → 400)', () => {
  it('reports unknown elements where they are', () => {
    expect(issuesOf({ resourceType: 'Patient', foo: 1 })).toEqual([structure('Patient.foo')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{ given: ['Ann'], nickname: 'A' }] })).toEqual([structure('Patient.name[0].nickname')]);
    expect(issuesOf({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, units: 'mg' } })).toEqual([
      structure('Observation.valueQuantity.units'),
    ]);
  });

  it('rejects fhir_comments, which R4 JSON no longer has', () => {
    expect(issuesOf({ resourceType: 'Patient', fhir_comments: ['x'] })).toEqual([structure('Patient.fhir_comments')]);
  });

  it('does not print keys that are not plain identifiers', () => {
    expect(issuesOf({ resourceType: 'Patient', 'John Smith 1970-01-01': true })).toEqual([structure('Patient')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{ ['x'.repeat(65)]: 1 }] })).toEqual([structure('Patient.name[0]')]);
  });

  it('reports a JSON type that does not match the element type', () => {
    expect(issuesOf({ resourceType: 'Patient', active: 'true' })).toEqual([structure('Patient.active')]);
    expect(issuesOf({ resourceType: 'Patient', birthDate: 20200101 })).toEqual([structure('Patient.birthDate')]);
    expect(issuesOf({ resourceType: 'Patient', name: ['Ann'] })).toEqual([structure('Patient.name[0]')]);
    expect(issuesOf({ resourceType: 'Patient', multipleBirthInteger: '2' })).toEqual([structure('Patient.multipleBirthInteger')]);
    expect(issuesOf({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: '5' } })).toEqual([
      structure('Observation.valueQuantity.value'),
    ]);
    expect(issuesOf({ resourceType: 'Patient', maritalStatus: 'M' })).toEqual([structure('Patient.maritalStatus')]);
  });

  it('reports an array where a single value is expected', () => {
    expect(issuesOf({ resourceType: 'Patient', gender: ['male'] })).toEqual([structure('Patient.gender')]);
    expect(issuesOf({ resourceType: 'Observation', status: 'final', code: [{ text: 'x' }] })).toEqual([structure('Observation.code')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{ family: ['Smith'] }] })).toEqual([structure('Patient.name[0].family')]);
  });

  it('reports a single value where an array is expected', () => {
    expect(issuesOf({ resourceType: 'Patient', name: { family: 'Smith' } })).toEqual([structure('Patient.name')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{ given: 'Ann' }] })).toEqual([structure('Patient.name[0].given')]);
  });

  it('accepts null only as a placeholder aligned with an _element entry', () => {
    expect(issuesOf({ resourceType: 'Patient', birthDate: null })).toEqual([structure('Patient.birthDate')]);
    expect(issuesOf({ resourceType: 'Patient', name: [null] })).toEqual([structure('Patient.name[0]')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{ given: ['Ann', null] }] })).toEqual([structure('Patient.name[0].given[1]')]);
    expect(issuesOf({ resourceType: 'Patient', name: null })).toEqual([structure('Patient.name')]);
  });

  describe('_element siblings (json.html §2.6.2)', () => {
    const ext = { extension: [{ url: 'http://example.org/x', valueString: 'y' }] };

    it('accepts aligned _given arrays and _element objects', () => {
      expect(issuesOf({ resourceType: 'Patient', name: [{ given: ['Ann', null, 'Bo'], _given: [null, ext, { id: 'g3' }] }] })).toEqual([]);
      expect(issuesOf({ resourceType: 'Patient', name: [{ _given: [ext] }] })).toEqual([]);
      expect(issuesOf({ resourceType: 'Patient', birthDate: '1970', _birthDate: ext })).toEqual([]);
      expect(issuesOf({ resourceType: 'Patient', _birthDate: ext })).toEqual([]);
    });

    it('reports _given arrays that are not aligned', () => {
      expect(issuesOf({ resourceType: 'Patient', name: [{ given: ['Ann'], _given: [null, ext] }] })).toEqual([structure('Patient.name[0].given')]);
      expect(issuesOf({ resourceType: 'Patient', name: [{ given: ['Ann', null], _given: [null, null] }] })).toEqual([
        structure('Patient.name[0].given[1]'),
        structure('Patient.name[0].given[1]'),
      ]);
      expect(issuesOf({ resourceType: 'Patient', name: [{ given: ['Ann'], _given: ['x'] }] })).toEqual([structure('Patient.name[0].given[0]')]);
      expect(issuesOf({ resourceType: 'Patient', name: [{ given: ['Ann'], _given: ext }] })).toEqual([structure('Patient.name[0].given')]);
    });

    it('allows only id and extension in _element', () => {
      expect(issuesOf({ resourceType: 'Patient', _birthDate: { value: '1970' } })).toEqual([structure('Patient.birthDate.value')]);
      expect(issuesOf({ resourceType: 'Patient', _birthDate: 'x' })).toEqual([structure('Patient.birthDate')]);
      expect(issuesOf({ resourceType: 'Patient', _birthDate: [ext] })).toEqual([structure('Patient.birthDate')]);
      expect(issuesOf({ resourceType: 'Patient', _birthDate: { extension: [{ valueString: 'y' }] } })[0]?.expression).toBe('Patient.birthDate.extension[0].url');
    });

    it('has no _element for complex elements, ids and xhtml', () => {
      expect(issuesOf({ resourceType: 'Patient', _name: ext })).toEqual([structure('Patient._name')]);
      expect(issuesOf({ resourceType: 'Patient', id: 'p1', _id: ext })).toEqual([structure('Patient._id')]);
      expect(issuesOf({ resourceType: 'Patient', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>', _div: ext } })).toEqual([
        structure('Patient.text._div'),
      ]);
      expect(issuesOf({ resourceType: 'Patient', _foo: ext })).toEqual([structure('Patient._foo')]);
    });
  });

  describe('resourceType', () => {
    it('must be present', () => {
      expect(issuesOf({ id: 'x' })).toEqual([structure('Resource.resourceType', 'required')]);
      expect(issuesOf({})).toEqual([structure('Resource.resourceType', 'required')]);
    });

    it('must be a string naming a concrete R4 resource type', () => {
      expect(issuesOf({ resourceType: 42 })).toEqual([structure('Resource.resourceType')]);
      expect(issuesOf({ resourceType: ['Patient'] })).toEqual([structure('Resource.resourceType')]);
      for (const name of ['Foo', 'patient', 'Resource', 'DomainResource', 'MetadataResource', 'HumanName', 'Extension', '__proto__', 'constructor', '']) {
        expect(issuesOf({ resourceType: name }), name).toEqual([structure('Resource.resourceType', 'not-supported')]);
      }
    });

    it('is not allowed inside data types', () => {
      expect(issuesOf({ resourceType: 'Patient', name: [{ resourceType: 'HumanName', family: 'x' }] })).toEqual([structure('Patient.name[0].resourceType')]);
    });
  });

  it('rejects inputs that are not JSON objects', () => {
    for (const input of [null, [], [{ resourceType: 'Patient' }], 'Patient', '', 42, 0, true, undefined]) {
      expect(issuesOf(input), String(input)).toEqual([structure('Resource')]);
    }
  });
});
