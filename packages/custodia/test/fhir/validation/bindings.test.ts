import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateResource } from '../../../src/fhir/validation/index.js';
import { invalid, issuesOf } from './issue-summary.js';

/**
 * FHIR R4 terminologies.html#required ("binding strength required"): a `code` element bound to
 * a closed value set only takes that value set's codes (issue type code-invalid, HTTP 422).
 */
const codeInvalid = (expression: string): ReturnType<typeof invalid> => invalid('code-invalid', expression);

const observation = { resourceType: 'Observation', status: 'final', code: { text: 'glucose' } };
const bundle = (...resources: unknown[]): unknown => ({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) });
const withExtension = (extension: Record<string, unknown>): unknown => ({ resourceType: 'Patient', extension: [{ url: 'http://example.org/x', ...extension }] });

describe('required bindings of code elements', () => {
  it('rejects a code outside the value set, at the element, without echoing the value', () => {
    const issues = validateResource({ resourceType: 'Patient', gender: 'robot' });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: 'invalid', code: 'code-invalid', expression: 'Patient.gender' });
    expect(issues[0]?.diagnostics).toContain('Patient.gender');
    expect(issues[0]?.diagnostics).toContain('http://hl7.org/fhir/ValueSet/administrative-gender');
    expect(JSON.stringify(issues)).not.toContain('robot');
  });

  it('accepts every code of the value set', () => {
    for (const gender of ['male', 'female', 'other', 'unknown']) expect(issuesOf({ resourceType: 'Patient', gender }), gender).toEqual([]);
    for (const status of ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown']) {
      expect(issuesOf({ ...observation, status }), status).toEqual([]);
    }
  });

  it('compares codes exactly (codes are case-sensitive)', () => {
    expect(issuesOf({ ...observation, status: 'finalised' })).toEqual([codeInvalid('Observation.status')]);
    expect(issuesOf({ ...observation, status: 'Final' })).toEqual([codeInvalid('Observation.status')]);
    expect(issuesOf({ resourceType: 'Patient', gender: 'MALE' })).toEqual([codeInvalid('Patient.gender')]);
  });

  it('reports a malformed code once, as a format issue', () => {
    expect(issuesOf({ resourceType: 'Patient', gender: ' male' })).toEqual([invalid('value', 'Patient.gender')]);
    expect(issuesOf({ resourceType: 'Patient', gender: '' })).toEqual([invalid('value', 'Patient.gender')]);
  });

  it('checks codes in backbone elements, data types and repeating elements', () => {
    expect(issuesOf({ resourceType: 'Patient', contact: [{ gender: 'robot' }] })).toEqual([codeInvalid('Patient.contact[0].gender')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{ use: 'official' }, { use: 'nick' }] })).toEqual([codeInvalid('Patient.name[1].use')]);
    expect(issuesOf({ resourceType: 'Patient', telecom: [{ system: 'pigeon', value: 'x' }] })).toEqual([codeInvalid('Patient.telecom[0].system')]);
    const allergy = { resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/1' } };
    expect(issuesOf({ ...allergy, category: ['food', 'robot', 'medication'] })).toEqual([codeInvalid('AllergyIntolerance.category[1]')]);
    expect(issuesOf({ ...observation, valueQuantity: { value: 1, comparator: '=<' } })).toEqual([codeInvalid('Observation.valueQuantity.comparator')]);
  });

  it('follows contentReference recursion (Questionnaire.item.item)', () => {
    const questionnaire = { resourceType: 'Questionnaire', status: 'active', item: [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'essay' }] }] };
    const issues = validateResource(questionnaire);
    expect(issues.map(({ kind, code, expression }) => ({ kind, code, expression }))).toEqual([codeInvalid('Questionnaire.item[0].item[0].type')]);
    expect(issues[0]?.diagnostics).toContain('http://hl7.org/fhir/ValueSet/item-type');
  });

  it('applies one value set to every element bound to it, also where the schema gives the enum elsewhere', () => {
    // DetectedIssue.status and RiskAssessment.status are bound to observation-status.
    const detected = { resourceType: 'DetectedIssue', status: 'finalised' };
    expect(issuesOf(detected)).toEqual([codeInvalid('DetectedIssue.status')]);
    expect(issuesOf({ ...detected, status: 'final' })).toEqual([]);
    // HealthcareService.availableTime.daysOfWeek and Timing.repeat.dayOfWeek share days-of-week.
    const timing = { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' }, medicationCodeableConcept: { text: 'x' } };
    const dosage = (dayOfWeek: string[]): unknown => ({ ...timing, dosageInstruction: [{ timing: { repeat: { dayOfWeek } } }] });
    expect(issuesOf(dosage(['mon', 'fri']))).toEqual([]);
    expect(issuesOf(dosage(['mon', 'monday']))).toEqual([codeInvalid('MedicationRequest.dosageInstruction[0].timing.repeat.dayOfWeek[1]')]);
  });

  it('locates a wrong code in Bundle entries and contained resources', () => {
    expect(issuesOf(bundle({ resourceType: 'Patient', gender: 'female' }, { ...observation, status: 'finalised' }))).toEqual([
      codeInvalid('Bundle.entry[1].resource.status'),
    ]);
    expect(issuesOf(bundle({ resourceType: 'Patient', contact: [{ gender: 'robot' }] }))).toEqual([codeInvalid('Bundle.entry[0].resource.contact[0].gender')]);
    expect(issuesOf({ ...observation, subject: { reference: '#p' }, contained: [{ resourceType: 'Patient', id: 'p', gender: 'robot' }] })).toEqual([codeInvalid('Observation.contained[0].gender')]);
    expect(issuesOf({ resourceType: 'Bundle', type: 'collections' })).toEqual([codeInvalid('Bundle.type')]);
    expect(issuesOf({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'get', url: 'Patient' } }] })).toEqual([
      codeInvalid('Bundle.entry[0].request.method'),
    ]);
  });

  it('has nothing to check in _element siblings (no value), and accepts null placeholders', () => {
    const absent = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
    expect(issuesOf({ resourceType: 'Patient', _gender: absent })).toEqual([]);
    expect(issuesOf({ resourceType: 'Observation', _status: absent, code: { text: 'x' } })).toEqual([]);
    const allergy = { resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/1' } };
    expect(issuesOf({ ...allergy, category: ['food', null], _category: [null, absent] })).toEqual([]);
    expect(issuesOf({ ...allergy, category: ['robot', null], _category: [null, absent] })).toEqual([codeInvalid('AllergyIntolerance.category[0]')]);
  });

  it('treats attacker-chosen codes as plain strings', () => {
    for (const gender of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'male female']) {
      expect(issuesOf({ resourceType: 'Patient', gender }), gender).toEqual([codeInvalid('Patient.gender')]);
    }
    const secret = 'Jane-Doe-1970';
    const issues = validateResource(bundle({ resourceType: 'Patient', gender: secret, name: [{ use: secret }], contact: [{ gender: secret }] }));
    expect(issues).toHaveLength(3);
    for (const issue of issues) expect(JSON.stringify(issue)).not.toContain(secret);
  });

  describe('open-ended and non-required bindings are not enum-checked', () => {
    it('accepts any well-formed media type (mimetypes: urn:ietf:bcp:13)', () => {
      expect(issuesOf({ resourceType: 'Patient', photo: [{ contentType: 'application/x-made-up' }] })).toEqual([]);
      expect(issuesOf({ resourceType: 'Binary', contentType: 'application/x-made-up; charset=utf-8' })).toEqual([]);
    });

    it('accepts any language tag (Resource.language, Patient.communication.language)', () => {
      expect(issuesOf({ resourceType: 'Patient', language: 'x-made-up' })).toEqual([]);
      const communication = [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'x-made-up' }] } }];
      expect(issuesOf({ resourceType: 'Patient', communication })).toEqual([]);
    });

    it('accepts any currency and any unit (currencies, UCUM)', () => {
      expect(issuesOf(withExtension({ valueMoney: { value: 1, currency: 'ZZZ' } }))).toEqual([]);
      expect(issuesOf({ ...observation, valueQuantity: { value: 1, unit: 'made-up', system: 'http://unitsofmeasure.org', code: 'made-up' } })).toEqual([]);
    });

    it('does not check CodeableConcept or Coding elements, even with a required binding', () => {
      const condition = { resourceType: 'Condition', subject: { reference: 'Patient/1' } };
      expect(issuesOf({ ...condition, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'made-up' }] } })).toEqual([]);
    });

    it('does not check code elements whose value set has no codes in the definitions (Procedure.status: event-status)', () => {
      expect(issuesOf({ resourceType: 'Procedure', status: 'made-up', subject: { reference: 'Patient/1' } })).toEqual([]);
    });

    it('does not check code elements without a binding (Extension.valueCode)', () => {
      expect(issuesOf(withExtension({ valueCode: 'made-up' }))).toEqual([]);
    });
  });
});

