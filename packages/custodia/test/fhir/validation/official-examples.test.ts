import { describe, expect, it } from 'vitest';
import { validateResource } from '../../../src/fhir/validation/index.js';
import { officialExamples } from '../../helpers/fixture-files.js';

/**
 * Official R4 examples the validator rejects, with the issues it must report and why the
 * example is not valid R4. Every entry has to be checked against the 4.0.1 definitions.
 * The list is currently empty: all 642 examples validate with zero issues. If an example ever
 * has to be added, the test below fails both when a listed example starts to pass and when an
 * unlisted one starts to fail.
 */
const REJECTED_EXAMPLES: ReadonlyMap<string, { readonly reason: string; readonly issues: readonly { kind: string; code: string; expression: string }[] }> =
  new Map();

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
