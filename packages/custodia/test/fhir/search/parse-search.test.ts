import { describe, expect, it } from 'vitest';
import { isCustodiaError } from '../../../src/kernel/index.js';
import { RANGE_MAX, impliedRange, parseDecimal, type Condition } from '../../../src/fhir/search/index.js';
import { nextDown } from '../../../src/fhir/search/number-range.js';
import { BASE, NOW, errorCode, parse } from './search-test-context.js';

const first = (types: readonly string[], query: string | [string, string][]): Condition => parse(types, query).conditions[0]!;
const utc = (iso: string): number => Date.parse(iso);

describe('prefixes on dates, numbers and quantities (search.html §3.1.1.4.1.1)', () => {
  it.each(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'])('%s keeps the precision range of the value', (prefix) => {
    expect(first(['Patient'], `birthdate=${prefix}2020-03`)).toEqual({
      kind: 'date',
      param: 'birthdate',
      values: [{ prefix, range: { lo: utc('2020-03-01T00:00:00.000Z'), hi: utc('2020-03-31T23:59:59.999Z') } }],
    });
  });

  it('defaults to eq', () => {
    expect(first(['Patient'], 'birthdate=2020')).toMatchObject({ values: [{ prefix: 'eq', range: { lo: utc('2020-01-01T00:00:00Z'), hi: utc('2020-12-31T23:59:59.999Z') } }] });
  });

  it('widens ap dates by 10% of their distance to now', () => {
    const c = first(['Patient'], 'birthdate=ap2015-01-01') as Extract<Condition, { kind: 'date' }>;
    const day = { lo: utc('2015-01-01T00:00:00Z'), hi: utc('2015-01-01T23:59:59.999Z') };
    const gap = Math.floor(Math.abs(NOW - (day.lo + day.hi) / 2) / 10);
    expect(c.values[0]).toEqual({ prefix: 'ap', range: { lo: day.lo - gap, hi: day.hi + gap } });
    expect(gap).toBeGreaterThan(300 * 86_400_000); // about a year for a value ten years back
  });

  it('reads numbers with their implied precision and ap as ±10%', () => {
    expect(first(['RiskAssessment'], 'probability=gt0.5')).toEqual({ kind: 'number', param: 'probability', values: [{ prefix: 'gt', range: { lo: 0.45, hi: nextDown(0.55) } }] });
    expect(first(['RiskAssessment'], 'probability=ap100')).toEqual({ kind: 'number', param: 'probability', values: [{ prefix: 'ap', range: { lo: 90, hi: 110 } }] });
  });

  it('reads quantities with system and code, either, or none', () => {
    expect(first(['Observation'], 'value-quantity=lt60|http://unitsofmeasure.org|mm[Hg]')).toEqual({
      kind: 'quantity',
      param: 'value-quantity',
      values: [{ prefix: 'lt', range: impliedRange(parseDecimal('60')!), system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }],
    });
    expect(first(['Observation'], 'value-quantity=5.4||mg')).toMatchObject({ values: [{ prefix: 'eq', code: 'mg' }] });
    expect(first(['Observation'], 'value-quantity=5.4||mg')).not.toHaveProperty('values.0.system');
    expect(first(['Observation'], 'value-quantity=ge5.4')).toEqual({ kind: 'quantity', param: 'value-quantity', values: [{ prefix: 'ge', range: impliedRange(parseDecimal('5.4')!) }] });
  });

  it('rejects bad prefixes, dates and numbers as search-invalid in both modes', () => {
    for (const handling of ['strict', 'lenient'] as const) {
      expect(errorCode(() => parse(['Patient'], 'birthdate=xx2020', handling))).toBe('search-invalid');
      expect(errorCode(() => parse(['Patient'], 'birthdate=2020-13', handling))).toBe('search-invalid');
      expect(errorCode(() => parse(['RiskAssessment'], 'probability=lt1,2x', handling))).toBe('search-invalid');
      expect(errorCode(() => parse(['Observation'], 'value-quantity=5|mg', handling))).toBe('search-invalid');
    }
  });

  it('handles _lastUpdated and _id', () => {
    expect(first(['Patient'], '_lastUpdated=ge2024-06-01T10:00Z')).toEqual({
      kind: 'last-updated',
      values: [{ prefix: 'ge', range: { lo: utc('2024-06-01T10:00:00Z'), hi: utc('2024-06-01T10:00:59.999Z') } }],
    });
    expect(first(['Patient'], '_id=a1,b-2')).toEqual({ kind: 'id', values: ['a1', 'b-2'] });
    expect(errorCode(() => parse(['Patient'], '_id=a/b'))).toBe('search-invalid');
  });
});

