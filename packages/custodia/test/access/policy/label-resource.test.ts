/** Automatic security labelling: value sets, explicit labels, the Synthea sets, robustness (its speed is a bench figure, access.label). */
import { describe, expect, it } from 'vitest';
import { fixtureResources, officialExamples } from '../../helpers/fixture-files.js';
import {
  ACT_CODE_SYSTEM,
  CONFIDENTIALITY_SYSTEM,
  codingCategories,
  labelResource,
  type SecurityLabel,
} from '../../../src/access/policy/index.js';

type Json = Record<string, unknown>;
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';

const codes = (labels: readonly SecurityLabel[]) => labels.map((l) => l.code);
const condition = (system: string, code: string): Json => ({ resourceType: 'Condition', id: 'c', code: { coding: [{ system, code }] } });

/** The resources of Bundles (Synthea transaction Bundles), or the resource itself. */
function resourcesOf(folder: string): { source: string; resource: Json }[] {
  return fixtureResources(folder).flatMap(({ source, resource }) => {
    const r = resource as Json;
    if (r['resourceType'] !== 'Bundle') return [{ source, resource: r }];
    return ((r['entry'] as { resource: Json }[] | undefined) ?? []).map((e) => ({ source, resource: e.resource }));
  });
}

function displays(resource: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) {
      const d = (v as Json)['display'];
      if (typeof d === 'string' && typeof (v as Json)['code'] === 'string') out.push(d);
      Object.values(v).forEach(visit);
    }
  };
  visit(resource);
  return out;
}