describe('the value sets of the structure table', () => {
  interface Table {
    valueSets: Record<string, string[]>;
    bindings: Record<string, Record<string, string>>;
    types: Record<string, { elements: Record<string, [string, number, number | string, string?]> }>;
  }
  const table = JSON.parse(readFileSync(new URL('../../../generated/fhir-structure.json', import.meta.url), 'utf8')) as Table;

  it('binds only code elements of the table, to value sets it lists', () => {
    const bound = Object.entries(table.bindings).flatMap(([type, byName]) => Object.entries(byName).map(([name, url]) => ({ type, name, url })));
    expect(bound.length).toBeGreaterThan(250);
    for (const { type, name, url } of bound) {
      expect(table.types[type]?.elements[name]?.[0], `${type}.${name}`).toBe('code');
      expect(table.valueSets[url], url).toBeDefined();
    }
    expect(new Set(bound.map(({ url }) => url)).size).toBe(Object.keys(table.valueSets).length);
  });

  it('keeps one list per value set, with distinct codes', () => {
    expect(table.valueSets['http://hl7.org/fhir/ValueSet/administrative-gender']).toEqual(['male', 'female', 'other', 'unknown']);
    expect(table.valueSets['http://hl7.org/fhir/ValueSet/system-restful-interaction']).toEqual(['transaction', 'batch', 'search-system', 'history-system']);
    for (const [url, codes] of Object.entries(table.valueSets)) expect(new Set(codes).size, url).toBe(codes.length);
    expect(table.bindings['Patient']?.['gender']).toBe('http://hl7.org/fhir/ValueSet/administrative-gender');
    expect(table.bindings['CapabilityStatement.rest.interaction']?.['code']).toBe('http://hl7.org/fhir/ValueSet/system-restful-interaction');
  });

  it('leaves open-ended value sets out', () => {
    for (const open of ['mimetypes', 'languages', 'all-languages', 'ucum-units', 'currencies', 'spdx-license']) {
      expect(table.valueSets[`http://hl7.org/fhir/ValueSet/${open}`], open).toBeUndefined();
    }
    expect(table.bindings['Attachment']?.['contentType']).toBeUndefined();
    expect(table.bindings['Patient']?.['language']).toBeUndefined();
    expect(table.bindings['Quantity']?.['unit']).toBeUndefined();
    expect(table.bindings['Money']?.['currency']).toBeUndefined();
  });
});