describe('string, token and uri modifiers', () => {
  it('string: prefix (normalised), :exact (as sent), :contains', () => {
    expect(first(['Patient'], 'family=Chalmérs')).toEqual({ kind: 'string', param: 'family', match: 'prefix', values: ['chalmers'] });
    expect(first(['Patient'], 'family:exact=Chalmérs')).toEqual({ kind: 'string', param: 'family', match: 'exact', values: ['Chalmérs'] });
    expect(first(['Patient'], 'family:contains=ALM')).toEqual({ kind: 'string', param: 'family', match: 'contains', values: ['alm'] });
  });

  it('token: system|code forms, :not, :text', () => {
    expect(first(['Observation'], 'code=http://loinc.org|8480-6,|x,http://s|,y')).toEqual({
      kind: 'token',
      param: 'code',
      not: false,
      values: [{ system: 'http://loinc.org', code: '8480-6' }, { system: null, code: 'x' }, { system: 'http://s' }, { code: 'y' }],
    });
    expect(first(['Patient'], 'gender:not=male')).toEqual({ kind: 'token', param: 'gender', not: true, values: [{ code: 'male' }] });
    expect(first(['Observation'], 'code:text=Blood Préssure')).toEqual({ kind: 'token-text', param: 'code', values: ['blood pressure'] });
  });

  it('uri: equality, :above, :below', () => {
    expect(first(['ValueSet'], 'url=http://x/vs')).toEqual({ kind: 'uri', param: 'url', match: 'eq', values: ['http://x/vs'] });
    expect(first(['ValueSet'], 'url:below=http://x/')).toEqual({ kind: 'uri', param: 'url', match: 'below', values: ['http://x/'] });
    expect(first(['ValueSet'], 'url:above=http://x/a/b')).toMatchObject({ match: 'above' });
  });

  it(':missing on any type, with the table to look in', () => {
    expect(first(['Patient'], 'birthdate:missing=true')).toEqual({ kind: 'missing', param: 'birthdate', table: 'date', missing: true });
    expect(first(['Observation'], 'subject:missing=false')).toEqual({ kind: 'missing', param: 'subject', table: 'reference', missing: false });
    expect(first(['Observation'], 'component-code-value-quantity:missing=true')).toEqual({ kind: 'missing', param: 'component-code-value-quantity$0', table: 'token', missing: true });
    expect(errorCode(() => parse(['Patient'], 'birthdate:missing=maybe', 'lenient'))).toBe('search-invalid');
  });
});

describe('escaping (search.html "Escaping search parameters")', () => {
  it('keeps escaped commas, bars, dollars and backslashes as data', () => {
    expect(first(['Patient'], [['family', 'a\\,b,c']])).toMatchObject({ values: ['a,b', 'c'] });
    expect(first(['Observation'], [['code', 'http://s\\|x|c\\,d\\\\']])).toMatchObject({ values: [{ system: 'http://s|x', code: 'c,d\\' }] });
    expect(
      first(['Observation'], [['code-value-string', 'http://loinc.org|x$a\\$b']]),
    ).toMatchObject({ values: [[{ values: [{ system: 'http://loinc.org', code: 'x' }] }, { values: ['a$b'] }]] });
  });
});

