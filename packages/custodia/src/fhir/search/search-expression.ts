/**
 * A search parameter's expression, ready to evaluate: compiled to direct accessors when it is
 * in the compiled subset, else evaluated by the fhirpath library. Composite parameters
 * (FHIR R4 search.html §3.1.1.4.12) evaluate their components on each element the base
 * expression selects.
 */
import type { JsonObject } from '../resource.js';
import type { StaticType } from './element-model.js';
import { compileWithFhirpath, type ValueSink } from './fhirpath-fallback.js';
import { Collector, compileFhirPath, compileFhirPathWith, type CompileContext, type Visitor } from './fhirpath-compiler.js';

export interface SearchAccessor {
  /** False when the fhirpath library evaluates the expression. */
  readonly compiled: boolean;
  /** Evaluates on `input` (the resource itself, or an element of it for composite components). */
  evaluate(input: unknown, root: JsonObject, sink: ValueSink): void;
}

export interface CompositeAccessor {
  /** False when the base or any component falls back to the fhirpath library. */
  readonly compiled: boolean;
  /** Calls `onElement` once per element the base selects, with each component's values. */
  evaluate(root: JsonObject, onElement: (components: readonly Collector[]) => void): void;
}

export interface AccessorOptions {
  /** Use the fhirpath library even where the compiler would do (for tests). */
  readonly forceFallback?: boolean;
}

/** The FHIRPath model path of a position (`Observation.component`), for evaluating with the library. */
function modelPath(t: StaticType): string {
  return t.path === '' ? t.struct : `${t.struct}.${t.path}`;
}

/**
 * Compiles `expression` for `ctx.resourceType`, optionally relative to an element of type `input`.
 *
 * @example compileSearchExpression('Patient.name.family', ctx).evaluate(patient, patient, sink)
 */
export function compileSearchExpression(expression: string, ctx: CompileContext, input?: StaticType, options: AccessorOptions = {}): SearchAccessor {
  if (options.forceFallback !== true) {
    try {
      const compiled = compileFhirPath(expression, ctx, input);
      return { compiled: true, evaluate: compiled.evaluate };
    } catch {
      // Outside the compiled subset: the library evaluates it.
    }
  }
  const fallback = compileWithFhirpath(expression, ctx.isType);
  const base = input === undefined ? undefined : modelPath(input);
  return { compiled: false, evaluate: (value, root, sink) => fallback.evaluate(value, root, sink, base) };
}

/** The sink a composite's base path ends in: each element goes to the components compiled for its type. */
class ElementSink implements ValueSink {
  constructor(readonly onElement: (components: readonly Collector[]) => void) {}
  push(): void {}
}

function evaluateComponents(parts: readonly SearchAccessor[], value: unknown, root: JsonObject): Collector[] {
  return parts.map((p) => {
    const col = new Collector();
    p.evaluate(value, root, col);
    return col;
  });
}

/**
 * Compiles a composite parameter: `base` selects the elements, and each component expression
 * is evaluated on each of them.
 *
 * @example
 *   compileCompositeExpression('Observation.component', ['code', 'value.as(Quantity)'], ctx)
 *     .evaluate(obs, ([codes, quantities]) => …)
 */
export function compileCompositeExpression(base: string, components: readonly string[], ctx: CompileContext, options: AccessorOptions = {}): CompositeAccessor {
  let compiled = true;
  let visitor: Visitor | null = null;
  if (options.forceFallback !== true) {
    try {
      visitor = compileFhirPathWith(base, ctx, undefined, (t) => {
        const parts = components.map((c) => compileSearchExpression(c, ctx, t, options));
        if (parts.some((p) => !p.compiled)) compiled = false;
        return (value, root, out) => (out as ElementSink).onElement(evaluateComponents(parts, value, root));
      });
    } catch {
      visitor = null;
    }
  }
  if (visitor !== null) {
    const run = visitor;
    return { compiled, evaluate: (root, onElement) => run(root, root, new ElementSink(onElement)) };
  }
  // The library selects the elements (with their model paths); components are evaluated on each.
  const selector = compileWithFhirpath(base, ctx.isType);
  const parts = components.map((c) => compileWithFhirpath(c, ctx.isType));
  return {
    compiled: false,
    evaluate(root, onElement) {
      for (const node of selector.nodes(root)) {
        onElement(
          parts.map((p) => {
            const col = new Collector();
            p.evaluate(node.value, root, col, node.path);
            return col;
          }),
        );
      }
    },
  };
}
