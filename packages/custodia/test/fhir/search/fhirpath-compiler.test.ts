import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/fhir/resource.js';
import { Collector, NotCompilable, compileFhirPath } from '../../../src/fhir/search/fhirpath-compiler.js';
import { FhirPathSyntaxError, parseFhirPath } from '../../../src/fhir/search/fhirpath-parser.js';
import { compileSearchExpression } from '../../../src/fhir/search/search-expression.js';
import { SearchParamRegistry } from '../../../src/fhir/search/index.js';

const registry = SearchParamRegistry.loadR4();
const isType = (t: string): boolean => registry.isResourceType(t);
const ctx = (resourceType: string) => ({ model: registry.model, resourceType, isType });

function select(expression: string, resource: JsonObject): [unknown, string][] {
  const c = new Collector();
  compileFhirPath(expression, ctx(resource['resourceType'] as string)).evaluate(resource, resource, c);
  return c.values.map((v, i) => [v, c.types[i]!]);
}

const patient: JsonObject = {
  resourceType: 'Patient',
  id: 'p1',
  name: [{ family: 'Doe', given: ['Ann', null, 'Bo'], _given: [null, { extension: [] }, null] }, { family: 'Roe' }],
  telecom: [{ system: 'phone', value: '1' }, { system: 'email', value: 'a@b' }],
  deceasedDateTime: '2020-01-01',
  generalPractitioner: [{ reference: 'Practitioner/d1' }, { reference: 'Organization/o1' }, { reference: '#c' }, { type: 'Practitioner', identifier: { value: 'x' } }],
  contained: [{ resourceType: 'Practitioner', id: 'c' }],
};

describe('parseFhirPath', () => {
  it('follows FHIRPath precedence: and < = < | < as/is < .', () => {
    expect(parseFhirPath('a.b | c as T')).toEqual({
      k: 'union',
      items: [
        { k: 'member', target: { k: 'ident', name: 'a' }, name: 'b' },
        { k: 'as', target: { k: 'ident', name: 'c' }, type: 'T' },
      ],
    });
    expect(parseFhirPath('x.exists() and x != false')).toMatchObject({ k: 'and', left: { k: 'call', name: 'exists' }, right: { k: 'cmp', op: '!=', right: { k: 'lit', value: false } } });
    expect(parseFhirPath("a.where(b='c\\'d')[0]")).toMatchObject({ k: 'index', index: 0, target: { k: 'call', name: 'where', args: [{ k: 'cmp', right: { k: 'lit', value: "c'd" } }] } });
  });

  it('rejects what it does not know', () => {
    expect(() => parseFhirPath('a + b')).toThrow(FhirPathSyntaxError);
    expect(() => parseFhirPath('a.b(')).toThrow(FhirPathSyntaxError);
  });
});

describe('compileFhirPath', () => {
  it('navigates paths, skipping nulls and extension-only primitives', () => {
    expect(select('Patient.name.given', patient)).toEqual([
      ['Ann', 'string'],
      ['Bo', 'string'],
    ]);
    expect(select('Patient.name.family | Resource.id', patient)).toEqual([
      ['Doe', 'string'],
      ['Roe', 'string'],
      ['p1', 'string'],
    ]);
  });

  it('expands choice elements and filters them by type', () => {
    expect(select('Patient.deceased', patient)).toEqual([['2020-01-01', 'dateTime']]);
    expect(select('(Patient.deceased as boolean)', patient)).toEqual([]);
    expect(select('Patient.deceased.ofType(dateTime)', patient)).toEqual([['2020-01-01', 'dateTime']]);
    const cond = { resourceType: 'Condition', onsetAge: { value: 3 } };
    expect(select('Condition.onset.as(Quantity)', cond)).toEqual([[{ value: 3 }, 'Age']]); // Age is a Quantity
  });

  it("filters with where(field = 'literal') and where(resolve() is T), offline", () => {
    expect(select("Patient.telecom.where(system='email')", patient)).toEqual([[{ system: 'email', value: 'a@b' }, 'ContactPoint']]);
    expect(select('Patient.generalPractitioner.where(resolve() is Practitioner)', patient).map(([v]) => v)).toEqual([
      { reference: 'Practitioner/d1' },
      { reference: '#c' },
      { type: 'Practitioner', identifier: { value: 'x' } },
    ]);
  });

  it('computes boolean expressions with FHIRPath three-valued logic', () => {
    const deceased = 'Patient.deceased.exists() and Patient.deceased != false';
    expect(select(deceased, patient)).toEqual([[true, 'boolean']]);
    expect(select(deceased, { resourceType: 'Patient', deceasedBoolean: false })).toEqual([[false, 'boolean']]);
    expect(select(deceased, { resourceType: 'Patient' })).toEqual([[false, 'boolean']]);
    expect(select(deceased, { resourceType: 'Patient', deceasedBoolean: true })).toEqual([[true, 'boolean']]);
  });

  it('indexes the whole collection and reads %resource', () => {
    const bundle = { resourceType: 'Bundle', type: 'document', entry: [{ resource: { resourceType: 'Composition', id: 'c1' } }, { resource: { resourceType: 'Patient' } }] };
    expect(select('Bundle.entry[0].resource', bundle)).toEqual([[{ resourceType: 'Composition', id: 'c1' }, 'Composition']]);
    const seq = { resourceType: 'MolecularSequence', referenceSeq: { chromosome: { text: '1' } }, variant: [{ start: 1 }] };
    const c = new Collector();
    compileFhirPath('%resource.referenceSeq.chromosome', ctx('MolecularSequence'), { type: 'BackboneElement', struct: 'MolecularSequence', path: 'variant' }).evaluate(seq.variant[0], seq, c);
    expect(c.values).toEqual([{ text: '1' }]);
  });

  it('refuses forms outside the subset, which then go to the fhirpath library', () => {
    expect(() => compileFhirPath('Patient.name.where(given.exists()).family', ctx('Patient'))).toThrow(NotCompilable);
    expect(() => compileFhirPath('Patient.nope', ctx('Patient'))).toThrow(NotCompilable);
    const accessor = compileSearchExpression('Patient.name.where(given.exists()).family', ctx('Patient'));
    expect(accessor.compiled).toBe(false);
    const c = new Collector();
    accessor.evaluate(patient, patient, c);
    expect(c.values).toEqual(['Doe']);
  });
});
