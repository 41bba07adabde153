import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isCustodiaError } from '../../../src/kernel/index.js';
import { formatSearch, parseSearch, type SearchQuery } from '../../../src/fhir/search/index.js';
import { context, parse } from './search-test-context.js';

/** parse → format → parse: the second parse gives the first query back (without `ignored`), and formats the same. */
function expectFixpoint(types: readonly string[], params: [string, string][], handling: 'strict' | 'lenient' = 'lenient'): SearchQuery | undefined {
  let q1: SearchQuery;
  try {
    q1 = parseSearch(params, context(types, handling));
  } catch (e) {
    if (isCustodiaError(e)) return undefined;
    throw e;
  }
  const formatted = formatSearch(q1);
  const q2 = parseSearch(formatted, context(types, 'strict'));
  expect(q2).toEqual({ ...q1, ignored: [] });
  expect(formatSearch(q2)).toEqual(formatted);
  return q1;
}

describe('formatSearch', () => {
  it('writes the canonical form', () => {
    const q = parse(['Observation'], [
      ['code', 'http://loinc.org|8480-6,\\|x'],
      ['date', 'ge2020-03-04T10:00:00+02:00'],
      ['date', 'eq2020'],
      ['value-quantity', 'lt60.0|http://unitsofmeasure.org|mm[Hg]'],
      ['subject:Patient.name:exact', 'Péter'],
      ['subject', `https://vault.example/fhir/Patient/1`],
      ['_has:Provenance:target:agent', 'Practitioner/p1'],
      ['code-value-quantity', 'http://loinc.org|8480-6$1e2'],
      ['_sort', '-date'],
      ['_include', 'Observation:subject:Patient'],
      ['_count', '500'],
      ['_format', 'json'],
    ]);
    expect(formatSearch(q)).toEqual([
      ['_type', 'Observation'],
      ['code', 'http://loinc.org|8480-6,\\|x'],
      ['date', 'ge2020-03-04T08:00:00Z'],
      ['date', '2020'],
      ['value-quantity', 'lt60.0|http://unitsofmeasure.org|mm[Hg]'],
      ['subject:Patient.name:exact', 'Péter'],
      ['subject', 'Patient/1'],
      ['_has:Provenance:target:agent', 'Practitioner/p1'],
      ['code-value-quantity', 'http://loinc.org|8480-6$1e2'],
      ['_sort', '-date'],
      ['_count', '100'],
      ['_total', 'accurate'],
      ['_include', 'Observation:subject:Patient'],
    ]);
    expect(formatSearch(q, { omitTypes: true })[0]).toEqual(['code', 'http://loinc.org|8480-6,\\|x']);
  });

  it('keeps ap values as they were asked for', () => {
    const q = parse(['Patient'], 'birthdate=ap2015-01&_lastUpdated=ap2024-12-31T10:00Z');
    expect(formatSearch(q).slice(1, 3)).toEqual([
      ['birthdate', 'ap2015-01'],
      ['_lastUpdated', 'ap2024-12-31T10:00Z'],
    ]);
    expect(formatSearch(parse(['RiskAssessment'], 'probability=ap0.50'))[1]).toEqual(['probability', 'ap0.50']);
    expect(formatSearch(parse(['Observation'], 'value-quantity=ap5||mg'))[1]).toEqual(['value-quantity', 'ap5||mg']);
  });

  it('leaves out _type for a search over every type', () => {
    expect(formatSearch(parse([], '_id=1'))).toEqual([
      ['_id', '1'],
      ['_count', '20'],
      ['_total', 'accurate'],
    ]);
  });

  it.each([
    'family=Chalm%C3%A9rs&given:exact=Peter&name:contains=ete',
    'gender:not=male&identifier=http://x|1&identifier=|2&identifier=http://y|&_tag:text=Tag',
    'birthdate=lt2000&birthdate=ge1980-02&death-date=2020-01-01T10:00:05.12Z&_lastUpdated=sa2024',
    'general-practitioner:identifier=http://npi|9&organization=Organization/o1&link=123',
    'general-practitioner.identifier=a|b&_has:Observation:patient:code=1,2&_has:Observation:patient:_has:Provenance:target:agent=Practitioner/p',
    'address-state=KS&phone=555&email:missing=true&_profile:below=http://hl7.org/fhir/us&_sort=-birthdate,family,_id&_count=0&_total=none&_summary=count&_elements=name,gender',
    '_include=Patient:organization&_include:iterate=Organization:partof&_revinclude=Observation:patient&_revinclude:iterate=Provenance:target&_include=*',
  ])('is a fixpoint on %s', (query) => {
    expectFixpoint(['Patient'], [...new URLSearchParams(query)], 'strict');
  });

  it('is a fixpoint on composites, quantities and numbers', () => {
    expectFixpoint(['Observation'], [
      ['combo-code-value-quantity', 'http://loinc.org|8480-6$ge1.50e2|http://unitsofmeasure.org|mm[Hg],x$ap3'],
      ['component-code-value-concept', 'a$b|c'],
      ['code-value-date', 'c$ap2020-02'],
      ['value-quantity', '-0.000123||mg'],
    ]);
    expectFixpoint(['RiskAssessment'], [['probability', 'ne1e-40,0,100.00,123456789012345678']]);
    expectFixpoint(['MolecularSequence'], [['chromosome-variant-coordinate', '1$gt100$lt200']]);
  });
});

