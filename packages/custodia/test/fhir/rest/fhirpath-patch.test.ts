/**
 * FHIRPath Patch (R4 fhirpatch.html): the operations on real resources, the Parameters
 * body and the paths refused as hostile input.
 */
import { describe, expect, it } from 'vitest';
import { applyFhirPathPatch, parseFhirPathPatch } from '../../../src/fhir/rest/fhirpath-patch.js';
import { MAX_PATH_WORK, patchAllowance } from '../../../src/fhir/rest/patch-allowance.js';
import { checkPatchPath } from '../../../src/fhir/rest/fhirpath-patch-path.js';
import { CustodiaError } from '../../../src/kernel/index.js';
import { codeOf } from '../../helpers/error-code.js';

type Part = Record<string, unknown>;
const op = (...parts: Part[]) => ({ name: 'operation', part: parts });
const params = (...ops: unknown[]) => ({ resourceType: 'Parameters', parameter: ops });
const type = (t: string) => ({ name: 'type', valueCode: t });
const path = (p: string) => ({ name: 'path', valueString: p });
const name = (n: string) => ({ name: 'name', valueString: n });
const value = (v: Part) => ({ name: 'value', ...v });
const int = (n: string, v: number) => ({ name: n, valueInteger: v });

const patient = () => ({
  resourceType: 'Patient',
  id: 'p',
  identifier: [{ system: 'urn:a', value: '1' }, { system: 'urn:b', value: '2' }, { system: 'urn:c', value: '3' }],
  name: [{ family: 'Chalmers', given: ['Peter', 'James'], _given: [null, { extension: [{ url: 'urn:x', valueString: 'y' }] }] }, { use: 'usual', given: ['Jim'] }],
  birthDate: '1974-12-25',
});
const patched = (target: Record<string, unknown>, ...ops: unknown[]) => {
  applyFhirPathPatch(target, parseFhirPathPatch(params(...ops)), patchAllowance());
  return target;
};