describe('references (search.html §3.1.1.4.9)', () => {
  it('accepts Type/id, bare ids, versions, our own absolute URLs and other URLs', () => {
    expect(first(['Observation'], 'subject=Patient/123')).toEqual({ kind: 'reference', param: 'subject', values: [{ kind: 'local', types: ['Patient'], id: '123' }] });
    expect(first(['Observation'], 'subject=Patient/123/_history/4')).toMatchObject({ values: [{ kind: 'local', types: ['Patient'], id: '123' }] });
    expect(first(['Observation'], `subject=${BASE}/Patient/123`)).toMatchObject({ values: [{ kind: 'local', types: ['Patient'], id: '123' }] });
    expect(first(['Observation'], 'subject=http://other.example/fhir/Patient/123')).toMatchObject({ values: [{ kind: 'url', url: 'http://other.example/fhir/Patient/123' }] });
    const bare = first(['Observation'], 'subject=123') as Extract<Condition, { kind: 'reference' }>;
    expect(bare.values[0]).toMatchObject({ kind: 'local', id: '123' });
    expect((bare.values[0] as unknown as { types: string[] }).types).toContain('Patient');
    expect((bare.values[0] as unknown as { types: string[] }).types).toContain('Group');
  });

  it(':Type and :identifier', () => {
    expect(first(['Observation'], 'subject:Patient=123')).toEqual({ kind: 'reference', param: 'subject', values: [{ kind: 'local', types: ['Patient'], id: '123' }] });
    expect(first(['Observation'], 'subject:identifier=http://ids|42')).toEqual({ kind: 'reference-identifier', param: 'subject', values: [{ system: 'http://ids', code: '42' }] });
    expect(errorCode(() => parse(['Observation'], 'subject:Patient=Group/1'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Observation'], 'subject=Medication/1', 'lenient'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Observation'], 'subject:Medication=1'))).toBe('search-invalid');
  });

  it('strips the version of canonical references', () => {
    expect(first(['CarePlan'], 'instantiates-canonical=http://x/PlanDefinition/p|2')).toMatchObject({ values: [{ kind: 'url', url: 'http://x/PlanDefinition/p' }] });
  });
});

