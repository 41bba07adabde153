import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { RESOURCE_TYPES, validateResource, type ValidationIssue } from '../../../src/fhir/validation/index.js';
import { loadStructureTable } from '../../../src/fhir/validation/structure-table.js';
import { officialExamples } from '../../helpers/fixture-files.js';

const KINDS = new Set(['structure', 'invalid']);

function expectWellFormed(issues: readonly ValidationIssue[], maxIssues = 100): void {
  expect(issues.length).toBeLessThanOrEqual(maxIssues);
  for (const issue of issues) {
    expect(KINDS.has(issue.kind)).toBe(true);
    expect(issue.code).toMatch(/^[a-z-]+$/);
    expect(issue.expression.length).toBeGreaterThan(0);
    expect(issue.diagnostics.length).toBeGreaterThan(0);
  }
}

/** A resource-shaped object: a known resourceType and properties named after its real elements. */
const resourceLike = fc.constantFrom(...RESOURCE_TYPES).chain((resourceType) => {
  const names = Object.keys(loadStructureTable().types[resourceType]?.elements ?? {});
  const key = fc.oneof(fc.constantFrom(...names), fc.constantFrom(...names).map((name) => `_${name}`), fc.string());
  return fc.dictionary(key, fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 }).map((props) => ({ ...props, resourceType }));
});

describe('validateResource on arbitrary input', () => {
  test.prop([fc.jsonValue()], { numRuns: 500 })('never throws on any JSON value', (value) => {
    expectWellFormed(validateResource(value));
  });

  test.prop([resourceLike, fc.integer({ min: 1, max: 20 })], { numRuns: 500 })(
    'never throws on objects with a known resourceType, and reports under that type',
    (resource, maxIssues) => {
      const issues = validateResource(resource, { maxIssues });
      expectWellFormed(issues, maxIssues);
      for (const issue of issues) expect(issue.expression.startsWith(resource.resourceType)).toBe(true);
    },
  );
});

interface ObjectNode {
  readonly node: Record<string, unknown>;
  /** The FHIRPath-style expression of the node, as the validator reports it. */
  readonly path: string;
}

/** Every JSON object inside a valid resource, with its expression (`_given[1]` → `given[1]`). */
function objectNodes(value: unknown, path: string, out: ObjectNode[] = []): ObjectNode[] {
  if (Array.isArray(value)) {
    value.forEach((item, index) => objectNodes(item, `${path}[${index}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    out.push({ node, path });
    for (const [key, child] of Object.entries(node)) objectNodes(child, `${path}.${key.startsWith('_') ? key.slice(1) : key}`, out);
  }
  return out;
}

// The valid ones: four official examples reference a type their element does not allow (official-examples.test.ts).
const examples = officialExamples()
  .map((example) => example.text)
  .filter((text) => validateResource(JSON.parse(text)).length === 0);
const PRINTABLE = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
const unknownKey = fc.oneof(
  fc.constantFrom('fhir_comments', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'value[x]', '_', ''),
  fc.string({ maxLength: 30 }).map((suffix) => `zz${suffix}`),
  fc.string({ maxLength: 30 }).map((suffix) => `_zz${suffix}`),
);

describe('mutating a valid official example', () => {
  test.prop([fc.nat(), fc.nat(), unknownKey, fc.jsonValue({ maxDepth: 2 })], { numRuns: 400 })(
    'by adding an unknown key at any object node always yields a structure issue pointing at that node',
    (exampleIndex, nodeIndex, key, value) => {
      const resource = JSON.parse(examples[exampleIndex % examples.length] ?? '{}') as { resourceType: string };
      const nodes = objectNodes(resource, resource.resourceType);
      const { node, path } = nodes[nodeIndex % nodes.length] as ObjectNode;
      // defineProperty: a plain assignment of "__proto__" would change the prototype instead.
      Object.defineProperty(node, key, { value, enumerable: true, configurable: true, writable: true });
      const expected = PRINTABLE.test(key) ? `${path}.${key}` : path;
      const issues = validateResource(resource, { maxIssues: 1000 });
      expect(issues).toContainEqual(expect.objectContaining({ kind: 'structure', code: 'structure', expression: expected }));
      expect(issues).toHaveLength(1);
    },
  );
});