describe('applyFhirPathPatch', () => {
  it('add: sets an absent single element, appends to a list (made if absent), builds a backbone element from parts', () => {
    const p = patched({ resourceType: 'Patient', id: 'p' }, op(type('add'), path('Patient'), name('birthDate'), value({ valueDate: '2000-01-01' })), op(type('add'), path('Patient'), name('identifier'), value({ valueIdentifier: { system: 'urn:a', value: '9' } })));
    expect(p).toEqual({ resourceType: 'Patient', id: 'p', birthDate: '2000-01-01', identifier: [{ system: 'urn:a', value: '9' }] });
    const contact = op(type('add'), path('Patient'), name('contact'), { name: 'value', part: [{ name: 'name', valueHumanName: { family: 'Doe' } }, { name: 'telecom', valueContactPoint: { system: 'phone', value: '1' } }, { name: 'gender', valueCode: 'female' }] });
    expect(patched(patient(), contact)['contact']).toEqual([{ name: { family: 'Doe' }, telecom: [{ system: 'phone', value: '1' }], gender: 'female' }]);
    // Into an element found by where(): the second name gets a family.
    expect((patched(patient(), op(type('add'), path("Patient.name.where(use = 'usual')"), name('family'), value({ valueString: 'Doe' }))) as any).name[1]).toEqual({ use: 'usual', given: ['Jim'], family: 'Doe' });
    // Parts an element does not know are kept for validation to refuse; twice, as a list.
    const unknown = op(type('add'), path('Patient'), name('contact'), { name: 'value', part: [{ name: 'x', valueHumanName: { family: 'A' } }, { name: 'x', valueHumanName: { family: 'B' } }] });
    expect(patched(patient(), unknown)['contact']).toEqual([{ x: [{ family: 'A' }, { family: 'B' }] }]);
    expect(codeOf(() => patched(patient(), op(type('add'), path('Patient'), name('birthDate'), value({ valueDate: '2000-01-01' }))))).toBe('patch-failed');
    expect(codeOf(() => patched(patient(), op(type('add'), path('Patient.name'), name('family'), value({ valueString: 'x' }))))).toBe('patch-failed');
  });

  it('insert and move: positions in one whole list, primitive extensions (_given) kept aligned', () => {
    const p = patched(patient(), op(type('insert'), path('Patient.identifier'), int('index', 1), value({ valueIdentifier: { system: 'urn:new', value: '0' } })));
    expect((p as any).identifier.map((i: any) => i.system)).toEqual(['urn:a', 'urn:new', 'urn:b', 'urn:c']);
    const m = patched(patient(), op(type('move'), path('Patient.identifier'), int('source', 0), int('destination', 2)));
    expect((m as any).identifier.map((i: any) => i.system)).toEqual(['urn:b', 'urn:c', 'urn:a']);
    const g = patched(patient(), op(type('move'), path('Patient.name[0].given'), int('source', 1), int('destination', 0)));
    expect((g as any).name[0]).toMatchObject({ given: ['James', 'Peter'], _given: [{ extension: [{ url: 'urn:x', valueString: 'y' }] }, null] });
    expect(codeOf(() => patched(patient(), op(type('insert'), path('Patient.identifier'), int('index', 4), value({ valueIdentifier: {} }))))).toBe('patch-failed');
    expect(codeOf(() => patched(patient(), op(type('move'), path('Patient.identifier.first()'), int('source', 0), int('destination', 0))))).toBe('patch-failed');
    expect(codeOf(() => patched(patient(), op(type('insert'), path('Patient.telecom'), int('index', 0), value({ valueContactPoint: {} }))))).toBe('patch-failed');
  });

  it('delete: one element, a list item (with its extension), nothing at all; never more than one', () => {
    const p = patched(patient(), op(type('delete'), path('Patient.birthDate')), op(type('delete'), path("Patient.identifier.where(system = 'urn:b')")), op(type('delete'), path('Patient.name[0].given[0]')), op(type('delete'), path('Patient.telecom')));
    expect(p).toEqual({ resourceType: 'Patient', id: 'p', identifier: [{ system: 'urn:a', value: '1' }, { system: 'urn:c', value: '3' }], name: [{ family: 'Chalmers', given: ['James'], _given: [{ extension: [{ url: 'urn:x', valueString: 'y' }] }] }, { use: 'usual', given: ['Jim'] }] });
    const last = patched(patient(), op(type('delete'), path('Patient.name[1].given')));
    expect((last as any).name[1]).toEqual({ use: 'usual' });
    expect(codeOf(() => patched(patient(), op(type('delete'), path('Patient.identifier'))))).toBe('patch-failed');
  });

  it('replace: a single element, a list item, a choice element under its own JSON name', () => {
    const p = patched(patient(), op(type('replace'), path('Patient.birthDate'), value({ valueDate: '1975-01-01' })), op(type('replace'), path('Patient.name[0].given[1]'), value({ valueString: 'Jay' })));
    expect((p as any).birthDate).toBe('1975-01-01');
    // The item's value is replaced; its extension (_given) stays.
    expect((p as any).name[0]).toMatchObject({ given: ['Peter', 'Jay'], _given: [null, { extension: [{ url: 'urn:x' }] }] });
    const obs = () => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, unit: 'kg' } });
    expect(patched(obs(), op(type('replace'), path('Observation.value'), value({ valueQuantity: { value: 2, unit: 'kg' } })))).toEqual({ ...obs(), valueQuantity: { value: 2, unit: 'kg' } });
    // Another type of the choice: the old key goes.
    const { valueQuantity: _, ...rest } = obs();
    expect(patched(obs(), op(type('replace'), path('Observation.value'), value({ valueString: 'two kg' })))).toEqual({ ...rest, valueString: 'two kg' });
    // add names the choice element; the value's type gives its key, once.
    expect(patched({ ...rest }, op(type('add'), path('Observation'), name('value'), value({ valueBoolean: true })))).toEqual({ ...rest, valueBoolean: true });
    expect(codeOf(() => patched(obs(), op(type('add'), path('Observation'), name('value'), value({ valueBoolean: true }))))).toBe('patch-failed');
    expect(patched(obs(), op(type('delete'), path('Observation.value')))).toEqual(rest);
    expect(codeOf(() => patched(patient(), op(type('replace'), path('Patient.gender'), value({ valueCode: 'male' }))))).toBe('patch-failed');
    expect(codeOf(() => patched(patient(), op(type('replace'), path('Patient.identifier'), value({ valueIdentifier: {} }))))).toBe('patch-failed');
    expect(codeOf(() => patched(patient(), op(type('replace'), path('Patient'), value({ valueString: 'x' }))))).toBe('patch-failed');
  });

  it('stops at the first failing operation, naming its position and never a value', () => {
    let err: unknown;
    try {
      patched(patient(), op(type('delete'), path('Patient.birthDate')), op(type('replace'), path("Patient.identifier.where(value = 'secret-42')"), value({ valueIdentifier: {} })));
    } catch (e) {
      err = e;
    }
    expect((err as CustodiaError).code).toBe('patch-failed');
    expect((err as Error).message).toContain('operation 1 (replace)');
    expect((err as Error).message).not.toContain('secret-42');
  });
});

