/**
 * Spot checks of index extraction against values read by hand from the official examples,
 * Synthea data and small hand-made resources (FHIR R4 search.html §3.1.1.4).
 */
import { describe, expect, it } from 'vitest';
import type { FhirResource } from '../../../src/fhir/resource.js';
import { RANGE_MAX, RANGE_MIN, SearchParamRegistry, createIndexer, type IndexRows } from '../../../src/fhir/search/index.js';
import { officialExamples, synthea1000Patients, syntheaDemo, syntheaHivResources } from './fixtures.js';

const registry = SearchParamRegistry.loadR4();
const BASE = 'https://vault.example/fhir';
const indexer = createIndexer(registry, { baseUrl: BASE });
const examples = new Map(officialExamples().map((e) => [e.file, e.resource]));

function example(file: string): FhirResource {
  const r = examples.get(file);
  if (r === undefined) throw new Error(`no example ${file}`);
  return r;
}

/** The rows of one parameter in one table, without the param name. */
function rowsOf<T extends keyof IndexRows>(rows: IndexRows, table: T, param: string): Omit<IndexRows[T][number], 'param'>[] {
  return (rows[table] as { param: string }[]).filter((r) => r.param === param).map(({ param: _param, ...rest }) => rest) as Omit<IndexRows[T][number], 'param'>[];
}

const day = (iso: string): { lo: number; hi: number } => ({ lo: Date.parse(`${iso}T00:00:00.000Z`), hi: Date.parse(`${iso}T23:59:59.999Z`) });

describe('Patient (official patient-example.json)', () => {
  const rows = indexer.extract(example('Patient-example.json'));

  it('indexes names: family, given, and name over all parts (string, normalised + exact)', () => {
    expect(rowsOf(rows, 'string', 'family')).toEqual([
      { grp: 0, value: 'chalmers', exact: 'Chalmers' },
      { grp: 0, value: 'windsor', exact: 'Windsor' },
    ]);
    expect(rowsOf(rows, 'string', 'given').map((r) => r.exact)).toEqual(['Peter', 'James', 'Jim']);
    expect(rowsOf(rows, 'string', 'name').map((r) => r.exact)).toEqual(['Chalmers', 'Peter', 'James', 'Jim', 'Windsor']);
  });

  it('indexes birthdate as the whole day, gender and identifier as tokens', () => {
    expect(rowsOf(rows, 'date', 'birthdate')).toEqual([{ grp: 0, ...day('1974-12-25') }]);
    expect(rowsOf(rows, 'token', 'gender')).toEqual([{ grp: 0, system: null, code: 'male', text: null }]);
    expect(rowsOf(rows, 'token', 'identifier')).toEqual([{ grp: 0, system: 'urn:oid:1.2.36.146.595.217.0.1', code: '12345', text: null }]);
  });

  it('indexes the address parts and the address text', () => {
    expect(rowsOf(rows, 'string', 'address-state')).toEqual([{ grp: 0, value: 'vic', exact: 'Vic' }]);
    expect(rowsOf(rows, 'string', 'address-city')).toEqual([{ grp: 0, value: 'pleasantville', exact: 'PleasantVille' }]);
    expect(rowsOf(rows, 'string', 'address').map((r) => r.value)).toContain('534 erewhon st peasantville, rainbow, vic 3999');
  });

  it('indexes phone numbers (ContactPoint value) and the managing organization', () => {
    expect(rowsOf(rows, 'token', 'phone').map((r) => r.code)).toEqual(['(03) 5555 6473', '(03) 3410 5613', '(03) 5555 8834']);
    expect(rowsOf(rows, 'token', 'email')).toEqual([]);
    expect(rowsOf(rows, 'reference', 'organization')).toEqual([
      { grp: 0, targetType: 'Organization', targetId: '1', url: null, identifierSystem: null, identifierValue: null },
    ]);
  });

  it('indexes deceased as false when absent (Patient.deceased.exists() and Patient.deceased != false)', () => {
    expect(rowsOf(rows, 'token', 'deceased')).toEqual([{ grp: 0, system: null, code: 'false', text: null }]);
    expect(rowsOf(rows, 'token', 'active')).toEqual([{ grp: 0, system: null, code: 'true', text: null }]);
  });
});

