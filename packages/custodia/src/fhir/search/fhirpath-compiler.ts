/**
 * Compiles the simple FHIRPath forms that make up the official R4 search expressions into
 * direct property accessors (HL7 FHIRPath N1 §5 navigation, §6.3 types, §5.2 filtering):
 * paths (`Patient.name.family`), unions (`a | b`), choice elements (`Observation.value` →
 * `valueQuantity`, `valueString`, …), `as T` / `.as(T)` / `.ofType(T)`, `.where(resolve() is T)`,
 * `.where(field = 'literal')`, `[n]`, `%resource`, and boolean forms such as
 * `Patient.deceased.exists() and Patient.deceased != false`. Types are tracked statically from
 * the R4 StructureDefinitions, so choice branches and type filters are decided at compile time.
 *
 * Deviations from the fhirpath library, on purpose: `x as T` filters a collection (the library
 * requires a singleton and throws, although the official expressions apply it to repeating
 * elements); `as(DateTime)` is read as FHIR `dateTime` (the library, strictly, matches nothing);
 * union results are not de-duplicated (index rows are).
 */
import type { JsonObject } from '../resource.js';
import type { ElementModel, StaticType } from './element-model.js';
import type { ValueSink } from './fhirpath-fallback.js';
import { parseFhirPath, type FpNode } from './fhirpath-parser.js';
import { resolvedTypeOf } from './reference-target.js';

/** Consumes one input value (of a statically known type) and pushes results downstream. */
export type Visitor = (value: unknown, root: JsonObject, out: ValueSink) => void;
/** Builds the continuation for values of a static type (null: nothing to do for that type). */
export type Next = (t: StaticType) => Visitor | null;

/** The expression uses FHIRPath outside the compiled subset. */
export class NotCompilable extends Error {}

/** A compiled expression. `evaluate(root, root, sink)` for a whole resource. */
export interface CompiledExpression {
  evaluate(input: unknown, root: JsonObject, sink: ValueSink): void;
}

export interface CompileContext {
  readonly model: ElementModel;
  /** The concrete resource type the expression is evaluated on. */
  readonly resourceType: string;
  readonly isType: (t: string) => boolean;
}

/** Collects values (for `[n]`, comparisons and tests). */
export class Collector implements ValueSink {
  values: unknown[] = [];
  types: string[] = [];
  push(value: unknown, type: string): void {
    this.values.push(value);
    this.types.push(type);
  }
}

const PRIMITIVE = /^[a-z]/;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** FHIRPath `DateTime` is the System type; the official expressions mean FHIR `dateTime`. */
function fhirTypeName(name: string): string {
  return name === 'DateTime' ? 'dateTime' : name;
}

/**
 * Compiles `expression` for `ctx.resourceType`, evaluated on values of type `input`
 * (the resource root by default; a composite's element for its components).
 * Throws `NotCompilable` (or `FhirPathSyntaxError`) outside the subset.
 *
 * @example
 *   const c = compileFhirPath("Patient.telecom.where(system='email')", ctx);
 *   c.evaluate(patient, patient, sink); // sink.push({ system: 'email', value: … }, 'ContactPoint')
 */
export function compileFhirPath(expression: string, ctx: CompileContext, input?: StaticType): CompiledExpression {
  const ast = parseFhirPath(expression);
  const start = input ?? ctx.model.rootType(ctx.resourceType);
  if (ast.k === 'and' || ast.k === 'cmp') {
    const test = compileBoolean(ast, start, ctx);
    return {
      evaluate(value, root, sink) {
        const b = test(value, root);
        if (b !== undefined) sink.push(b, 'boolean');
      },
    };
  }
  const visitor = compileNode(ast, start, emitAs, ctx);
  return { evaluate: visitor ?? (() => undefined) };
}

/**
 * Compiles a path expression with a custom last step, called once per static type the path
 * can end on (composites use it to compile their components for each element type).
 */
export function compileFhirPathWith(expression: string, ctx: CompileContext, input: StaticType | undefined, last: Next): Visitor | null {
  const ast = parseFhirPath(expression);
  if (ast.k === 'and' || ast.k === 'cmp') throw new NotCompilable('a boolean expression selects no elements');
  return compileNode(ast, input ?? ctx.model.rootType(ctx.resourceType), last, ctx);
}