describe('applyFhirPathPatch: the work a patch may ask for', () => {
  // 8 terms: each operation may walk the resource 9 times.
  const costly = "Patient.identifier.where(system = 'a' or system = 'b' or system = 'c' or system = 'd' or value = 'e' or value = 'f' or value = 'g' or value = 'h')";
  const deletes = (count: number) => Array.from({ length: count }, () => op(type('delete'), path(costly)));
  const withIdentifiers = (count: number) => ({ ...patient(), identifier: Array.from({ length: count }, (_, i) => ({ system: 'urn:s', value: `v${i}` })) });

  it('refuses, before evaluating any path, a patch whose paths would walk the resource more than MAX_PATH_WORK nodes', () => {
    // 300 operations (900 of the 1,000 parts a patch may have) × 9 walks of a 30-node resource: applied (nothing matches; delete of nothing is no error).
    expect(() => patched(patient(), ...deletes(300))).not.toThrow();
    // The same over a resource of 300 identifiers (≈ 920 nodes): 2.5 × 10⁶ node walks.
    const big = withIdentifiers(300);
    const before = structuredClone(big);
    let err: unknown;
    try {
      patched(big, op(type('delete'), path('Patient.birthDate')), ...deletes(299));
    } catch (e) {
      err = e;
    }
    expect((err as CustodiaError).code).toBe('patch-failed');
    expect((err as Error).message).toContain(String(MAX_PATH_WORK));
    expect(big).toEqual(before);
    // Fewer operations over the same resource fit.
    expect(() => patched(withIdentifiers(300), ...deletes(100))).not.toThrow();
  });

  it('counts what the operations add: a small resource made large by the patch itself is walked at its new size', () => {
    const bulky = { valueIdentifier: { system: 'urn:s', value: 'x', type: { coding: Array.from({ length: 400 }, (_, i) => ({ system: 'urn:c', code: `c${i}` })) } } };
    expect(codeOf(() => patched(patient(), op(type('add'), path('Patient'), name('identifier'), value(bulky)), ...deletes(300)))).toBe('patch-failed');
    expect(codeOf(() => patched(patient(), op(type('add'), path('Patient'), name('identifier'), value(bulky)), ...deletes(10)))).toBeUndefined();
  });
});

describe('parseFhirPathPatch (hostile Parameters)', () => {
  it('refuses a malformed body, with patch-invalid', () => {
    const bodies: unknown[] = [
      { resourceType: 'Parameters' },
      params(),
      params({ name: 'op', part: [type('delete'), path('Patient.x')] }),
      params(op(type('remove'), path('Patient.birthDate'))),
      params(op(path('Patient.birthDate'))),
      params(op(type('delete'))),
      params(op(type('delete'), path('Patient.birthDate'), name('x'))),
      params(op(type('add'), path('Patient'), name('birthDate'))),
      params(op(type('add'), path('Patient'), name('__proto__'), value({ valueString: 'x' }))),
      params(op(type('add'), path('Patient'), name('birthDate'), value({ valueDate: '2000', valueString: 'x' }))),
      params(op(type('add'), path('Patient'), name('contact'), { name: 'value', part: [{ name: 'constructor', valueString: 'x' }] })),
      params(op(type('insert'), path('Patient.identifier'), int('index', -1), value({ valueIdentifier: {} }))),
      params(op(type('move'), path('Patient.identifier'), { name: 'source', valueInteger: 0.5 }, int('destination', 0))),
      params(op(type('delete'), path('Patient.birthDate'), path('Patient.gender'))),
      params(...Array.from({ length: 1001 }, () => op(type('delete'), path('Patient.birthDate')))),
    ];
    for (const b of bodies) expect(codeOf(() => parseFhirPathPatch(b)), JSON.stringify(b).slice(0, 200)).toBe('patch-invalid');
  });
});

describe('checkPatchPath', () => {
  it('takes navigation, indexers, list picks and one level of where()', () => {
    for (const p of ['Patient.birthDate', 'Patient.name[0].given[1]', "Patient.identifier.where(system = 'urn:a' and value != 'x').value", 'Patient.name.where(use.exists().not() or period.empty()).first()', "Observation.extension('http://example.org/x')", 'Bundle.entry.resource.ofType(Patient).name', 'ValueSet.expansion.contains.code', "Patient.name.where(given.first() = 'Peter')", 'Patient.contact.where((gender = \'female\') and name.hasValue())', "Patient.name.where(given = 'a' or given = 'b' or given = 'c' or given = 'd' or given = 'e' or given = 'f' or given = 'g' or given = 'h')"]) {
      expect(() => checkPatchPath(p), p).not.toThrow();
    }
    expect(checkPatchPath('Patient.name.given')).toBe(1);
    expect(checkPatchPath("Patient.name.where(use.exists().not() or given.first() = 'a')")).toBe(5);
  });

  it('refuses what could run long or reach outside the resource', () => {
    for (const p of ['Patient.descendants()', 'Patient.repeat(name)', 'Patient.name.where(given.where(true).exists())', 'Patient.name.select(given)', '%resource.name', 'Patient.name | Patient.telecom', "Patient.name.where(given in ('a'))", 'Patient.name.where(family contains given)', 'Patient.name.count()', 'Patient.name.where(given = 1 + 1)', '(Patient.name)', 'Patient.name.where(given', 'Patient.name)', 'Patient.trace(name)', "Patient.name.where(given = 'a', 1)", '', 'a'.repeat(257), 'Patient.$this', "Patient.name.where(given = 'a' or given = 'b' or given = 'c' or given = 'd' or given = 'e' or given = 'f' or given = 'g' or given = 'h' or given = 'i')", 'Patient.name.aggregate($total)']) {
      expect(codeOf(() => checkPatchPath(p)), p).toBe('patch-invalid');
    }
  });
});
