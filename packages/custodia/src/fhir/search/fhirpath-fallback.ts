/**
 * Evaluation of search expressions with the fhirpath library (HL7 FHIRPath N1), for the
 * expressions the direct compiler does not handle. Compiled once per expression. `resolve()`
 * is replaced by an offline version that never fetches: a Reference "resolves" to a stub of
 * the type it names (see `resolvedTypeOf`), which is all `resolve() is T` needs.
 * Expressions are the official ones from the generated tables, never request input.
 */
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import type { JsonObject } from '../resource.js';
import { resolvedTypeOf } from './reference-target.js';

/** Receives the values an expression selects, with their FHIR datatype. */
export interface ValueSink {
  push(value: unknown, type: string): void;
}

/** The shape of the library's result nodes we rely on (`resolveInternalTypes: false`). */
interface ResultNode {
  readonly data?: unknown;
  readonly fhirNodeDataType?: string | null;
  readonly path?: string | null;
  readonly constructor: new (ctx: unknown, data: unknown, parent: null, path: null, _data: null, type: null) => unknown;
}

function isResultNode(v: unknown): v is ResultNode {
  return typeof v === 'object' && v !== null && 'fhirNodeDataType' in v && 'data' in v;
}

/** The FHIR datatype of a library result: `System.String` → `string`, resources → their type. */
export function fhirTypeOfNode(node: unknown): string {
  if (isResultNode(node)) {
    const t = node.fhirNodeDataType ?? '';
    if (t.startsWith('System.')) return t.slice(7, 8).toLowerCase() + t.slice(8);
    const data = node.data as { resourceType?: unknown } | null | undefined;
    return t !== '' ? t : typeof data?.resourceType === 'string' ? data.resourceType : 'Element';
  }
  return typeof node === 'boolean' ? 'boolean' : typeof node === 'number' ? 'decimal' : 'string';
}

/** The plain JSON value of a library result (null for primitives that only carry extensions). */
export function valueOfNode(node: unknown): unknown {
  if (!isResultNode(node)) return node;
  const data = node.data as { value?: unknown; constructor?: { name?: string } } | null | undefined;
  // Decimals come back wrapped (FP_Decimal_Native, FP_Integer…): unwrap to the plain number.
  if (data !== null && typeof data === 'object' && (data.constructor?.name ?? '').includes('FP_')) {
    return typeof data.value === 'number' ? data.value : Number(String(data));
  }
  return data ?? null;
}

/** A `resolve()` that never fetches (see module comment). */
export function offlineResolveTable(isType: (t: string) => boolean): Record<string, unknown> {
  return {
    resolve: {
      internalStructures: true,
      arity: { 0: [] },
      fn(this: { dataRoot?: readonly unknown[] }, nodes: readonly unknown[]): unknown[] {
        const root = (this.dataRoot?.[0] as ResultNode | undefined)?.data;
        const out: unknown[] = [];
        for (const node of nodes) {
          if (!isResultNode(node)) continue;
          const type = resolvedTypeOf(node.data, root, isType);
          if (type !== undefined) out.push(new node.constructor(this, { resourceType: type }, null, null, null, null));
        }
        return out;
      },
    },
  };
}

/** A selected element with its model path (`Observation.component`). */
export interface PathedValue {
  readonly value: unknown;
  readonly type: string;
  readonly path: string;
}

export interface FallbackExpression {
  /** Evaluates against a whole resource (`input` = `root`) or an element of it at model path `base`. */
  evaluate(input: unknown, root: JsonObject, sink: ValueSink, base?: string): void;
  /** Evaluates against a whole resource, keeping each result's model path. */
  nodes(root: JsonObject): PathedValue[];
}

/** The top-level parts of a union (outside parentheses and strings). */
function unionParts(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === "'") quoted = false;
    } else if (c === "'") quoted = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts;
}

/**
 * The official expressions read the way the compiler reads them (see fhirpath-compiler.ts):
 * `(x as T)` filters a collection like `x.ofType(T)` (the library insists on a singleton), and
 * `as(DateTime)` means FHIR `dateTime`.
 */
function normalizeExpression(part: string): string {
  return part.replace(/\(([^()]+?) as ([A-Za-z]+)\)/g, '$1.ofType($2)').replace(/\.as\(DateTime\)/g, '.as(dateTime)');
}

type Compiled = ReturnType<typeof fhirpath.compile>;

/**
 * Compiles `expression` with the fhirpath library (R4 model, offline `resolve()`). The parts of
 * a top-level union are evaluated one by one (the library's union de-duplication fails on
 * Quantities with a comparator; index rows are de-duplicated anyway).
 *
 * @example compileWithFhirpath('Patient.name.given', isType).evaluate(patient, patient, sink)
 */
export function compileWithFhirpath(expression: string, isType: (t: string) => boolean): FallbackExpression {
  const options = { resolveInternalTypes: false, userInvocationTable: offlineResolveTable(isType) } as Parameters<typeof fhirpath.compile>[2];
  const parts = unionParts(expression).map(normalizeExpression);
  const whole = parts.map((part) => fhirpath.compile(part, r4Model, options));
  const partial = new Map<string, Compiled[]>();
  const run = (input: unknown, root: JsonObject, base: string | undefined): readonly unknown[] => {
    let fns = whole;
    if (base !== undefined && input !== root) {
      fns = partial.get(base) ?? parts.map((part) => fhirpath.compile({ base, expression: part }, r4Model, options));
      partial.set(base, fns);
    }
    const out: unknown[] = [];
    for (const fn of fns) {
      try {
        const result: unknown = fn(input as object, { resource: root });
        if (Array.isArray(result)) out.push(...(result as unknown[]));
      } catch {
        // Defensive: a resource the library cannot evaluate yields no index values.
      }
    }
    return out;
  };
  return {
    evaluate(input, root, sink, base) {
      for (const node of run(input, root, base)) {
        const value = valueOfNode(node);
        if (value !== null && value !== undefined) sink.push(value, fhirTypeOfNode(node));
      }
    },
    nodes(root) {
      const out: PathedValue[] = [];
      for (const node of run(root, root, undefined)) {
        const value = valueOfNode(node);
        const path = isResultNode(node) ? node.path : undefined;
        if (value !== null && value !== undefined) out.push({ value, type: fhirTypeOfNode(node), path: path ?? fhirTypeOfNode(node) });
      }
      return out;
    },
  };
}