describe('labelResource: value sets', () => {
  it.each([
    [ICD10CM, 'B20', ['HIV', 'R']],
    [ICD10, 'B24', ['HIV', 'R']],
    [ICD10CM, 'b20.1', ['HIV', 'R']],
    [ICD10CM, 'Z21', ['HIV', 'R']],
    [ICD10CM, 'O98.711', ['HIV', 'R']],
    [ICD10CM, 'F10.20', ['ETH', 'R']],
    [ICD10CM, 'F11.10', ['ETH', 'R']],
    [ICD10CM, 'F17.210', []],
    [ICD10CM, 'F32.9', ['PSY', 'R']],
    [ICD10CM, 'F41.1', ['PSY', 'R']],
    [ICD10CM, 'F03.90', []],
    [ICD10CM, 'F70', []],
    [ICD10CM, 'R45.851', ['PSY', 'R']],
    [ICD10CM, 'A54.9', ['SEX', 'STD', 'R']],
    [ICD10CM, 'O03.9', ['SEX', 'R']],
    [ICD10CM, 'Z30.011', ['SEX', 'R']],
    [ICD10CM, 'Z31.430', ['GDIS', 'SEX', 'R']],
    [ICD10CM, 'Z15.01', ['GDIS', 'R']],
    [ICD10, 'Q90.9', ['GDIS', 'R']],
    [ICD10CM, 'T74.11XA', ['SDV', 'R']],
    [ICD10CM, 'J45.909', []],
    [SNOMED, '86406008', ['HIV', 'R']],
    [SNOMED, '62479008', ['HIV', 'R']],
    [SNOMED, '165816005', ['HIV', 'R']],
    [SNOMED, '66590003', ['ETH', 'R']],
    [SNOMED, '35489007', ['PSY', 'R']],
    [SNOMED, '44054006', []],
    [LOINC, '20447-9', ['HIV', 'R']],
    [LOINC, '81247-9', ['GDIS', 'R']],
    [LOINC, '2345-7', []],
    ['http://www.nlm.nih.gov/research/umls/rxnorm', '11413', ['HIV', 'R']],
    // An ICD-10 code under SNOMED CT is not an ICD-10 code.
    [SNOMED, 'B20', []],
  ])('%s %s → %j', (system, code, expected) => {
    const labels = labelResource(condition(system, code));
    expect(codes(labels).sort()).toEqual([...expected].sort());
  });

  it('recognises CIEL concepts in their OpenMRS UUID form under any system, and nothing else of that shape', () => {
    expect(codingCategories(LOINC, '856AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toEqual(['HIV']);
    expect(codingCategories('urn:anything', '1040AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toEqual(['HIV']);
    expect(codingCategories(SNOMED, '657AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toEqual([]); // CD4 panel: not labelled
    expect(codingCategories(LOINC, '856AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toEqual([]); // 35 characters
    expect(codingCategories(LOINC, '856')).toEqual([]);
  });

  it('MolecularSequence is always genetic information; contained resources and extensions are searched too', () => {
    expect(codes(labelResource({ resourceType: 'MolecularSequence', id: 'm', coordinateSystem: 0 }))).toEqual(['GDIS', 'R']);
    const contained = {
      resourceType: 'MedicationRequest',
      id: 'mr',
      contained: [{ resourceType: 'Medication', id: 'med', code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '195085' }] } }],
      medicationReference: { reference: '#med' },
    };
    expect(codes(labelResource(contained))).toEqual(['HIV', 'R']);
    const extension = { resourceType: 'Patient', id: 'p', extension: [{ url: 'urn:x', valueCodeableConcept: { coding: [{ system: SNOMED, code: '58214004' }] } }] };
    expect(codes(labelResource(extension))).toEqual(['PSY', 'R']);
    // meta is not content: a tag with a sensitive code does not label.
    expect(labelResource({ resourceType: 'Patient', id: 'p', meta: { tag: [{ system: SNOMED, code: '86406008' }] } })).toEqual([]);
  });
});

describe('labelResource: explicit labels', () => {
  it('keeps explicit meta.security labels as written (display included), normalises old v3 system URIs, dedupes and sorts', () => {
    const r = {
      resourceType: 'Observation',
      id: 'o',
      meta: {
        security: [
          { system: 'urn:local:policy', code: 'VIP' },
          { system: 'http://hl7.org/fhir/v3/ActCode', code: 'HIV', display: 'as written' },
          { system: CONFIDENTIALITY_SYSTEM, code: 'N', display: 'normal' },
          { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'NOREDISCLOSE' },
        ],
      },
      code: { coding: [{ system: LOINC, code: '20447-9' }] },
    };
    expect(labelResource(r)).toEqual([
      { system: ACT_CODE_SYSTEM, code: 'HIV', display: 'as written' },
      { system: CONFIDENTIALITY_SYSTEM, code: 'N', display: 'normal' },
      { system: CONFIDENTIALITY_SYSTEM, code: 'R', display: 'restricted' },
      { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'NOREDISCLOSE' },
      { system: 'urn:local:policy', code: 'VIP' },
    ]);
  });

  it('an explicit sensitivity label alone brings R; an explicit R or V is not doubled', () => {
    const explicit = (security: Json[]) => codes(labelResource({ resourceType: 'Observation', id: 'o', meta: { security } }));
    expect(explicit([{ system: ACT_CODE_SYSTEM, code: 'PSY' }])).toEqual(['PSY', 'R']);
    expect(explicit([{ system: ACT_CODE_SYSTEM, code: 'PSY' }, { system: CONFIDENTIALITY_SYSTEM, code: 'V' }])).toEqual(['PSY', 'V']);
    expect(explicit([{ system: CONFIDENTIALITY_SYSTEM, code: 'N' }])).toEqual(['N']);
  });

  it('the order of explicit labels does not change the result', () => {
    const security = [
      { system: 'urn:b', code: '2' },
      { system: 'urn:a', code: '9' },
      { system: 'urn:a', code: '1' },
    ];
    const a = labelResource({ resourceType: 'Basic', meta: { security } });
    const b = labelResource({ resourceType: 'Basic', meta: { security: [...security].reverse() } });
    expect(a).toEqual(b);
    expect(a.map((l) => `${l.system}|${l.code}`)).toEqual(['urn:a|1', 'urn:a|9', 'urn:b|2']);
  });
});

describe('labelResource: robustness', () => {
  it('never throws on the 642 official examples; those without sensitive codes or labels get none', () => {
    const labelled: string[] = [];
    for (const e of officialExamples()) {
      const r = JSON.parse(e.text) as Json;
      const labels = labelResource(r);
      const explicit = ((r['meta'] as Json | undefined)?.['security'] as unknown[] | undefined) ?? [];
      if (labels.length > explicit.length) labelled.push(`${e.file}: ${codes(labels).join(',')}`);
    }
    expect(labelled).toEqual([
      'Bundle-hla-1.json: GDIS,R',
      'HealthcareService-example.json: PSY,R', // specialty: Posttraumatic stress disorder (a directory entry; see docs)
      ...[
        'breastcancer',
        'coord-0-base',
        'coord-1-base',
        'example-TPMT-one',
        'example-TPMT-two',
        'example-pgx-1',
        'example-pgx-2',
        'example',
        'fda-example',
        'fda-vcf-comparison',
        'fda-vcfeval-comparison',
        'graphic-example-1',
        'graphic-example-2',
        'graphic-example-3',
        'graphic-example-4',
        'graphic-example-5',
        'sequence-complex-variant',
      ].map((id) => `MolecularSequence-${id}.json: GDIS,R`),
      'Observation-example-genetics-2.json: GDIS,R',
    ]);
    expect(labelResource(JSON.parse(officialExamples().find((e) => e.file === 'Patient-example.json')!.text))).toEqual([]);
  });

  it('is defensive on odd input', () => {
    for (const odd of [null, undefined, 42, 'Patient', [], [{ system: SNOMED, code: '86406008' }], { meta: 'x' }, { meta: { security: 'x' } }, { meta: { security: [null, 1, { code: 5 }, { system: 9, code: 'R' }] } }]) {
      expect(() => labelResource(odd)).not.toThrow();
    }
    expect(labelResource({ meta: { security: [{ system: 9, code: 'X' }] } })).toEqual([{ system: '', code: 'X' }]);
    expect(labelResource({ code: { coding: [{ system: SNOMED, code: 86406008 }] } })).toEqual([]);
    // Deep nesting does not overflow the stack (the walk is iterative).
    let deep: Json = { system: SNOMED, code: '86406008' };
    for (let i = 0; i < 100_000; i++) deep = { x: deep };
    expect(codes(labelResource(deep))).toEqual(['HIV', 'R']);
  });
});

describe('labelResource: Synthea', () => {
  const HIV_DISPLAY = /\bHIV\b|antiretroviral|zidovudine|stavudine|didanosine|abacavir|efavirenz|nevirapine|nelfinavir|lopinavir|emtricitabine/i;

  it('HIV bundles: every patient has HIV-labelled resources, and exactly the resources with HIV-related codes are labelled HIV', () => {
    const all = resourcesOf('test/fixtures/synthea-hiv-bundles');
    const patients = new Set(all.filter((r) => r.source !== 'providers.json.gz').map((r) => r.source));
    expect(patients.size).toBe(3);
    const perPatient = new Map<string, number>();
    const combos = new Map<string, number>();
    for (const { source, resource } of all) {
      const labels = codes(labelResource(resource));
      const hivRelated = displays(resource).some((d) => HIV_DISPLAY.test(d));
      expect({ id: resource['id'], hiv: labels.includes('HIV') }).toEqual({ id: resource['id'], hiv: hivRelated });
      if (labels.includes('HIV')) perPatient.set(source, (perPatient.get(source) ?? 0) + 1);
      if (labels.length > 0) {
        const key = `${String(resource['resourceType'])} ${labels.join(',')}`;
        combos.set(key, (combos.get(key) ?? 0) + 1);
      }
    }
    for (const p of patients) expect(perPatient.get(p) ?? 0).toBeGreaterThan(0);
    expect([...perPatient.values()].reduce((a, b) => a + b)).toBe(78);
    expect(Object.fromEntries(combos)).toEqual({ 'Observation HIV,R': 78, 'Observation SEX,STD,R': 6, 'Observation SEX,R': 3 });
  });

  it('demo set: label counts, and a few checked by hand', () => {
    const all = resourcesOf('demo/synthea-10-patients');
    const counts: Record<string, number> = {};
    for (const { resource } of all) for (const c of codes(labelResource(resource))) counts[c] = (counts[c] ?? 0) + 1;
    expect(all.length).toBe(7160);
    expect(counts).toEqual({ ETH: 4, GDIS: 3, HIV: 3, PSY: 1, R: 130, SDV: 22, SEX: 97, STD: 9 });

    const byDisplay = (type: string, display: string) => all.find(({ resource }) => resource['resourceType'] === type && displays(resource).includes(display))!.resource;
    expect(codes(labelResource(byDisplay('Condition', 'Misuses drugs (finding)')))).toEqual(['ETH', 'R']);
    expect(codes(labelResource(byDisplay('Condition', 'Severe anxiety (panic) (finding)')))).toEqual(['PSY', 'R']);
    expect(codes(labelResource(byDisplay('Condition', 'Victim of intimate partner abuse (finding)')))).toEqual(['SDV', 'R']);
    expect(codes(labelResource(byDisplay('Procedure', 'Human immunodeficiency virus antigen test')))).toEqual(['HIV', 'R']);
    expect(codes(labelResource(byDisplay('Procedure', 'Chlamydia antigen test')))).toEqual(['SEX', 'STD', 'R']);
    expect(codes(labelResource(byDisplay('MedicationRequest', 'Mirena 52 MG Intrauterine System')))).toEqual(['SEX', 'R']);
    // Not sensitive by these value sets: screenings, employment, ordinary conditions.
    expect(labelResource(byDisplay('Procedure', 'Depression screening (procedure)'))).toEqual([]);
    expect(labelResource(byDisplay('Procedure', 'Assessment of substance use (procedure)'))).toEqual([]);
    expect(labelResource(byDisplay('Condition', 'Full-time employment (finding)'))).toEqual([]);
    expect(labelResource(byDisplay('Condition', 'Essential hypertension (disorder)'))).toEqual([]);
  });

  // How fast is a figure of `npm run bench` (access.label), not a timed test.
  it('labels every demo resource, the same way twice', () => {
    const all = resourcesOf('demo/synthea-10-patients').map((r) => r.resource);
    expect(all.length).toBeGreaterThan(1_000);
    const first = all.map((r) => codes(labelResource(r)));
    expect(all.map((r) => codes(labelResource(r)))).toEqual(first);
    expect(first.filter((c) => c.length > 0).length).toBeGreaterThan(0);
  });
});

describe('docs/sensitive-data.md', () => {
  it('lists every code of the value sets', async () => {
    const { readFileSync } = await import('node:fs');
    const vs = await import('../../../src/access/policy/sensitivity-value-sets.js');
    const doc = readFileSync(new URL('../../../../../docs/sensitive-data.md', import.meta.url), 'utf8');
    const undotted = doc.replace(/\./g, '');
    const missing: string[] = [];
    for (const list of [vs.SNOMED_CONCEPTS, vs.LOINC_CONCEPTS, vs.RXNORM_CONCEPTS, vs.CIEL_CONCEPTS]) {
      for (const c of list) if (!new RegExp(`(^|[^0-9])${c.code}([^0-9]|$)`).test(doc)) missing.push(c.code);
    }
    for (const r of vs.ICD10_RULES) {
      if (!undotted.includes(r.from)) missing.push(r.from);
      if (r.to !== undefined && !undotted.includes(r.to)) missing.push(r.to);
      for (const e of r.except ?? []) if (!doc.includes(e)) missing.push(e);
    }
    for (const type of vs.SENSITIVE_RESOURCE_TYPES.keys()) if (!doc.includes(type)) missing.push(type);
    expect(missing).toEqual([]);
  });
});
