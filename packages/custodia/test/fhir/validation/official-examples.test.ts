import { describe, expect, it } from 'vitest';
import { validateResource } from '../../../src/fhir/validation/index.js';
import { officialExamples } from '../../helpers/fixture-files.js';

/**
 * Official R4 examples the validator rejects, with the issues it must report and why the
 * example is not valid R4. Every entry has to be checked against the 4.0.1 definitions.
 * The test below fails both when a listed example starts to pass and when an unlisted one
 * starts to fail. All four reference a resource of a type the element's targetProfile does
 * not allow (references.html: "the reference SHALL point to a resource of a type" allowed).
 */
const wrongTarget = (expression: string) => [{ kind: 'invalid', code: 'value', expression }];
const REJECTED_EXAMPLES: ReadonlyMap<string, { readonly reason: string; readonly issues: readonly { kind: string; code: string; expression: string }[] }> =
  new Map([
    ['DeviceMetric-example.json', { reason: 'DeviceMetric.parent is Reference(Device); the example points to DeviceDefinition/dc102', issues: wrongTarget('DeviceMetric.parent.reference') }],
    [
      'DeviceUseStatement-example.json',
      { reason: 'DeviceUseStatement.reasonReference is Reference(Condition | Observation | DiagnosticReport | DocumentReference | Media); the example points to Procedure/example', issues: wrongTarget('DeviceUseStatement.reasonReference[0].reference') },
    ],
    [
      'MedicationRequest-medrx0301.json',
      { reason: 'MedicationRequest.dispenseRequest.performer is Reference(Organization); the example points to Practitioner/f001', issues: wrongTarget('MedicationRequest.dispenseRequest.performer.reference') },
    ],
    [
      'Observation-clinical-gender.json',
      { reason: 'Observation.performer allows Practitioner, PractitionerRole, Organization, CareTeam, Patient and RelatedPerson; the example points to Encounter/example', issues: wrongTarget('Observation.performer[0].reference') },
    ],
  ]);

describe('the 642 official FHIR R4 examples', () => {
  const examples = officialExamples();

  it('are all present', () => {
    expect(examples).toHaveLength(642);
    expect(new Set(examples.map((example) => example.file)).size).toBe(642);
    for (const file of REJECTED_EXAMPLES.keys()) expect(examples.map((example) => example.file)).toContain(file);
  });

  it('validate with zero issues, except the listed ones with exactly their issues', () => {
    const unexpected: Record<string, unknown> = {};
    for (const example of examples) {
      const issues = validateResource(JSON.parse(example.text), { maxIssues: 1000 }).map(({ kind, code, expression }) => ({ kind, code, expression }));
      const expected = REJECTED_EXAMPLES.get(example.file)?.issues ?? [];
      if (JSON.stringify(issues) !== JSON.stringify(expected)) unexpected[example.file] = { expected, actual: issues };
    }
    expect(unexpected).toEqual({});
  });

  it('cover many resource types, Bundles with nested resources and contained resources', () => {
    const types = new Set(examples.map((example) => (JSON.parse(example.text) as { resourceType: string }).resourceType));
    expect(types.size).toBeGreaterThan(100);
    expect(types).toContain('Bundle');
    expect(examples.filter((example) => example.text.includes('"contained"')).length).toBeGreaterThan(10);
  });
});