describe('chaining (§3.1.1.4.8.5) and _has (§3.1.1.4.9)', () => {
  it('chains with an explicit or inferred target type', () => {
    expect(first(['Observation'], 'subject:Patient.name=peter')).toEqual({
      kind: 'chain',
      param: 'subject',
      targetTypes: ['Patient'],
      condition: { kind: 'string', param: 'name', match: 'prefix', values: ['peter'] },
    });
    expect(first(['Patient'], 'general-practitioner.identifier=http://npi|1')).toEqual({
      kind: 'chain',
      param: 'general-practitioner',
      targetTypes: ['Organization', 'Practitioner', 'PractitionerRole'],
      condition: { kind: 'token', param: 'identifier', not: false, values: [{ system: 'http://npi', code: '1' }] },
    });
    const inferred = first(['Observation'], 'patient.birthdate=ge1980') as Extract<Condition, { kind: 'chain' }>;
    expect(inferred.targetTypes).toEqual(['Patient']);
    expect(first(['Encounter'], 'subject._id=p1')).toMatchObject({ kind: 'chain', condition: { kind: 'id', values: ['p1'] } });
  });

  it('rejects chains on non-references, ambiguous chains and chains deeper than one level', () => {
    expect(errorCode(() => parse(['Patient'], 'gender.name=x'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Observation'], 'subject.organization.name=x'))).toBe('search-unsupported');
    expect(parse(['Observation'], 'subject.organization.name=x', 'lenient').ignored).toEqual(['subject.organization.name']);
    expect(errorCode(() => parse(['Observation'], 'subject.nope=x'))).toBe('search-unsupported');
  });

  it('reverse-chains with _has, nested to depth 2', () => {
    expect(first(['Patient'], '_has:Observation:patient:code=1234-5')).toEqual({
      kind: 'has',
      sourceType: 'Observation',
      param: 'patient',
      condition: { kind: 'token', param: 'code', not: false, values: [{ code: '1234-5' }] },
    });
    expect(first(['Patient'], '_has:Observation:patient:_has:AuditEvent:entity:type=rest')).toMatchObject({
      kind: 'has',
      condition: { kind: 'has', sourceType: 'AuditEvent', param: 'entity', condition: { kind: 'token', param: 'type' } },
    });
    expect(errorCode(() => parse(['Patient'], '_has:Observation:patient:_has:Provenance:target:_has:AuditEvent:entity:type=x'))).toBe('search-unsupported');
    expect(errorCode(() => parse(['Patient'], '_has:Observation:code:code=1'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_has:Nope:patient:code=1'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_has:Observation'))).toBe('search-invalid');
  });
});

describe('composites (§3.1.1.4.12)', () => {
  it('parses each component by its type, under <code>$<i>', () => {
    expect(first(['Observation'], 'code-value-quantity=http://loinc.org|8480-6$lt60')).toEqual({
      kind: 'composite',
      param: 'code-value-quantity',
      values: [
        [
          { kind: 'token', param: 'code-value-quantity$0', not: false, values: [{ system: 'http://loinc.org', code: '8480-6' }] },
          { kind: 'quantity', param: 'code-value-quantity$1', values: [{ prefix: 'lt', range: impliedRange(parseDecimal('60')!) }] },
        ],
      ],
    });
    expect(first(['Observation'], 'code-value-date=x$ge2020')).toMatchObject({ values: [[{ kind: 'token' }, { kind: 'date', values: [{ prefix: 'ge' }] }]] });
  });

  it('rejects the wrong number of components', () => {
    expect(errorCode(() => parse(['Observation'], 'code-value-quantity=8480-6'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Observation'], 'code-value-quantity=a$1$2'))).toBe('search-invalid');
  });
});

describe('result parameters (§3.1.1.5)', () => {
  it('_count: default, clamped to maxCount, 0 allowed', () => {
    expect(parse(['Patient'], '').count).toBe(20);
    expect(parse(['Patient'], '_count=1000').count).toBe(100);
    expect(parse(['Patient'], '_count=0').count).toBe(0);
    expect(errorCode(() => parse(['Patient'], '_count=-1', 'lenient'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_count=1&_count=2'))).toBe('search-invalid');
  });

  it('_sort: several keys, descending, the table of each', () => {
    expect(parse(['Observation'], '_sort=-date,code,_lastUpdated,-_id').sort).toEqual([
      { param: 'date', table: 'date', descending: true },
      { param: 'code', table: 'token', descending: false },
      { param: '_lastUpdated', table: 'meta', descending: false },
      { param: '_id', table: 'meta', descending: true },
    ]);
    expect(errorCode(() => parse(['Observation'], '_sort=nope'))).toBe('search-unsupported');
    expect(parse(['Observation'], '_sort=nope,date', 'lenient')).toMatchObject({ sort: [{ param: 'date' }], ignored: ['_sort=nope'] });
    expect(errorCode(() => parse(['Observation'], '_sort=code-value-quantity'))).toBe('search-invalid');
  });

  it('_total, _summary, _elements', () => {
    expect(parse(['Patient'], '').total).toBe('accurate');
    expect(parse(['Patient'], '_total=estimate&_summary=count&_elements=name,birthDate')).toMatchObject({ total: 'estimate', summary: 'count', elements: ['name', 'birthDate'] });
    expect(errorCode(() => parse(['Patient'], '_total=all'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_summary=yes'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_elements=na me'))).toBe('search-invalid');
  });

  it('_include and _revinclude, with :iterate, target types and *', () => {
    const q = parse(['MedicationRequest'], '_include=MedicationRequest:patient&_include:iterate=Patient:general-practitioner:Practitioner&_revinclude=Provenance:target&_include=*');
    expect(q.include).toEqual([
      { sourceType: 'MedicationRequest', param: 'patient', iterate: false },
      { sourceType: 'Patient', param: 'general-practitioner', targetType: 'Practitioner', iterate: true },
      { sourceType: 'MedicationRequest', param: '*', iterate: false },
    ]);
    expect(q.revinclude).toEqual([{ sourceType: 'Provenance', param: 'target', iterate: false }]);
    expect(parse(['Patient'], '_include:recurse=Patient:link').include).toEqual([{ sourceType: 'Patient', param: 'link', iterate: true }]);
    expect(errorCode(() => parse(['Patient'], '_include=Observation:subject'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_include=Patient:gender'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_include=Patient:organization:Practitioner'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_revinclude=*'))).toBe('search-unsupported');
  });

  it('ignores _format and _pretty silently', () => {
    expect(parse(['Patient'], '_format=json&_pretty=true', 'strict')).toMatchObject({ conditions: [], ignored: [] });
  });
});

describe('system-level search and _type', () => {
  it('searches every type without _type, and only common parameters', () => {
    expect(parse([], '_id=1').types).toHaveLength(146);
    expect(errorCode(() => parse([], 'family=x'))).toBe('search-unsupported');
  });

  it('narrows to _type and allows the parameters the types share', () => {
    const q = parse([], '_type=Patient,Practitioner&family=chalmers&_sort=family');
    expect(q.types).toEqual(['Patient', 'Practitioner']);
    expect(q.conditions).toEqual([{ kind: 'string', param: 'family', match: 'prefix', values: ['chalmers'] }]);
    expect(errorCode(() => parse([], '_type=Patient,Observation&family=x'))).toBe('search-unsupported');
    expect(errorCode(() => parse([], '_type=Patient,Nope'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Patient'], '_type=Observation'))).toBe('search-invalid');
    expect(errorCode(() => parse(['Nope'], ''))).toBe('unknown-resource-type');
  });
});

describe('strict and lenient handling (§3.1.1.3)', () => {
  it.each([
    ['nope=1', 'search-unsupported', 'nope'],
    ['_text=x', 'search-unsupported', '_text'],
    ['_content=x', 'search-unsupported', '_content'],
    ['_filter=name eq x', 'search-unsupported', '_filter'],
    ['_list=l1', 'search-unsupported', '_list'],
    ['_query=q', 'search-unsupported', '_query'],
    ['_contained=true', 'search-unsupported', '_contained'],
    ['gender:in=http://vs', 'search-unsupported', 'gender:in'],
    ['gender:not-in=http://vs', 'search-unsupported', 'gender:not-in'],
    ['gender:below=x', 'search-unsupported', 'gender:below'],
    ['gender:above=x', 'search-unsupported', 'gender:above'],
    ['family:foo=x', 'search-invalid', 'family:foo'],
    ['gender:exact=x', 'search-invalid', 'gender:exact'],
    ['birthdate:contains=x', 'search-invalid', 'birthdate:contains'],
  ])('%s: strict throws %s naming the parameter, lenient ignores it', (query, code, name) => {
    try {
      parse(['Patient'], query, 'strict');
      expect.unreachable();
    } catch (e) {
      expect(isCustodiaError(e, code as 'search-invalid')).toBe(true);
      expect((e as { issues: { expression?: string[]; diagnostics: string }[] }).issues[0]?.expression).toEqual([name]);
    }
    expect(parse(['Patient'], `${query}&family=x`, 'lenient')).toMatchObject({ ignored: [name], conditions: [{ param: 'family' }] });
  });

  it('rejects near (special) as unsupported', () => {
    expect(errorCode(() => parse(['Location'], 'near=42|-71|10|km'))).toBe('search-unsupported');
  });

  it('ignores empty values', () => {
    expect(parse(['Patient'], 'family=&gender=,').conditions).toEqual([]);
  });

  it('ANDs repeated parameters and ORs comma-separated values', () => {
    const q = parse(['Patient'], 'given=a,b&given=c');
    expect(q.conditions).toEqual([
      { kind: 'string', param: 'given', match: 'prefix', values: ['a', 'b'] },
      { kind: 'string', param: 'given', match: 'prefix', values: ['c'] },
    ]);
  });

  it('uses RANGE_MAX bounds for very distant ap dates', () => {
    const c = first(['Patient'], 'birthdate=ap9999') as Extract<Condition, { kind: 'date' }>;
    expect(c.values[0]!.range.hi).toBeLessThanOrEqual(RANGE_MAX);
  });
});
