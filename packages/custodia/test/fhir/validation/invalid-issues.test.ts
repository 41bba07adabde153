import { describe, expect, it } from 'vitest';
import { validateResource } from '../../../src/fhir/validation/index.js';
import { invalid, issuesOf, structure } from './issue-summary.js';

const observation = { resourceType: 'Observation', status: 'final', code: { text: 'glucose' } };
const withExtension = (extension: Record<string, unknown>): unknown => ({ resourceType: 'Patient', extension: [{ url: 'http://example.org/x', ...extension }] });

describe('invalid issues (R4-shaped but breaking a rule → 422)', () => {
  it('reports empty arrays, objects and strings (json.html: no empty elements)', () => {
    expect(issuesOf({ resourceType: 'Patient', name: [] })).toEqual([invalid('invariant', 'Patient.name')]);
    expect(issuesOf({ resourceType: 'Patient', maritalStatus: {} })).toEqual([invalid('invariant', 'Patient.maritalStatus')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{}] })).toEqual([invalid('invariant', 'Patient.name[0]')]);
    expect(issuesOf({ resourceType: 'Patient', gender: '' })).toEqual([invalid('value', 'Patient.gender')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{ given: ['Ann', ''] }] })).toEqual([invalid('value', 'Patient.name[0].given[1]')]);
    expect(issuesOf({ resourceType: 'Patient', name: [{ text: ' \t\r\n ' }] })).toEqual([invalid('value', 'Patient.name[0].text')]);
    expect(issuesOf({ resourceType: 'Patient', _birthDate: {} })).toEqual([invalid('invariant', 'Patient.birthDate')]);
  });

  it('reports missing required elements at their own path', () => {
    expect(issuesOf({ resourceType: 'Observation', code: { text: 'x' } })).toEqual([invalid('required', 'Observation.status')]);
    expect(issuesOf({ resourceType: 'Observation', status: 'final' })).toEqual([invalid('required', 'Observation.code')]);
    expect(issuesOf({ resourceType: 'Observation' })).toEqual([invalid('required', 'Observation.status'), invalid('required', 'Observation.code')]);
    expect(issuesOf({ resourceType: 'Bundle' })).toEqual([invalid('required', 'Bundle.type')]);
    expect(issuesOf({ resourceType: 'Patient', extension: [{ valueString: 'x' }] })).toEqual([invalid('required', 'Patient.extension[0].url')]);
    expect(issuesOf({ resourceType: 'Patient', text: { status: 'generated' } })).toEqual([invalid('required', 'Patient.text.div')]);
    expect(issuesOf({ resourceType: 'Patient', contact: [{ relationship: [{ text: 'x' }] }], link: [{ type: 'seealso' }] })).toEqual([
      invalid('required', 'Patient.link[0].other'),
    ]);
  });

  it('reports a missing required choice element as name[x]', () => {
    const request = { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' } };
    expect(issuesOf(request)).toEqual([invalid('required', 'MedicationRequest.medication[x]')]);
    expect(issuesOf({ ...request, medicationCodeableConcept: { text: 'aspirin' } })).toEqual([]);
  });

  it('counts an element given only by its _element sibling as present', () => {
    const absent = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
    expect(issuesOf({ resourceType: 'Observation', _status: absent, code: { text: 'x' } })).toEqual([]);
  });

  it('reports elements prohibited by a profile (SimpleQuantity: no comparator)', () => {
    const request = {
      resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' },
      medicationCodeableConcept: { text: 'x' }, dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 1, comparator: '<' } }] }],
    };
    expect(issuesOf(request)).toEqual([invalid('invariant', 'MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.comparator')]);
    expect(issuesOf({ ...observation, valueQuantity: { value: 1, comparator: '<' } })).toEqual([]);
  });

  describe('choice elements', () => {
    it('accepts one variant, with its _element sibling', () => {
      expect(issuesOf({ ...observation, valueString: 'high', _valueString: { id: 'v' } })).toEqual([]);
      expect(issuesOf({ ...observation, effectiveInstant: '2020-01-01T00:00:00Z' })).toEqual([]);
    });

    it('reports two variants at once at the second one', () => {
      expect(issuesOf({ ...observation, valueString: 'high', valueBoolean: true })).toEqual([invalid('structure', 'Observation.valueBoolean')]);
      expect(issuesOf({ ...observation, _valueString: { id: 'v' }, valueInteger: 1 })).toEqual([invalid('structure', 'Observation.valueInteger')]);
      expect(issuesOf({ resourceType: 'Patient', deceasedBoolean: false, deceasedDateTime: '2020' })).toEqual([invalid('structure', 'Patient.deceasedDateTime')]);
    });

    it('reports a type the choice does not allow as an unknown element', () => {
      expect(issuesOf({ resourceType: 'Patient', deceasedString: 'yes' })).toEqual([structure('Patient.deceasedString')]);
      expect(issuesOf({ ...observation, valueFoo: 1 })).toEqual([structure('Observation.valueFoo')]);
      expect(issuesOf({ ...observation, valuestring: 'x' })).toEqual([structure('Observation.valuestring')]);
      expect(issuesOf({ ...observation, 'value[x]': 'x' })).toEqual([structure('Observation')]);
    });

    it('opens Extension.value[x] to every R4 type', () => {
      expect(issuesOf(withExtension({ valueMeta: { versionId: '1' } }))).toEqual([]);
      expect(issuesOf(withExtension({ valueDosage: { text: 'once' } }))).toEqual([]);
      expect(issuesOf(withExtension({ valueUsageContext: { code: { code: 'x' }, valueCodeableConcept: { text: 'y' } } }))).toEqual([]);
      expect(issuesOf(withExtension({ valueNarrative: { status: 'generated' } }))).toEqual([structure('Patient.extension[0].valueNarrative')]);
    });
  });

  describe('primitive formats', () => {
    const cases: readonly (readonly [string, unknown, string, readonly unknown[], readonly unknown[]])[] = [
      ['date', 'valueDate', 'Patient.extension[0].valueDate', ['2020', '2020-02', '2024-02-29', '0001-01-01'], ['2020-13-01', '2023-02-29', '2020-04-31', '20200101', '2020-1-1', '0000', '2020-01-01T00:00:00Z', ' 2020']],
      ['dateTime', 'effectiveDateTime', 'Observation.effectiveDateTime', ['2020', '2020-01-01T10:00:00Z', '2020-01-01T10:00:00.123+05:30', '2016-12-31T23:59:60Z'], ['2020-01-01T10:00', '2020-01-01T10:00:00', '2020-01-01T24:00:00Z', '2020-02-30T10:00:00Z', '2020-01-01 10:00:00Z', '2020-01-01T10:00:00+15:00']],
      ['instant', 'issued', 'Observation.issued', ['2020-01-01T10:00:00Z', '2020-01-01T10:00:00.5-03:00'], ['2020-01-01', '2020-01-01T10:00:00', '2021-02-29T00:00:00Z']],
      ['time', 'valueTime', 'Observation.valueTime', ['00:00:00', '23:59:59.999'], ['24:00:00', '10:00', '1:00:00']],
      ['id', 'id', 'Observation.id', ['a', 'A-1.b', 'x'.repeat(64)], ['', 'a_b', 'a b', 'x'.repeat(65), 'é']],
      ['uri', 'implicitRules', 'Observation.implicitRules', ['urn:x', 'http://example.org/a?b=c'], ['', 'has space', 'tab\there']],
      // The R4 regex [^\s]+(\s[^\s]+)* allows one whitespace character of any kind between words.
      // Resource.language (preferred binding) is not enum-checked: only the format applies.
      ['code', 'language', 'Observation.language', ['en', 'a b', 'a\tb'], ['', ' en', 'en ', 'a  b', 'a \tb']],
      ['string', 'valueString', 'Observation.valueString', ['x', ' padded ', 'line\nbreak\ttab', 'non\u00a0breaking'], ['', '   ', 'bell\u0007', 'nul\u0000', 'vt\u000b']],
      ['integer', 'valueInteger', 'Observation.valueInteger', [0, -2147483648, 2147483647], [2147483648, -2147483649, 1.5, Number.NaN]],
      ['decimal', 'valueQuantity', 'Observation.valueQuantity.value', [0, -1.5, 1e300], [Number.NaN, Number.POSITIVE_INFINITY]],
      ['boolean', 'valueBoolean', 'Observation.valueBoolean', [true, false], []],
    ];
    for (const [type, name, expression, valid, invalidValues] of cases) {
      it(`checks ${type}`, () => {
        const make = (value: unknown): unknown =>
          type === 'decimal'
            ? { ...observation, valueQuantity: { value } }
            : type === 'date'
              ? withExtension({ valueDate: value })
              : { ...observation, [name as string]: value };
        for (const value of valid) expect(issuesOf(make(value)), `${type} ${JSON.stringify(value)}`).toEqual([]);
        for (const value of invalidValues) expect(issuesOf(make(value)), `${type} ${JSON.stringify(value)}`).toEqual([invalid('value', expression)]);
      });
    }

    it('checks the remaining primitive types inside extensions', () => {
      const at = 'Patient.extension[0]';
      const check = (name: string, valid: readonly unknown[], bad: readonly unknown[]): void => {
        for (const value of valid) expect(issuesOf(withExtension({ [name]: value })), `${name} ${String(value)}`).toEqual([]);
        for (const value of bad) expect(issuesOf(withExtension({ [name]: value })), `${name} ${String(value)}`).toEqual([invalid('value', `${at}.${name}`)]);
      };
      check('valuePositiveInt', [1, 2147483647], [0, -1, 2147483648, 1.5]);
      check('valueUnsignedInt', [0, 2147483647], [-1, 2147483648, 0.5]);
      check('valueOid', ['urn:oid:1.2.840.10008'], ['1.2.3', 'urn:oid:1.02', 'urn:oid:3.1']);
      check('valueUuid', ['urn:uuid:c757873d-ec9a-4326-a141-556f43239520'], ['c757873d-ec9a-4326-a141-556f43239520', 'urn:uuid:C757873D-EC9A-4326-A141-556F43239520']);
      check('valueBase64Binary', ['SGVsbG8=', 'SGVs bG8h', 'SGVs\r\nbG8h\n', 'AA=='], ['SGVsbG8', 'SGV sbG8=', 'S=VsbG8=', 'AA==AAAA', 'SGVsbG8*', '====']);
      check('valueCanonical', ['http://hl7.org/fhir/ValueSet/x|4.0.1'], ['a b']);
      check('valueUrl', ['https://example.org'], [' ']);
      check('valueMarkdown', ['**bold**'], [' \n ']);
    });

    it('limits strings to 1 MiB (too-long)', () => {
      expect(issuesOf({ ...observation, valueString: 'x'.repeat(1024 * 1024) })).toEqual([]);
      expect(issuesOf({ ...observation, valueString: 'x'.repeat(1024 * 1024 + 1) })).toEqual([invalid('too-long', 'Observation.valueString')]);
    });

    it('never echoes the offending value in diagnostics', () => {
      const secret = 'Jane-Doe-1970';
      const issues = validateResource({ resourceType: 'Patient', birthDate: secret, gender: `${secret} `, active: secret, name: [{ given: [secret], text: [secret] }] });
      expect(issues).toHaveLength(4);
      for (const issue of issues) expect(JSON.stringify(issue)).not.toContain(secret);
    });
  });
});
