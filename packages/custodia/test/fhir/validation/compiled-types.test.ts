import { describe, expect, it } from 'vitest';
import { compiledType, complexTypeOf, ElementKind } from '../../../src/fhir/validation/compiled-types.js';
import { loadStructureTable } from '../../../src/fhir/validation/structure-table.js';

describe('compiledType', () => {
  const names = Object.keys(loadStructureTable().types);

  it('compiles every type of the table and resolves every complex element', () => {
    expect(names.length).toBeGreaterThan(500);
    for (const name of names) {
      const type = compiledType(name);
      expect(type?.name).toBe(name);
      for (const element of type?.elements.values() ?? []) {
        if (element.kind === ElementKind.Complex || element.kind === ElementKind.Sibling) expect(complexTypeOf(element).name).toBe(element.typeName);
      }
    }
  });

  it('returns undefined for names outside the table, prototype names included', () => {
    for (const name of ['Foo', '__proto__', 'constructor', 'toString', '']) expect(compiledType(name)).toBeUndefined();
  });

  it('adds _element siblings for primitives only', () => {
    const patient = compiledType('Patient');
    expect(patient?.elements.get('_birthDate')).toMatchObject({ kind: ElementKind.Sibling, pathName: 'birthDate', partnerName: 'birthDate', typeName: 'Element' });
    expect(patient?.elements.get('birthDate')).toMatchObject({ kind: ElementKind.Primitive, partnerName: '_birthDate', typeName: 'date' });
    expect(patient?.elements.has('_name')).toBe(false);
    expect(patient?.elements.has('_id')).toBe(false);
    expect(patient?.elements.get('resourceType')?.kind).toBe(ElementKind.ResourceType);
    expect(patient?.elements.get('contained')).toMatchObject({ kind: ElementKind.Resource, contained: true, array: true });
  });

  it('shares one bit between the variants of a choice and counts required slots', () => {
    const observation = compiledType('Observation');
    const bit = observation?.elements.get('valueString')?.choiceBit;
    expect(bit).toBeGreaterThan(0);
    expect(observation?.elements.get('valueQuantity')?.choiceBit).toBe(bit);
    expect(observation?.elements.get('_valueString')?.choiceBit).toBe(bit);
    expect(observation?.elements.get('effectiveDateTime')?.choiceBit).not.toBe(bit);
    expect(observation?.requiredSlots.map((slot) => slot.name)).toEqual(['status', 'code']);
    expect(compiledType('MedicationRequest')?.requiredSlots.map((slot) => slot.name)).toEqual(['status', 'intent', 'medication[x]', 'subject']);
  });
});