/** The terminal step: emit with the static type (a resource's own type for `Resource` elements). */
function emitAs(t: StaticType): Visitor {
  if (t.type === 'Resource') {
    return (v, _root, out) => {
      const rt = isObject(v) ? v['resourceType'] : undefined;
      out.push(v, typeof rt === 'string' ? rt : 'Resource');
    };
  }
  const type = t.type;
  return (v, _root, out) => out.push(v, type);
}

function compileNode(node: FpNode, input: StaticType, next: Next, ctx: CompileContext): Visitor | null {
  switch (node.k) {
    case 'ident':
      return compileIdent(node.name, input, next, ctx);
    case 'var': {
      if (node.name !== 'resource') throw new NotCompilable(`%${node.name}`);
      const cont = next(ctx.model.rootType(ctx.resourceType));
      return cont && ((_v, root, out) => cont(root, root, out));
    }
    case 'member':
      return compileNode(node.target, input, (t) => compileMember(t, node.name, next, ctx), ctx);
    case 'as':
      return compileNode(node.target, input, (t) => compileTypeFilter(t, node.type, next, ctx), ctx);
    case 'call':
      return compileCall(node, input, next, ctx);
    case 'index':
      return compileIndex(node.target, node.index, input, next, ctx);
    case 'union': {
      const parts = node.items.map((item) => compileNode(item, input, next, ctx)).filter((v): v is Visitor => v !== null);
      if (parts.length === 0) return null;
      if (parts.length === 1) return parts[0]!;
      return (v, root, out) => {
        for (const part of parts) part(v, root, out);
      };
    }
    default:
      throw new NotCompilable(`${node.k} is not a path`);
  }
}

function compileIdent(name: string, input: StaticType, next: Next, ctx: CompileContext): Visitor | null {
  const atRoot = input.struct === ctx.resourceType && input.path === '' && input.type === ctx.resourceType;
  if (atRoot && (name === ctx.resourceType || name === 'Resource' || name === 'DomainResource')) {
    // `Resource.meta.lastUpdated`: the common elements are looked up in the `Resource` structure.
    return next(name === ctx.resourceType ? input : { type: ctx.resourceType, struct: 'Resource', path: '' });
  }
  return compileMember(input, name, next, ctx);
}

function compileMember(parent: StaticType, name: string, next: Next, ctx: CompileContext): Visitor | null {
  const branches = ctx.model.children(parent, name);
  if (branches === undefined) throw new NotCompilable(`element ${[parent.struct, parent.path, name].filter((s) => s !== '').join('.')} is not in the model`);
  const keys: string[] = [];
  const conts: Visitor[] = [];
  for (const b of branches) {
    const cont = next(b.type);
    if (cont === null) continue;
    keys.push(b.key);
    conts.push(cont);
  }
  if (keys.length === 0) return null;
  if (keys.length === 1) {
    const key = keys[0]!;
    const cont = conts[0]!;
    return (v, root, out) => {
      if (!isObject(v)) return;
      const x = v[key];
      if (x === undefined || x === null) return;
      if (Array.isArray(x)) {
        for (const item of x) if (item !== null && item !== undefined) cont(item, root, out);
      } else cont(x, root, out);
    };
  }
  return (v, root, out) => {
    if (!isObject(v)) return;
    for (let i = 0; i < keys.length; i++) {
      const x = v[keys[i]!];
      if (x === undefined || x === null) continue;
      const cont = conts[i]!;
      if (Array.isArray(x)) {
        for (const item of x) if (item !== null && item !== undefined) cont(item, root, out);
      } else cont(x, root, out);
    }
  };
}

function compileTypeFilter(t: StaticType, typeName: string, next: Next, ctx: CompileContext): Visitor | null {
  if (t.type === 'Resource') throw new NotCompilable('type test on a resource of unknown type');
  return ctx.model.isA(t.type, fhirTypeName(typeName)) ? next(t) : null;
}

