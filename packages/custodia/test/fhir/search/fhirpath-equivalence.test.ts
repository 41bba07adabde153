/**
 * Proves the FHIRPath compiler: for every official example (and every resource inside the
 * example Bundles) and every applicable search parameter with an expression, the compiled
 * accessor selects the same values, with the same datatypes, as the fhirpath library
 * evaluating the official expression. Composite parameters are compared element by element,
 * component by component.
 *
 * Documented exceptions (the compiler implements the evident intent, see fhirpath-compiler.ts):
 * - `x as T` where x has several items: the library throws ("Expected singleton on left side
 *   of 'as'"); the compiler filters like `ofType(T)`, so the reference is the same expression
 *   with `(x as T)` rewritten to `x.ofType(T)`.
 * - `as(DateTime)` (Observation code-value-date components): the library matches nothing
 *   (System.DateTime); the reference uses `as(dateTime)`.
 * - Primitives that only carry extensions (`_given: [{…}]`) come back from the library as
 *   null values; the compiler skips them (there is nothing to index).
 * - Results are compared as sets of (datatype, JSON value). The library de-duplicates unions
 *   with FHIRPath equality (decimals compared at the lower precision, so a Quantity of 1e-245 g
 *   "equals" one of 1e-22 g, and it throws on Quantities with a comparator); the index rows are
 *   de-duplicated exactly. So the reference evaluates the parts of a top-level union one by one.
 */
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/fhir/resource.js';
import type { Collector } from '../../../src/fhir/search/fhirpath-compiler.js';
import { fhirTypeOfNode, offlineResolveTable, valueOfNode } from '../../../src/fhir/search/fhirpath-fallback.js';
import { compileCompositeExpression, compileSearchExpression } from '../../../src/fhir/search/search-expression.js';
import { SearchParamRegistry } from '../../../src/fhir/search/search-param-registry.js';
import { officialExamplesWithEntries } from './fixtures.js';

const registry = SearchParamRegistry.loadR4();
const isType = (t: string): boolean => registry.isResourceType(t);
const options = { resolveInternalTypes: false, userInvocationTable: offlineResolveTable(isType) } as Parameters<typeof fhirpath.evaluate>[4];

const exceptions = new Map<string, number>();
function noteException(kind: string): void {
  exceptions.set(kind, (exceptions.get(kind) ?? 0) + 1);
}

/** The library's result for an official expression, with the documented rewrites when needed. */
function reference(data: unknown, expression: string | { base: string; expression: string }, root: JsonObject): unknown[] {
  const text = typeof expression === 'string' ? expression : expression.expression;
  let effective = text;
  if (/\.as\(DateTime\)/.test(effective)) {
    effective = effective.replace(/\.as\(DateTime\)/g, '.as(dateTime)');
    noteException('as(DateTime) read as as(dateTime)');
  }
  const evaluate = (t: string): unknown[] =>
    fhirpath.evaluate(data, typeof expression === 'string' ? t : { base: expression.base, expression: t }, { resource: root }, r4Model, options) as unknown[];
  const attempt = (t: string): unknown[] => {
    try {
      return evaluate(t);
    } catch (e) {
      const message = String((e as Error).message);
      if (message.includes("Expected singleton on left side of 'as'")) {
        noteException("'x as T' on a collection read as x.ofType(T)");
        return attempt(t.replace(/\(([^()]+?) as ([A-Za-z]+)\)/g, '$1.ofType($2)'));
      }
      throw new Error(`${t}: ${message}`);
    }
  };
  return splitUnion(effective).flatMap(attempt);
}

/** The top-level parts of a union (outside parentheses). */
function splitUnion(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts;
}

function keysOfNodes(nodes: readonly unknown[]): string[] {
  const keys = new Set<string>();
  for (const n of nodes) {
    const v = valueOfNode(n);
    if (v === null || v === undefined) continue;
    keys.add(JSON.stringify([fhirTypeOfNode(n), v]));
  }
  return [...keys].sort();
}

function keysOfCollector(c: Collector): string[] {
  return [...new Set(c.values.map((v, i) => JSON.stringify([c.types[i], v])))].sort();
}

describe('the FHIRPath compiler', () => {
  const examples = officialExamplesWithEntries();
  const fallbacks = new Set<string>();

  it('compiles every official expression (none falls back to the fhirpath library)', () => {
    for (const type of registry.resourceTypes()) {
      for (const p of registry.list(type)) {
        if (p.expression === undefined || p.type === 'special') continue;
        const ctx = { model: registry.model, resourceType: type, isType };
        const compiled =
          p.type === 'composite'
            ? compileCompositeExpression(p.expression, p.components.map((c) => c.expression), ctx).compiled
            : compileSearchExpression(p.expression, ctx).compiled;
        if (!compiled) fallbacks.add(`${type}.${p.code}`);
      }
    }
    expect([...fallbacks]).toEqual([]);
  });

  it(`selects what the fhirpath library selects, on ${examples.length} example resources`, { timeout: 300_000 }, async () => {
    const { Collector } = await import('../../../src/fhir/search/fhirpath-compiler.js');
    let comparisons = 0;
    const mismatches: string[] = [];
    for (const { file, resource } of examples) {
      const root = resource as JsonObject;
      const ctx = { model: registry.model, resourceType: resource.resourceType, isType };
      for (const p of registry.list(resource.resourceType)) {
        if (p.expression === undefined) continue;
        const label = `${file} ${resource.resourceType}.${p.code} (${p.expression})`;
        if (p.type === 'composite') {
          const expectedBase = new Map<string, { data: unknown; path: string }>();
          for (const node of reference(root, p.expression, root) as { data: unknown; path: string }[]) expectedBase.set(JSON.stringify(node.data), node);
          const compiledElements = new Map<string, Collector[]>();
          compileCompositeExpression(p.expression, p.components.map((c) => c.expression), ctx).evaluate(root, (cols) => {
            // The element itself is not handed out: identify it by its components' values.
            compiledElements.set(JSON.stringify(cols.map(keysOfCollector)), [...cols]);
          });
          const expectedElements = new Set<string>();
          for (const n of expectedBase.values()) {
            expectedElements.add(JSON.stringify(p.components.map((c) => keysOfNodes(reference(n.data, { base: n.path, expression: c.expression }, root)))));
          }
          comparisons += 1 + expectedElements.size * p.components.length;
          const actual = [...compiledElements.keys()].sort();
          const expected = [...expectedElements].sort();
          if (JSON.stringify(actual) !== JSON.stringify(expected)) mismatches.push(`${label}: ${JSON.stringify(actual).slice(0, 300)} != ${JSON.stringify(expected).slice(0, 300)}`);
          continue;
        }
        const collector = new Collector();
        compileSearchExpression(p.expression, ctx).evaluate(root, root, collector);
        const expected = keysOfNodes(reference(root, p.expression, root));
        const actual = keysOfCollector(collector);
        comparisons++;
        if (JSON.stringify(expected) !== JSON.stringify(actual)) mismatches.push(`${label}: ${JSON.stringify(actual).slice(0, 300)} != ${JSON.stringify(expected).slice(0, 300)}`);
      }
    }
    console.info(`${comparisons} comparisons; documented exceptions: ${JSON.stringify(Object.fromEntries(exceptions))}`);
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(comparisons).toBeGreaterThan(20_000);
  });
});
