import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const generated = (file: string): Buffer => readFileSync(path.join(packageRoot, 'generated', file));

interface Table {
  primitives: Record<string, { json: string; regex?: string; maxLength?: number }>;
  types: Record<string, { kind: string; elements: Record<string, [string, number, number | string, string?]> }>;
}
const table = JSON.parse(generated('fhir-structure.json').toString('utf8')) as Table;
const elementsOf = (type: string): Record<string, [string, number, number | string, string?]> => table.types[type]?.elements ?? {};

describe('scripts/generate-structure-tables.mjs', () => {
  it('regenerates the committed tables byte for byte', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'custodia-structure-'));
    try {
      execFileSync(process.execPath, [path.join(packageRoot, 'scripts', 'generate-structure-tables.mjs'), out], { stdio: 'pipe' });
      for (const file of ['fhir-structure.json', 'resource-types.json']) {
        expect(readFileSync(path.join(out, file)).equals(generated(file)), file).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('keeps the structure table small', () => {
    expect(generated('fhir-structure.json').length).toBeLessThan(1024 * 1024);
  });

  it('lists the concrete R4 resource types, sorted', () => {
    const types = JSON.parse(generated('resource-types.json').toString('utf8')) as string[];
    // 4.0.1 profiles-resources.json: 146 StructureDefinitions with kind resource and abstract false.
    expect(types).toHaveLength(146);
    expect([...types].sort()).toEqual(types);
    expect(types).toEqual(expect.arrayContaining(['Patient', 'Observation', 'Bundle', 'Parameters', 'Binary', 'AdverseEvent']));
    expect(types).not.toContain('Resource');
    expect(types).not.toContain('DomainResource');
    expect(types).not.toContain('MetadataResource');
    expect(Object.entries(table.types).filter(([, t]) => t.kind === 'resource').map(([name]) => name)).toEqual(types);
  });

  it('records cardinality, types and backbone elements', () => {
    expect(elementsOf('Observation')['status']).toEqual(['code', 1, 1]);
    expect(elementsOf('Observation')['code']).toEqual(['CodeableConcept', 1, 1]);
    expect(elementsOf('Patient')['name']).toEqual(['HumanName', 0, '*']);
    expect(elementsOf('Patient')['contact']).toEqual(['Patient.contact', 0, '*']);
    expect(elementsOf('Patient.contact')['relationship']).toEqual(['CodeableConcept', 0, '*']);
    expect(elementsOf('Timing')['repeat']).toEqual(['Timing.repeat', 0, 1]);
  });

  it('expands choice elements into one property per type', () => {
    expect(elementsOf('Observation')['valueQuantity']).toEqual(['Quantity', 0, 1, 'value[x]']);
    expect(elementsOf('Observation')['valueString']).toEqual(['string', 0, 1, 'value[x]']);
    expect(elementsOf('Observation')['value[x]']).toBeUndefined();
    expect(elementsOf('MedicationRequest')['medicationReference']).toEqual(['Reference', 1, 1, 'medication[x]']);
    // Extension.value[x] is open to all 50 R4 types.
    expect(Object.values(elementsOf('Extension')).filter((e) => e[3] === 'value[x]')).toHaveLength(50);
    expect(elementsOf('Extension')['valueMeta']).toEqual(['Meta', 0, 1, 'value[x]']);
  });

  it('resolves contentReference and Resource-typed elements', () => {
    expect(elementsOf('Questionnaire.item')['item']).toEqual(['Questionnaire.item', 0, '*']);
    expect(elementsOf('QuestionnaireResponse.item.answer')['item']).toEqual(['QuestionnaireResponse.item', 0, '*']);
    expect(elementsOf('Observation.component')['referenceRange']).toEqual(['Observation.referenceRange', 0, '*']);
    expect(elementsOf('Bundle.entry')['resource']).toEqual(['Resource', 0, 1]);
    expect(elementsOf('Parameters.parameter')['resource']).toEqual(['Resource', 0, 1]);
    expect(elementsOf('Patient')['contained']).toEqual(['Resource', 0, '*']);
  });

  it('marks primitives that have no _element sibling', () => {
    expect(elementsOf('Patient')['id']).toEqual(['@id', 0, 1]);
    expect(elementsOf('HumanName')['id']).toEqual(['@string', 0, 1]);
    expect(elementsOf('Narrative')['div']).toEqual(['@xhtml', 1, 1]);
    expect(elementsOf('Extension')['url']).toEqual(['uri', 1, 1]);
    expect(elementsOf('Element')).toEqual({ id: ['@string', 0, 1], extension: ['Extension', 0, '*'] });
  });

  it('applies the SimpleQuantity profile where the definitions ask for it', () => {
    expect(elementsOf('Dosage.doseAndRate')['doseQuantity']).toEqual(['SimpleQuantity', 0, 1, 'dose[x]']);
    expect(elementsOf('SimpleQuantity')['comparator']).toEqual(['code', 0, 0]);
  });

  it('records the JSON kind and regex of every primitive', () => {
    expect(Object.keys(table.primitives)).toHaveLength(20);
    expect(table.primitives['decimal']?.json).toBe('number');
    expect(table.primitives['positiveInt']?.json).toBe('number');
    expect(table.primitives['boolean']?.json).toBe('boolean');
    expect(table.primitives['instant']?.json).toBe('string');
    expect(table.primitives['id']?.regex).toBe('[A-Za-z0-9\\-\\.]{1,64}');
    expect(table.primitives['string']?.maxLength).toBe(1048576);
    expect(table.primitives['xhtml']?.regex).toBeUndefined();
  });

  it('cross-checks the table against the JSON Schema and reports any tampering', async () => {
    const { findSchemaDifferences } = (await import(new URL('../../scripts/structure-schema-check.mjs', import.meta.url).href)) as {
      findSchemaDifferences: (schema: unknown, table: Table) => string[];
    };
    const schema = JSON.parse(gunzipSync(readFileSync(path.join(packageRoot, 'definitions', 'fhir-r4', 'fhir.schema.json.gz'))).toString('utf8')) as unknown;
    expect(findSchemaDifferences(schema, table)).toEqual([]);
    const tampered = JSON.parse(JSON.stringify(table)) as Table;
    const patient = tampered.types['Patient']?.elements ?? {};
    patient['nickname'] = ['string', 0, 1];
    patient['name'] = ['HumanName', 0, 1];
    expect(findSchemaDifferences(schema, tampered)).toEqual([
      'Patient.name: single vs schema array',
      'Patient.nickname: not in schema Patient',
      'Patient._nickname: not in schema Patient',
    ]);
  });

  it('does not accept properties that exist only in a vendor JSON Schema', () => {
    expect(elementsOf('Meta')['project']).toBeUndefined();
    expect(elementsOf('Reference')['resource']).toBeUndefined();
    expect(elementsOf('OperationOutcome')['status']).toBeUndefined();
  });
});