function compileCall(node: Extract<FpNode, { k: 'call' }>, input: StaticType, next: Next, ctx: CompileContext): Visitor | null {
  if (node.target === null) throw new NotCompilable(`${node.name}() outside a path`);
  const arg = node.args[0];
  if ((node.name === 'as' || node.name === 'ofType') && node.args.length === 1 && arg?.k === 'ident') {
    const typeName = arg.name;
    return compileNode(node.target, input, (t) => compileTypeFilter(t, typeName, next, ctx), ctx);
  }
  if (node.name === 'where' && node.args.length === 1 && arg !== undefined) {
    return compileNode(
      node.target,
      input,
      (t) => {
        const test = compilePredicate(arg, t, ctx);
        const cont = next(t);
        return cont && ((v, root, out) => (test(v, root) ? cont(v, root, out) : undefined));
      },
      ctx,
    );
  }
  throw new NotCompilable(`${node.name}() as a path step`);
}

/** `where(resolve() is T)` and `where(field = 'literal')`. */
function compilePredicate(node: FpNode, t: StaticType, ctx: CompileContext): (v: unknown, root: JsonObject) => boolean {
  if (node.k === 'is' && node.target.k === 'call' && node.target.name === 'resolve' && node.target.target === null && node.target.args.length === 0) {
    if (t.type !== 'Reference') throw new NotCompilable('resolve() on a non-Reference');
    const type = node.type;
    const isType = ctx.isType;
    return (v, root) => resolvedTypeOf(v, root, isType) === type;
  }
  if (node.k === 'cmp' && node.op === '=' && node.left.k === 'ident' && node.right.k === 'lit' && typeof node.right.value === 'string') {
    const branches = ctx.model.children(t, node.left.name);
    const only = branches?.length === 1 ? branches[0]! : undefined;
    if (only === undefined || only.key !== node.left.name || !PRIMITIVE.test(only.type.type)) throw new NotCompilable('where() on a non-primitive');
    const key = only.key;
    const literal = node.right.value;
    // FHIRPath `=` on collections: equal only when both hold exactly one equal item.
    return (v) => {
      if (!isObject(v)) return false;
      const x = v[key];
      return Array.isArray(x) ? x.length === 1 && x[0] === literal : x === literal;
    };
  }
  throw new NotCompilable('unsupported where() criterion');
}

/** `path[n]`: the n-th item of the whole collection the path selects. */
function compileIndex(target: FpNode, index: number, input: StaticType, next: Next, ctx: CompileContext): Visitor | null {
  const conts: Visitor[] = [];
  const collect = compileNode(
    target,
    input,
    (t) => {
      const cont = next(t);
      const slot = conts.length;
      conts.push(cont ?? (() => undefined));
      return (v, _root, out) => out.push(v, String(slot));
    },
    ctx,
  );
  if (collect === null) return null;
  return (v, root, out) => {
    const items = new Collector();
    collect(v, root, items);
    if (index < items.values.length) conts[Number(items.types[index])]!(items.values[index], root, out);
  };
}

/** FHIRPath three-valued booleans: undefined is the empty collection. */
type Test = (v: unknown, root: JsonObject) => boolean | undefined;

function compileBoolean(node: FpNode, input: StaticType, ctx: CompileContext): Test {
  if (node.k === 'and') {
    const left = compileBoolean(node.left, input, ctx);
    const right = compileBoolean(node.right, input, ctx);
    return (v, root) => {
      const l = left(v, root);
      if (l === false) return false;
      const r = right(v, root);
      if (r === false) return false;
      return l === true && r === true ? true : undefined;
    };
  }
  if (node.k === 'call' && node.name === 'exists' && node.args.length === 0 && node.target !== null) {
    const path = compileNode(node.target, input, emitAs, ctx);
    return (v, root) => {
      if (path === null) return false;
      const c = new Collector();
      path(v, root, c);
      return c.values.length > 0;
    };
  }
  if (node.k === 'cmp' && node.right.k === 'lit') {
    const path = compileNode(node.left, input, emitAs, ctx);
    const literal = node.right.value;
    const equal = node.op === '=';
    // FHIRPath §6.1 equality: empty → empty; different counts → false; different types → false.
    return (v, root) => {
      if (path === null) return undefined;
      const c = new Collector();
      path(v, root, c);
      if (c.values.length === 0) return undefined;
      const same = c.values.length === 1 && c.values[0] === literal;
      return equal ? same : !same;
    };
  }
  throw new NotCompilable(`unsupported boolean expression ${node.k}`);
}
