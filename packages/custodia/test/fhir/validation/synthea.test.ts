import { describe, expect, it } from 'vitest';
import { validateResource } from '../../../src/fhir/validation/index.js';
import { fixtureResources, type FixtureResource } from '../../helpers/fixture-files.js';

function failures(resources: readonly FixtureResource[]): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  for (const { source, resource } of resources) {
    const issues = validateResource(resource);
    if (issues.length > 0) found[source] = issues;
  }
  return found;
}

describe('Synthea data (valid R4)', () => {
  it('validates every resource of the 10-patient demo set', () => {
    const resources = fixtureResources('demo/synthea-10-patients');
    expect(resources.length).toBeGreaterThan(7000);
    expect(failures(resources)).toEqual({});
  });

  it('validates the HIV transaction Bundles (three patients and their providers), entry resources included', () => {
    const bundles = fixtureResources('test/fixtures/synthea-hiv-bundles');
    expect(bundles).toHaveLength(4);
    for (const { resource } of bundles) expect((resource as { type: string }).type).toBe('transaction');
    expect(failures(bundles)).toEqual({});
  });

  it('validates the 1,144 Synthea Patients', () => {
    const patients = fixtureResources('test/fixtures/synthea-1000-patients');
    expect(patients).toHaveLength(1144);
    expect(failures(patients)).toEqual({});
  });
});