describe('scripts/code-bindings.mjs', () => {
  interface Bound { typeKey: string; name: string; element: Record<string, unknown> }
  type Build = (schema: unknown, bound: Bound[], fail: (message: string) => never) => { valueSets: Record<string, string[]>; bindings: Record<string, Record<string, string>> };
  const load = async (): Promise<Build> =>
    ((await import(new URL('../../../scripts/code-bindings.mjs', import.meta.url).href)) as { buildCodeBindings: Build }).buildCodeBindings;
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const GENDER = 'http://hl7.org/fhir/ValueSet/administrative-gender';
  const definition = 'Administrative Gender.';
  const gender = (typeKey: string, extra: Record<string, unknown> = {}): Bound => ({
    typeKey,
    name: 'gender',
    element: { path: `${typeKey}.gender`, definition, short: 'male | female | other | unknown', max: '1', type: [{ code: 'code' }], binding: { strength: 'required', valueSet: `${GENDER}|4.0.1` }, ...extra },
  });
  const schemaWith = (codes: string[], description = definition): unknown => ({
    definitions: { Patient: { properties: { gender: { description, enum: codes } } }, Patient_Contact: { properties: { gender: { description } } } },
  });

  it('takes the enum of the exact schema property and shares it with every element bound to the value set', async () => {
    const build = await load();
    const { valueSets, bindings } = build(schemaWith(['male', 'female', 'other', 'unknown']), [gender('Patient'), gender('Patient.contact')], fail);
    expect(valueSets).toEqual({ [GENDER]: ['male', 'female', 'other', 'unknown'] });
    expect(bindings).toEqual({ Patient: { gender: GENDER }, 'Patient.contact': { gender: GENDER } });
  });

  it('ignores an enum whose property is not the element (different definition text)', async () => {
    const build = await load();
    expect(build(schemaWith(['male', 'female', 'other', 'unknown'], 'Something else.'), [gender('Patient')], fail)).toEqual({ valueSets: {}, bindings: {} });
  });

  it('fails when the enum lacks a code the definition lists, rather than reject valid R4 codes', async () => {
    const build = await load();
    expect(() => build(schemaWith(['male', 'female', 'other']), [gender('Patient')], fail)).toThrow(/lacks unknown/);
  });

  it('never enumerates open-ended value sets', async () => {
    const build = await load();
    const mime = gender('Patient', { binding: { strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/mimetypes|4.0.1' }, short: undefined });
    expect(build(schemaWith(['text/plain']), [mime], fail)).toEqual({ valueSets: {}, bindings: {} });
  });
});
