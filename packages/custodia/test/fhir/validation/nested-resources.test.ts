import { describe, expect, it } from 'vitest';
import { invalid, issuesOf, structure } from './issue-summary.js';

const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Smith' }] };
const observation = { resourceType: 'Observation', status: 'final', code: { text: 'x' } };
const bundle = (...resources: unknown[]): unknown => ({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) });

describe('nested resources are validated as the type they declare', () => {
  it('continues the path into Bundle.entry[n].resource', () => {
    expect(issuesOf(bundle(patient, observation, { ...observation, status: '' }))).toEqual([invalid('value', 'Bundle.entry[2].resource.status')]);
    expect(issuesOf(bundle({ ...patient, name: [{ given: [''] }] }))).toEqual([invalid('value', 'Bundle.entry[0].resource.name[0].given[0]')]);
    expect(issuesOf(bundle(patient, { resourceType: 'Observation' }))).toEqual([
      invalid('required', 'Bundle.entry[1].resource.status'),
      invalid('required', 'Bundle.entry[1].resource.code'),
    ]);
  });

  it('checks the resourceType of entry resources', () => {
    expect(issuesOf(bundle({ id: 'x' }))).toEqual([structure('Bundle.entry[0].resource.resourceType', 'required')]);
    expect(issuesOf(bundle({ resourceType: 'Unicorn' }))).toEqual([structure('Bundle.entry[0].resource.resourceType', 'not-supported')]);
    expect(issuesOf(bundle([patient]))).toEqual([structure('Bundle.entry[0].resource')]);
    expect(issuesOf(bundle('Patient/1'))).toEqual([structure('Bundle.entry[0].resource')]);
  });

  it('validates Bundles inside Bundles and Bundle.entry.response.outcome', () => {
    expect(issuesOf(bundle(bundle({ ...patient, gender: 1 })))).toEqual([structure('Bundle.entry[0].resource.entry[0].resource.gender')]);
    const response = { resourceType: 'Bundle', type: 'transaction-response', entry: [{ response: { status: '201 Created', outcome: { resourceType: 'OperationOutcome' } } }] };
    expect(issuesOf(response)).toEqual([invalid('required', 'Bundle.entry[0].response.outcome.issue')]);
  });

  it('validates Parameters.parameter.resource and parameter parts', () => {
    const parameters = { resourceType: 'Parameters', parameter: [{ name: 'p', resource: { ...patient, birthDate: '1970-02-30' } }, { name: 'q', part: [{ name: 'r', valueInteger: 'one' }] }] };
    expect(issuesOf(parameters)).toEqual([invalid('value', 'Parameters.parameter[0].resource.birthDate'), structure('Parameters.parameter[1].part[0].valueInteger')]);
  });

  describe('contained resources', () => {
    it('are validated with their own type', () => {
      expect(issuesOf({ ...observation, subject: { reference: '#p1' }, contained: [{ ...patient, name: [{ given: ['Ann', ''] }] }] })).toEqual([invalid('value', 'Observation.contained[0].name[0].given[1]')]);
      expect(issuesOf({ ...observation, subject: { reference: '#p1' }, performer: [{ reference: '#pr' }], contained: [patient, { resourceType: 'Practitioner', id: 'pr', foo: 1 }] })).toEqual([structure('Observation.contained[1].foo')]);
    });

    it('must have an id', () => {
      expect(issuesOf({ ...observation, contained: [{ resourceType: 'Patient', active: true }] })).toEqual([invalid('required', 'Observation.contained[0].id')]);
    });

    it('must not contain resources themselves (dom-2)', () => {
      expect(issuesOf({ ...observation, subject: { reference: '#p1' }, contained: [{ ...patient, contained: [{ resourceType: 'Patient', id: 'p2' }] }] })).toEqual([
        invalid('invariant', 'Observation.contained[0].contained'),
      ]);
    });

    it('must be referenced from elsewhere in the resource, or refer to it (dom-3)', () => {
      const unused = invalid('invariant', 'Observation.contained[0]');
      expect(issuesOf({ ...observation, contained: [patient] })).toEqual([unused]);
      // By a Reference anywhere in the resource, another contained resource's included.
      const practitioner = { resourceType: 'Practitioner', id: 'pr' };
      expect(issuesOf({ ...observation, performer: [{ reference: '#pr' }], contained: [{ ...patient, generalPractitioner: [{ reference: '#pr' }] }, practitioner] })).toEqual([unused]);
      expect(issuesOf({ ...observation, subject: { reference: '#p1' }, contained: [{ ...patient, generalPractitioner: [{ reference: '#pr' }] }, practitioner] })).toEqual([]);
      // By a canonical, uri or url '#id'; or it refers to its container with '#'.
      const questionnaire = { resourceType: 'Questionnaire', id: 'q', status: 'active' };
      expect(issuesOf({ resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: '#q', contained: [questionnaire] })).toEqual([]);
      expect(issuesOf({ ...observation, contained: [{ ...observation, id: 'o2', derivedFrom: [{ reference: '#' }] }] })).toEqual([]);
      // A '#' outside a contained resource refers to no contained one; a string that is not a reference does not count.
      expect(issuesOf({ ...observation, focus: [{ reference: '#' }], note: [{ text: '#p1' }], contained: [patient] })).toContainEqual(unused);
      // Each Bundle entry for itself.
      expect(issuesOf(bundle({ ...observation, subject: { reference: '#p1' }, contained: [patient] }, { ...observation, contained: [patient] }))).toEqual([invalid('invariant', 'Bundle.entry[1].resource.contained[0]')]);
    });

    it('may appear in resources inside a Bundle', () => {
      expect(issuesOf(bundle({ ...observation, subject: { reference: '#p1' }, contained: [patient] }))).toEqual([]);
      expect(issuesOf(bundle({ ...observation, contained: [{ resourceType: 'Patient' }] }))).toEqual([invalid('required', 'Bundle.entry[0].resource.contained[0].id')]);
    });
  });

  it('follows contentReference recursion (Questionnaire.item.item)', () => {
    const questionnaire = { resourceType: 'Questionnaire', status: 'active', item: [{ linkId: '1', type: 'group', item: [{ type: 'string', text: 'x' }] }] };
    expect(issuesOf(questionnaire)).toEqual([invalid('required', 'Questionnaire.item[0].item[0].linkId')]);
  });
});