describe('Synthea patients', () => {
  const patients = synthea1000Patients();

  it('indexes deceased and death-date for the 144 deceased patients', () => {
    const deceased = patients.filter((p) => indexer.extract(p).token.some((r) => r.param === 'deceased' && r.code === 'true'));
    expect(deceased).toHaveLength(144);
    const p = patients.find((x) => x.id === '008dd9b2-f541-d09f-1f67-cd741ece2254')!;
    const rows = indexer.extract(p);
    // deceasedDateTime 1978-01-01T16:42:19-05:00: the whole second, in UTC.
    expect(rowsOf(rows, 'date', 'death-date')).toEqual([{ grp: 0, lo: Date.parse('1978-01-01T21:42:19.000Z'), hi: Date.parse('1978-01-01T21:42:19.999Z') }]);
    expect(rowsOf(rows, 'date', 'birthdate')).toEqual([{ grp: 0, ...day('1925-06-26') }]);
    expect(rowsOf(rows, 'string', 'family').map((r) => r.exact)).toEqual(['Koch169', 'Jenkins714']);
    expect(rowsOf(rows, 'string', 'address-state')).toEqual([{ grp: 0, value: 'ks', exact: 'KS' }]);
    expect(rowsOf(rows, 'token', 'identifier')).toContainEqual({ grp: 0, system: 'http://hl7.org/fhir/sid/us-ssn', code: '999-77-2159', text: 'social security number' });
    expect(rowsOf(rows, 'token', 'telecom')).toEqual([{ grp: 0, system: null, code: '555-162-4456', text: null }]);
    expect(rowsOf(rows, 'uri', '_profile')).toEqual([{ grp: 0, value: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient' }]);
  });

  it('indexes every Synthea resource without fallback and with rows for its key parameters', () => {
    for (const r of syntheaDemo()) {
      const rows = indexer.extract(r);
      if (r.resourceType === 'Encounter' || r.resourceType === 'Condition' || r.resourceType === 'Procedure') {
        expect(rows.reference.some((x) => x.param === 'patient' && x.targetType === 'Patient'), `${r.resourceType}/${r.id}`).toBe(true);
      }
    }
    expect(indexer.fallbacks()).toEqual([]);
  });
});

describe('Encounter and Condition references (Synthea demo)', () => {
  const demo = syntheaDemo();

  it('indexes Encounter.subject, the period and leaves conditional references out', () => {
    const enc = demo.find((r) => r.id === '00c7f717-4030-5582-2ed8-888ad2bc878e')!;
    const rows = indexer.extract(enc);
    const patient = { grp: 0, targetType: 'Patient', targetId: '79a66c97-6131-3213-f3c9-4606946ab056', url: null, identifierSystem: null, identifierValue: null };
    expect(rowsOf(rows, 'reference', 'subject')).toEqual([patient]);
    expect(rowsOf(rows, 'reference', 'patient')).toEqual([patient]);
    // period 1989-10-04T02:25:16-04:00 .. 06:20:16-04:00
    expect(rowsOf(rows, 'date', 'date')).toEqual([{ grp: 0, lo: Date.parse('1989-10-04T06:25:16.000Z'), hi: Date.parse('1989-10-04T10:20:16.999Z') }]);
    // `Practitioner?identifier=…` is a conditional reference, not a literal one.
    expect(rowsOf(rows, 'reference', 'participant')).toEqual([]);
    expect(rowsOf(rows, 'token', 'reason-code')).toEqual([{ grp: 0, system: 'http://snomed.info/sct', code: '46177005', text: 'end-stage renal disease (disorder)' }]);
  });

  it('indexes Condition.subject and encounter', () => {
    const cond = demo.find((r) => r.resourceType === 'Condition')!;
    const rows = indexer.extract(cond);
    const subject = (cond['subject'] as { reference: string }).reference.split('/');
    expect(rowsOf(rows, 'reference', 'subject')).toEqual([{ grp: 0, targetType: subject[0], targetId: subject[1], url: null, identifierSystem: null, identifierValue: null }]);
    const encounter = (cond['encounter'] as { reference: string }).reference.split('/');
    expect(rowsOf(rows, 'reference', 'encounter')).toEqual([{ grp: 0, targetType: encounter[0], targetId: encounter[1], url: null, identifierSystem: null, identifierValue: null }]);
  });

  it('indexes urn:uuid references as urls (a transaction rewrites them before they are stored)', () => {
    const obs = syntheaHivResources().find((r) => r.id === '9f364735-66c5-26b3-aaca-1e23bc9ca34d')!;
    const rows = indexer.extract(obs);
    expect(rowsOf(rows, 'reference', 'subject')).toEqual([{ grp: 0, targetType: null, targetId: null, url: 'urn:uuid:742fc10a-c565-f636-3c05-5dcd28672194', identifierSystem: null, identifierValue: null }]);
    expect(rowsOf(rows, 'reference', 'patient')).toEqual([]); // resolve() is Patient: the urn names no type
    expect(rowsOf(rows, 'quantity', 'value-quantity')).toEqual([{ grp: 0, system: 'http://unitsofmeasure.org', code: 'kg', unit: 'kg', lo: 64.75, hi: 64.75 }]);
    expect(rowsOf(rows, 'date', 'date')).toEqual([{ grp: 0, lo: Date.parse('2016-09-13T06:53:25.000Z'), hi: Date.parse('2016-09-13T06:53:25.999Z') }]);
  });
});

describe('Observation (official Observation-blood-pressure.json)', () => {
  const rows = indexer.extract(example('Observation-blood-pressure.json'));

  it('indexes code, date, subject and patient', () => {
    expect(rowsOf(rows, 'token', 'code')).toContainEqual({ grp: 0, system: 'http://loinc.org', code: '85354-9', text: 'blood pressure panel with all children optional' });
    expect(rowsOf(rows, 'date', 'date')).toEqual([{ grp: 0, ...day('2012-09-17') }]);
    expect(rowsOf(rows, 'reference', 'patient')).toEqual([{ grp: 0, targetType: 'Patient', targetId: 'example', url: null, identifierSystem: null, identifierValue: null }]);
    expect(rowsOf(rows, 'reference', 'based-on')).toEqual([{ grp: 0, targetType: null, targetId: null, url: null, identifierSystem: 'https://acme.org/identifiers', identifierValue: '1234' }]);
  });

  it('indexes component-code-value-quantity as one group per component', () => {
    expect(rowsOf(rows, 'token', 'component-code-value-quantity$0').filter((r) => r.system === 'http://loinc.org')).toEqual([
      { grp: 1, system: 'http://loinc.org', code: '8480-6', text: 'systolic blood pressure' },
      { grp: 2, system: 'http://loinc.org', code: '8462-4', text: 'diastolic blood pressure' },
    ]);
    expect(rowsOf(rows, 'quantity', 'component-code-value-quantity$1')).toEqual([
      { grp: 1, system: 'http://unitsofmeasure.org', code: 'mm[Hg]', unit: 'mmHg', lo: 107, hi: 107 },
      { grp: 2, system: 'http://unitsofmeasure.org', code: 'mm[Hg]', unit: 'mmHg', lo: 60, hi: 60 },
    ]);
    // The panel itself has no value: no code-value-quantity group for it.
    expect(rowsOf(rows, 'token', 'code-value-quantity$0')).toEqual([]);
    expect(rowsOf(rows, 'quantity', 'component-value-quantity').map((r) => r.lo)).toEqual([107, 60]);
  });
});

describe('Period and Timing dates', () => {
  it('indexes a Timing by its repeat.boundsPeriod (official CarePlan-preg.json)', () => {
    const rows = indexer.extract(example('CarePlan-preg.json'));
    expect(rowsOf(rows, 'date', 'activity-date')).toContainEqual({ grp: 0, lo: day('2013-02-14').lo, hi: day('2013-02-28').hi });
  });

  it('indexes a Timing from its earliest to its latest event, and open Periods to RANGE_MIN/MAX', () => {
    const rows = indexer.extract({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: 'Patient/p1' },
      occurrenceTiming: { event: ['2021-03-05T10:00:00Z', '2021-01', '2021-02-10'] },
    });
    expect(rowsOf(rows, 'date', 'occurrence')).toEqual([{ grp: 0, lo: Date.parse('2021-01-01T00:00:00.000Z'), hi: Date.parse('2021-03-05T10:00:00.999Z') }]);
    const open = indexer.extract({ resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, period: { start: '2020-05-01' } });
    expect(rowsOf(open, 'date', 'date')).toEqual([{ grp: 0, lo: day('2020-05-01').lo, hi: RANGE_MAX }]);
    const ended = indexer.extract({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period: { end: '2020-05-01' } });
    expect(rowsOf(ended, 'date', 'date')).toEqual([{ grp: 0, lo: RANGE_MIN, hi: day('2020-05-01').hi }]);
  });
});

describe('references, canonicals and uris', () => {
  it('makes absolute references under our base local, drops versions, skips contained references', () => {
    const rows = indexer.extract({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `${BASE}/Patient/p1/_history/3` },
      performer: [{ reference: 'Practitioner/d1/_history/2' }, { reference: 'http://other.example/fhir/Practitioner/d2/_history/1' }, { reference: '#c1' }],
      contained: [{ resourceType: 'Practitioner', id: 'c1' }],
    } as FhirResource);
    expect(rowsOf(rows, 'reference', 'subject').map((r) => [r.targetType, r.targetId, r.url])).toEqual([['Patient', 'p1', null]]);
    expect(rowsOf(rows, 'reference', 'patient').map((r) => [r.targetType, r.targetId])).toEqual([['Patient', 'p1']]);
    expect(rowsOf(rows, 'reference', 'performer').map((r) => [r.targetType, r.targetId, r.url])).toEqual([
      ['Practitioner', 'd1', null],
      [null, null, 'http://other.example/fhir/Practitioner/d2'],
    ]);
  });

  it('indexes canonicals as urls without their version, and uri rows with and without it', () => {
    const rows = indexer.extract({
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/p1' },
      instantiatesCanonical: ['http://example.org/PlanDefinition/pd|1.2'],
      meta: { profile: ['http://example.org/StructureDefinition/cp|2.0'], tag: [{ system: 'http://t', code: 'a', display: 'Tag A' }], source: 'http://src#1' },
    });
    expect(rowsOf(rows, 'reference', 'instantiates-canonical').map((r) => r.url)).toEqual(['http://example.org/PlanDefinition/pd']);
    expect(rowsOf(rows, 'uri', '_profile').map((r) => r.value)).toEqual(['http://example.org/StructureDefinition/cp|2.0', 'http://example.org/StructureDefinition/cp']);
    expect(rowsOf(rows, 'token', '_tag')).toEqual([{ grp: 0, system: 'http://t', code: 'a', text: 'tag a' }]);
    expect(rowsOf(rows, 'uri', '_source')).toEqual([{ grp: 0, value: 'http://src#1' }]);
  });

  it('indexes the official CapabilityStatement profile canonicals and url', () => {
    const rows = indexer.extract(example('CapabilityStatement-base.json'));
    expect(rowsOf(rows, 'reference', 'resource-profile').map((r) => r.url)).toContain('http://hl7.org/fhir/StructureDefinition/Patient');
    expect(rowsOf(rows, 'uri', 'url')).toEqual([{ grp: 0, value: 'http://hl7.org/fhir/CapabilityStatement/base' }]);
  });
});

describe('quantities and numbers', () => {
  it('indexes Money, Range, comparators and Age', () => {
    const ci = indexer.extract({ resourceType: 'ChargeItem', status: 'billable', code: { text: 'x' }, subject: { reference: 'Patient/p' }, priceOverride: { value: 40, currency: 'EUR' }, quantity: { value: 2 } });
    expect(rowsOf(ci, 'quantity', 'price-override')).toEqual([{ grp: 0, system: 'urn:iso:std:iso:4217', code: 'EUR', unit: null, lo: 40, hi: 40 }]);
    expect(rowsOf(ci, 'quantity', 'quantity')).toEqual([{ grp: 0, system: null, code: null, unit: null, lo: 2, hi: 2 }]);
    const obs = indexer.extract({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 5, comparator: '<', code: 'mg' } } as FhirResource);
    expect(rowsOf(obs, 'quantity', 'value-quantity')).toEqual([{ grp: 0, system: null, code: 'mg', unit: null, lo: RANGE_MIN, hi: 5 }]);
    const ra = indexer.extract({ resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/p' }, prediction: [{ probabilityRange: { low: { value: 0.1 }, high: { value: 0.2 } } }, { probabilityDecimal: 0.5 }] });
    expect(rowsOf(ra, 'number', 'probability')).toEqual([
      { grp: 0, lo: 0.1, hi: 0.2 },
      { grp: 0, lo: 0.5, hi: 0.5 },
    ]);
    const cond = indexer.extract({ resourceType: 'Condition', subject: { reference: 'Patient/p' }, onsetAge: { value: 52, unit: 'yr', system: 'http://unitsofmeasure.org', code: 'a' } });
    expect(rowsOf(cond, 'quantity', 'onset-age')).toEqual([{ grp: 0, system: 'http://unitsofmeasure.org', code: 'a', unit: 'yr', lo: 52, hi: 52 }]);
  });
});

describe('robustness', () => {
  it('deduplicates rows per (param, grp, values)', () => {
    const rows = indexer.extract({ resourceType: 'Patient', name: [{ family: 'Doe', given: ['Ann', 'Ann'] }, { family: 'Doe' }] });
    expect(rowsOf(rows, 'string', 'family')).toEqual([{ grp: 0, value: 'doe', exact: 'Doe' }]);
    expect(rowsOf(rows, 'string', 'given')).toEqual([{ grp: 0, value: 'ann', exact: 'Ann' }]);
    const many = indexer.extract({ resourceType: 'Patient', identifier: Array.from({ length: 200 }, (_, i) => ({ system: 's', value: String(i % 50) })) });
    expect(rowsOf(many, 'token', 'identifier')).toHaveLength(50);
  });

  it('keeps the first 1,024 characters of a string for default and :contains search, and the whole for :exact', () => {
    const long = `${'Ab'.repeat(1_000)}Z`;
    const [row] = rowsOf(indexer.extract({ resourceType: 'Organization', name: long } as FhirResource), 'string', 'name');
    expect(row).toEqual({ grp: 0, value: 'ab'.repeat(512), exact: long });
  });

  it('skips values it cannot index instead of failing', () => {
    const rows = indexer.extract({ resourceType: 'Patient', birthDate: '1974-13-45', name: [{ family: 42, given: [null, 'Bo'] }], gender: { bad: true }, telecom: 'x' } as unknown as FhirResource);
    expect(rowsOf(rows, 'date', 'birthdate')).toEqual([]);
    expect(rowsOf(rows, 'string', 'given').map((r) => r.exact)).toEqual(['Bo']);
    expect(indexer.extract({ resourceType: 'NoSuchType' } as FhirResource)).toEqual({ string: [], token: [], reference: [], date: [], number: [], quantity: [], uri: [] });
  });

  it('refuses a resource with more rows than maxRows, simple or composite, and takes every official example under the default', () => {
    const rowCount = (rows: IndexRows): number => Object.values(rows).reduce((n, t) => n + t.length, 0);
    const capped = createIndexer(registry, { baseUrl: BASE, maxRows: 50 });
    // 20 names of a family and a given name: family, given, name and phonetic rows, more than 50.
    const patient = { resourceType: 'Patient', name: Array.from({ length: 20 }, (_, i) => ({ family: `F${i}`, given: [`G${i}`] })) } as FhirResource;
    expect(rowCount(indexer.extract(patient))).toBeGreaterThan(50);
    expect(() => capped.extract(patient)).toThrow(expect.objectContaining({ code: 'resource-too-costly' }));
    expect(rowCount(capped.extract({ resourceType: 'Patient', name: [{ family: 'F', given: ['G'] }] }))).toBeLessThanOrEqual(50);
    // Composite rows count too (Observation code-value-quantity, one group per component).
    const observation = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, component: Array.from({ length: 30 }, (_, i) => ({ code: { coding: [{ system: 'urn:c', code: `c${i}` }] }, valueQuantity: { value: i, unit: 'mm' } })) } as FhirResource;
    expect(() => createIndexer(registry, { maxRows: 100 }).extract(observation)).toThrow(expect.objectContaining({ code: 'resource-too-costly' }));
    // The default limit of the vault (50,000) is far above any real resource: the largest official example has a few hundred rows.
    expect(Math.max(...[...examples.values()].map((r) => rowCount(indexer.extract(r))))).toBeLessThan(1000);
  });

  it('gives the same rows on every official example when every expression goes through the fhirpath library', { timeout: 120_000 }, () => {
    const slow = createIndexer(registry, { baseUrl: BASE, forceFallback: true });
    expect(slow.fallbacks()).toEqual([]);
    for (const [file, r] of examples) {
      expect(slow.extract(r), file).toEqual(indexer.extract(r));
    }
    expect(slow.fallbacks().length).toBeGreaterThan(1000);
  });
});
