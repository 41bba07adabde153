import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SearchParamRegistry, compartmentParams, compartmentTypes } from '../../../src/fhir/search/index.js';

const definitions = new URL('../../../definitions/fhir-r4/', import.meta.url);

interface OfficialParam {
  url: string;
  code: string;
  base: string[];
  type: string;
  expression?: string;
  target?: string[];
  component?: { definition: string; expression: string }[];
}

function readGz<T>(name: string): T {
  return JSON.parse(gunzipSync(readFileSync(new URL(name, definitions))).toString('utf8')) as T;
}

const official = readGz<{ entry: { resource: OfficialParam }[] }>('search-parameters.json.gz').entry.map((e) => e.resource);
const concreteTypes = readGz<{ entry: { resource: { resourceType: string; kind?: string; abstract?: boolean; derivation?: string; type: string } }[] }>('profiles-resources.json.gz')
  .entry.map((e) => e.resource)
  .filter((sd) => sd.resourceType === 'StructureDefinition' && sd.kind === 'resource' && sd.abstract === false && sd.derivation === 'specialization')
  .map((sd) => sd.type)
  .sort();
const registry = SearchParamRegistry.loadR4();

describe('SearchParamRegistry.loadR4', () => {
  it('knows every concrete R4 resource type', () => {
    expect([...registry.resourceTypes()].sort()).toEqual(concreteTypes);
    // 145 storable types plus Parameters, which is a resource too (operation payloads).
    expect(concreteTypes).toHaveLength(146);
  });

  it('holds exactly the official parameters, each on every type of its base', () => {
    expect(official).toHaveLength(1375);
    const domainTypes = new Set(concreteTypes.filter((t) => !['Bundle', 'Binary', 'Parameters'].includes(t)));
    const expected = new Set<string>();
    for (const sp of official) {
      for (const base of sp.base) {
        const types = base === 'Resource' ? concreteTypes : base === 'DomainResource' ? [...domainTypes] : [base];
        for (const t of types) expected.add(`${t}.${sp.code} ${sp.url}`);
      }
    }
    const actual = new Set<string>();
    for (const t of registry.resourceTypes()) for (const p of registry.list(t)) actual.add(`${t}.${p.code} ${p.url}`);
    expect(actual).toEqual(expected);
    const urls = new Set(registry.resourceTypes().flatMap((t) => registry.list(t).map((p) => p.url)));
    expect(urls.size).toBe(official.length);
  });

  it('keeps the part of a shared expression that applies to each type', () => {
    expect(registry.get('Patient', 'email')?.expression).toBe("Patient.telecom.where(system='email')");
    expect(registry.get('Practitioner', 'email')?.expression).toBe("Practitioner.telecom.where(system='email')");
    expect(registry.get('Observation', 'patient')?.expression).toBe('Observation.subject.where(resolve() is Patient)');
    expect(registry.get('Observation', 'patient')?.targets).toEqual(['Group', 'Patient']); // the shared clinical-patient targets
    expect(registry.get('Condition', 'onset-date')?.expression).toBe('Condition.onset.as(dateTime) | Condition.onset.as(Period)');
    expect(registry.get('InsurancePlan', 'name')?.expression).toBe('name | alias');
    expect(registry.get('Task', 'focus')?.targets).toHaveLength(145);
  });

  it('gives every type the common Resource parameters and DomainResource types _text', () => {
    for (const t of registry.resourceTypes()) {
      for (const code of ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source', '_content', '_query']) {
        expect(registry.get(t, code), `${t}.${code}`).toBeDefined();
      }
    }
    expect(registry.get('Patient', '_id')?.expression).toBe('Resource.id');
    expect(registry.get('Patient', '_text')?.type).toBe('string');
    expect(registry.get('Bundle', '_text')).toBeUndefined();
  });

  it('describes composites with their components', () => {
    const p = registry.get('Observation', 'component-code-value-quantity');
    expect(p?.type).toBe('composite');
    expect(p?.components).toEqual([
      { code: 'component-code', type: 'token', expression: 'code' },
      { code: 'component-value-quantity', type: 'quantity', expression: 'value.as(Quantity)' },
    ]);
  });

  it('is safe with any name', () => {
    expect(registry.get('Patient', '__proto__')).toBeUndefined();
    expect(registry.get('__proto__', 'name')).toBeUndefined();
    expect(registry.get('Patient', 'constructor')).toBeUndefined();
    expect(registry.list('toString')).toEqual([]);
    expect(registry.isResourceType('hasOwnProperty')).toBe(false);
  });
});

describe('compartments', () => {
  const files = readdirSync(definitions).filter((f) => f.startsWith('CompartmentDefinition-') && !f.includes('example'));

  it('follow the official CompartmentDefinitions', () => {
    expect(compartmentTypes().slice().sort()).toEqual(['Device', 'Encounter', 'Patient', 'Practitioner', 'RelatedPerson']);
    for (const f of files) {
      const def = JSON.parse(readFileSync(new URL(f, definitions), 'utf8')) as { code: string; resource: { code: string; param?: string[] }[] };
      for (const r of def.resource) {
        expect(compartmentParams(def.code, r.code), `${def.code} ${r.code}`).toEqual((r.param ?? []).map((p) => (p === '{def}' ? '_id' : p)));
      }
    }
  });

  it('answers the usual questions', () => {
    expect(compartmentParams('Patient', 'Observation')).toEqual(['subject', 'performer']);
    expect(compartmentParams('Patient', 'Patient')).toEqual(['link']);
    expect(compartmentParams('Encounter', 'Encounter')).toEqual(['_id']);
    expect(compartmentParams('Patient', 'CodeSystem')).toEqual([]);
    expect(compartmentParams('__proto__', 'Observation')).toEqual([]);
  });

  it('only names parameters that exist and are references (or _id)', () => {
    for (const compartment of compartmentTypes()) {
      for (const t of registry.resourceTypes()) {
        for (const code of compartmentParams(compartment, t)) {
          if (code === '_id') continue;
          expect(registry.get(t, code)?.type, `${compartment}: ${t}.${code}`).toBe('reference');
        }
      }
    }
  });
});