const dateText = fc
  .tuple(
    fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
    fc.constantFrom(4, 7, 10, 16, 19, 21, 22, 23),
    fc.constantFrom('', 'Z', '+02:00', '-05:30', '+14:00'),
  )
  .map(([d, length, tz]) => d.toISOString().slice(0, length) + (length > 10 ? tz : ''));
const prefix = fc.constantFrom('', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap');
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.tuple(fc.integer({ min: -99999, max: 99999 }), fc.nat({ max: 6 })).map(([n, places]) => (n / 10 ** places).toFixed(places)),
  fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: -30, max: 30 })).map(([m, e]) => `${m}e${e}`),
);
const anyText = fc.string({ unit: fc.constantFrom('a', 'B', 'é', ' ', ',', '|', '$', '\\', ':', '/', '.', '1', '-', 'Ⅻ', '\u0301'), maxLength: 12 });

/** One plausible (or not) search parameter, for Observation or Patient searches. */
const observationParam: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constantFrom('date', '_lastUpdated', 'code-value-date'), prefix, dateText).map(([n, p, d]): [string, string] => (n === 'code-value-date' ? [n, `x$${p}${d}`] : [n, p + d])),
  fc.tuple(fc.constantFrom('value-quantity', 'component-value-quantity'), prefix, numberText, fc.constantFrom('', '||mg', '|http://unitsofmeasure.org|kg', '|s|')).map(([n, p, v, u]): [string, string] => [n, p + v + u]),
  fc.tuple(fc.constantFrom('code', 'code:not', 'code:text', 'category', 'subject:identifier', '_tag', 'value-string:exact', 'value-string', 'value-string:contains'), anyText).map(([n, v]): [string, string] => [n, v]),
  fc.tuple(fc.constantFrom('subject', 'subject:Patient', 'patient', 'performer', 'encounter'), fc.constantFrom('Patient/1', '1', 'Group/g-2', 'https://vault.example/fhir/Patient/9', 'http://other/x', 'urn:uuid:1')).map(([n, v]): [string, string] => [n, v]),
  fc.tuple(fc.constantFrom('subject:Patient.name', 'patient.birthdate', 'subject._id', '_has:Provenance:target:agent', 'code-value-quantity'), fc.oneof(anyText, dateText, numberText.map((n) => `c$${n}`))).map(([n, v]): [string, string] => [n, v]),
  fc.tuple(fc.constantFrom('_sort', '_count', '_total', '_summary', '_elements', '_include', '_revinclude:iterate', 'subject:missing', 'nope', '_format'), fc.constantFrom('-date,code', '10', '0', 'estimate', 'data', 'status,code', 'Observation:subject', 'Provenance:target', 'true', 'false', 'x')).map(([n, v]): [string, string] => [n, v]),
);

describe('parse → format → parse (property)', () => {
  test.prop([fc.array(observationParam, { maxLength: 8 })], { numRuns: 500 })('is a fixpoint for Observation searches', (params) => {
    expectFixpoint(['Observation'], params);
  });

  test.prop([fc.array(fc.tuple(fc.constantFrom('family', 'given:exact', 'name:contains', 'birthdate', 'gender', 'identifier', 'general-practitioner.name', '_id'), fc.oneof(anyText, dateText)), { maxLength: 6 })], { numRuns: 300 })(
    'is a fixpoint for Patient searches',
    (params) => {
      expectFixpoint(['Patient'], params);
    },
  );
});
