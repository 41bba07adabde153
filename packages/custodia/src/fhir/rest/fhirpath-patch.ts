/**
 * FHIRPath Patch (R4 fhirpatch.html): a Parameters resource of `operation` parameters, each
 * with the parts `type` (add, insert, delete, replace, move), `path` (a FHIRPath
 * expression), and as the type needs `name`, `value`, `index`, `source`, `destination`.
 * The `fhirpath` library evaluates the paths, but only paths that fhirpath-patch-path.ts
 * lets through. The nodes it returns name their parent object, property and index, and
 * the operation edits the parent in place.
 *
 * The Parameters body is hostile input: its shape, its size and every part are checked
 * here before any path is evaluated. Messages name the operation's position and the part,
 * never a value, because values are patient data. Cardinality follows the R4 structure
 * table: `add` appends to a list element and sets a single one that is absent. What the
 * operations leave is then validated as any update body is.
 */
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import { CustodiaError } from '../../kernel/index.js';
import { loadStructureTable, type ElementEntry } from '../validation/structure-table.js';
import { checkPatchPath } from './fhirpath-patch-path.js';
import { countNodes } from './json-extent.js';
import { MAX_PATH_WORK, type PatchAllowance } from './patch-allowance.js';
import { MAX_PATCH_OPERATIONS } from './json-patch.js';

type Json = Record<string, unknown>;

/** One operation, with the walks of the resource its checked path may make (checkPatchPath), which the patch's allowance is spent by. */
export type FhirPathOperation = { readonly path: string; readonly walks: number } & (
  | { readonly type: 'add'; readonly name: string; readonly value: ValuePart }
  | { readonly type: 'insert'; readonly index: number; readonly value: ValuePart }
  | { readonly type: 'delete' }
  | { readonly type: 'replace'; readonly value: ValuePart }
  | { readonly type: 'move'; readonly source: number; readonly destination: number }
);

/** A `value` part: a `value[x]`'s JSON and its type (`Quantity` of valueQuantity), or (for an element of no data type, a backbone element) its named parts. */
export type ValuePart = { readonly json: unknown; readonly type: string } | { readonly parts: readonly (readonly [name: string, value: ValuePart])[] };

const MAX_PARTS = 1000;
/** The parts each operation type takes besides `type` and `path` (fhirpatch.html, the table of operations). */
const PARTS_OF: Readonly<Record<string, readonly string[]>> = { add: ['name', 'value'], insert: ['index', 'value'], delete: [], replace: ['value'], move: ['source', 'destination'] };
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Property names a patch may never write, whatever the path found (the same guard as JSON Patch's). */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

const invalid = (message: string): CustodiaError => new CustodiaError('patch-invalid', message);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `body` is a FHIRPath Patch (a Parameters resource) rather than a JSON Patch. */
export function isFhirPathPatch(body: unknown): boolean {
  return isObject(body) && body['resourceType'] === 'Parameters';
}

/** The `value[x]` of a part, if it has exactly one (`valueString`, `valueHumanName`, …). */
function valueX(part: Json, at: string): { key: string; value: unknown } | undefined {
  const keys = Object.keys(part).filter((k) => /^value[A-Z]/.test(k));
  if (keys.length > 1) throw invalid(`${at} has more than one value[x]`);
  return keys.length === 0 ? undefined : { key: keys[0]!, value: part[keys[0]!] };
}

/** A `value` part: its value[x], or its parts (each named, each a value part in turn). */
function valuePart(part: Json, at: string, budget: { left: number }): ValuePart {
  const x = valueX(part, at);
  const parts = part['part'];
  if (x !== undefined && parts !== undefined) throw invalid(`${at} has both a value[x] and parts`);
  if (x !== undefined) return { json: x.value, type: x.key.slice('value'.length) };
  if (!Array.isArray(parts) || parts.length === 0) throw invalid(`${at} needs a value[x] or parts`);
  return {
    parts: parts.map((p: unknown, n) => {
      if (--budget.left < 0) throw invalid(`The patch has more than ${MAX_PARTS} parts`);
      const where = `${at}.part[${n}]`;
      if (!isObject(p) || typeof p['name'] !== 'string' || !NAME.test(p['name']) || FORBIDDEN.has(p['name'])) throw invalid(`${where} needs an element name`);
      return [p['name'], valuePart(p, where, budget)] as const;
    }),
  };
}

/** Parses the operations of a FHIRPath Patch body (hostile), checking every part and path. */
export function parseFhirPathPatch(body: unknown): FhirPathOperation[] {
  if (!isFhirPathPatch(body)) throw invalid('A FHIRPath Patch is a Parameters resource');
  const params = (body as Json)['parameter'];
  if (!Array.isArray(params) || params.length === 0 || params.length > MAX_PATCH_OPERATIONS) throw invalid(`A FHIRPath Patch holds 1 to ${MAX_PATCH_OPERATIONS} operation parameters`);
  const budget = { left: MAX_PARTS };
  return params.map((param: unknown, n) => {
    const at = `operation ${n}`;
    if (!isObject(param) || param['name'] !== 'operation' || !Array.isArray(param['part'])) throw invalid(`${at} is not a parameter named operation with parts`);
    const parts = new Map<string, Json>();
    for (const p of param['part'] as unknown[]) {
      if (--budget.left < 0) throw invalid(`The patch has more than ${MAX_PARTS} parts`);
      if (!isObject(p) || typeof p['name'] !== 'string') throw invalid(`${at} has a part with no name`);
      if (parts.has(p['name'])) throw invalid(`${at} has more than one ${p['name'].slice(0, 32)} part`);
      parts.set(p['name'], p);
    }
    const text = (name: string, key: string, pattern?: RegExp): string => {
      const v = parts.get(name)?.[key];
      if (typeof v !== 'string' || (pattern !== undefined && !pattern.test(v))) throw invalid(`${at} needs a ${name} part (${key})`);
      return v;
    };
    const integer = (name: string): number => {
      const v = parts.get(name)?.['valueInteger'];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid(`${at} needs a ${name} part (valueInteger, 0 or more)`);
      return v;
    };
    const value = (): ValuePart => {
      const v = parts.get('value');
      if (v === undefined) throw invalid(`${at} needs a value part`);
      return valuePart(v, `${at} value`, budget);
    };
    const type = text('type', 'valueCode');
    const path = text('path', 'valueString');
    const walks = checkPatchPath(path);
    const expected = Object.hasOwn(PARTS_OF, type) ? PARTS_OF[type] : undefined;
    if (expected === undefined) throw invalid(`${at}: type is one of add, insert, delete, replace, move`);
    for (const name of parts.keys()) if (name !== 'type' && name !== 'path' && !expected.includes(name)) throw invalid(`${at}: ${type} takes no ${name.slice(0, 32)} part`);
    switch (type) {
      case 'add': {
        const name = text('name', 'valueString', NAME);
        if (FORBIDDEN.has(name)) throw invalid(`${at} adds an element no FHIR resource has`);
        return { type, path, walks, name, value: value() };
      }
      case 'insert':
        return { type, path, walks, index: integer('index'), value: value() };
      case 'delete':
        return { type, path, walks };
      case 'replace':
        return { type, path, walks, value: value() };
      default:
        return { type: 'move', path, walks, source: integer('source'), destination: integer('destination') };
    }
  });
}

/** What the `fhirpath` library answers with `resolveInternalTypes: false`: a node knows its parent, property and index. */
interface PathNode {
  readonly data: unknown;
  readonly parentResNode: PathNode | null;
  readonly propName: string | null;
  readonly index: number | null;
}

const failed = (n: number, type: string, why: string): CustodiaError => new CustodiaError('patch-failed', `FHIRPath Patch operation ${n} (${type}) failed: ${why}`);

/** The nodes `path` selects in `target` (the path was checked by checkPatchPath). */
function select(target: Json, path: string, n: number, type: string): PathNode[] {
  let out: unknown[];
  try {
    out = fhirpath.evaluate(target, path, undefined, r4Model, { resolveInternalTypes: false }) as unknown[];
  } catch {
    throw invalid(`operation ${n}: its path is not a FHIRPath expression the server can evaluate`);
  }
  return out.map((node) => {
    if (typeof node !== 'object' || node === null || !('parentResNode' in node)) throw failed(n, type, 'its path selects a value, not an element of the resource');
    return node as PathNode;
  });
}

/** The structure-table entry of element `name` of type `type`. */
const entryOf = (type: string, name: string): ElementEntry | undefined => {
  const elements = loadStructureTable().types[type]?.elements;
  return elements !== undefined && Object.hasOwn(elements, name) ? elements[name] : undefined;
};
/** An entry's type name ('' for none; the `@` of primitives without a sibling dropped). */
const typeName = (entry: ElementEntry | undefined): string => (entry === undefined ? '' : entry[0].replace(/^@/, ''));

/**
 * The JSON key that holds element `prop` of `parent` (of type `parentType`): `prop` itself,
 * or for a choice element (`value[x]`, which FHIRPath names `value`) the key of the type
 * present (`valueQuantity`).
 */
function keyOf(parentType: string, parent: Json, prop: string): string {
  if (entryOf(parentType, prop) !== undefined || Object.hasOwn(parent, prop)) return prop;
  return Object.keys(parent).find((k) => entryOf(parentType, k)?.[3] === `${prop}[x]`) ?? prop;
}

/** The R4 type of a node: the resource's type at the root, then its element's type in the structure table ('' when unknown). */
function typeOf(node: PathNode): string {
  const resourceType = isObject(node.data) && typeof node.data['resourceType'] === 'string' ? node.data['resourceType'] : '';
  const parent = node.parentResNode;
  if (parent === null || node.propName === null || !isObject(parent.data)) return resourceType;
  const parentType = typeOf(parent);
  const t = typeName(entryOf(parentType, keyOf(parentType, parent.data, node.propName)));
  return t === 'Resource' ? resourceType : t;
}

/** `prev` (absent, one value, or a list) with `item` appended, as a list. */
function appended(prev: unknown, item: unknown): unknown[] {
  if (Array.isArray(prev)) return [...(prev as unknown[]), item];
  return prev === undefined ? [item] : [prev, item];
}

/** The JSON of a value part; named parts become an object of element `type`, lists where the table says so. */
function jsonOf(value: ValuePart, type: string): unknown {
  if ('json' in value) return structuredClone(value.json);
  const out: Json = {};
  for (const [given, part] of value.parts) {
    const name = 'json' in part ? choiceKey(type, given, part.type) : given;
    const entry = entryOf(type, name);
    const child = jsonOf(part, typeName(entry));
    const list = entry === undefined ? Object.hasOwn(out, name) : entry[2] === '*';
    if (list) out[name] = appended(out[name], child);
    else if (Object.hasOwn(out, name)) throw invalid(`A value gives the single element ${name} more than once`);
    else out[name] = child;
  }
  return out;
}

/** The key for element `name` of `type` given a value of type `valueType`: `value` + `Quantity` where `name` is the choice `value[x]`. */
function choiceKey(type: string, name: string, valueType: string): string {
  if (entryOf(type, name) !== undefined) return name;
  const key = `${name}${valueType}`;
  return entryOf(type, key)?.[3] === `${name}[x]` ? key : name;
}

/** The parent object, its type and the JSON key of a node that sits in the resource (not the root). */
function placeOf(node: PathNode, n: number, type: string): { parent: Json; parentType: string; prop: string; index: number | null } {
  const parentNode = node.parentResNode;
  const parent = parentNode?.data;
  if (parentNode == null || !isObject(parent) || node.propName === null) throw failed(n, type, 'its path selects the resource itself or a value that is not an element');
  const parentType = typeOf(parentNode);
  const prop = keyOf(parentType, parent, node.propName);
  if (FORBIDDEN.has(prop)) throw failed(n, type, 'its path selects a value that is not an element');
  return { parent, parentType, prop, index: node.index };
}

/** The one node of a list element that `path` selects as a whole (insert, move): its parent and the list. */
function listOf(nodes: readonly PathNode[], n: number, type: string): { parent: Json; prop: string; list: unknown[] } {
  if (nodes.length === 0) throw failed(n, type, 'its path selects nothing');
  const first = placeOf(nodes[0]!, n, type);
  const list = first.parent[first.prop];
  const whole = Array.isArray(list) && nodes.length === list.length && nodes.every((x, i) => x.parentResNode?.data === first.parent && x.propName === first.prop && x.index === i);
  if (!whole) throw failed(n, type, 'its path does not select one whole list');
  return { parent: first.parent, prop: first.prop, list: list as unknown[] };
}

/** Removes item `index` of list `prop` (and of its `_prop` sibling, for primitives), and the list when it empties. */
function removeAt(parent: Json, prop: string, index: number): void {
  for (const key of [prop, `_${prop}`]) {
    const list = parent[key];
    if (!Array.isArray(list) || index >= list.length) continue;
    list.splice(index, 1);
    if (list.length === 0 || list.every((x) => x === null)) delete parent[key];
  }
}

/**
 * Applies `operations` in order to `target` in place (a fresh parse of the stored version).
 * The first that fails stops the patch with `patch-failed`, naming its position and why.
 */
export function applyFhirPathPatch(target: Json, operations: readonly FhirPathOperation[], allowance: PatchAllowance): void {
  // Spent before any path is evaluated. Each path walks the resource as the operations before it left it: at most the resource and every value they add.
  const walks = operations.reduce((sum, op) => sum + op.walks, 0);
  const limit = Math.floor(allowance.pathWork / walks);
  const size = operations.reduce((sum, op) => sum + ('value' in op ? countNodes(op.value, limit) : 0), countNodes(target, limit));
  allowance.pathWork -= size * walks;
  if (allowance.pathWork < 0) {
    throw new CustodiaError('patch-failed', `This FHIRPath Patch would walk the resource more than the server allows a request (${MAX_PATH_WORK} elements and values in all, counted as the resource's size times each path's walks); send fewer operations or simpler paths, or a JSON Patch`);
  }
  operations.forEach((op, n) => {
    const nodes = select(target, op.path, n, op.type);
    switch (op.type) {
      case 'add': {
        if (nodes.length !== 1) throw failed(n, op.type, nodes.length === 0 ? 'its path selects nothing' : 'its path selects more than one element');
        const container = nodes[0]!.data;
        if (!isObject(container)) throw failed(n, op.type, 'its path selects a value, not an element that holds others');
        const type = typeOf(nodes[0]!);
        const name = 'json' in op.value ? choiceKey(type, op.name, op.value.type) : op.name;
        const entry = entryOf(type, name);
        const json = jsonOf(op.value, typeName(entry));
        if (entry?.[2] === '*' || Array.isArray(container[name])) container[name] = appended(container[name], json);
        else if (Object.hasOwn(container, name) || keyOf(type, container, op.name) !== op.name) throw failed(n, op.type, `${op.name} already has a value (replace it instead)`);
        else container[name] = json;
        return;
      }
      case 'insert': {
        const { parent, prop, list } = listOf(nodes, n, op.type);
        if (op.index > list.length) throw failed(n, op.type, 'its index is past the end of the list');
        list.splice(op.index, 0, jsonOf(op.value, typeOf(nodes[0]!)));
        const siblings = parent[`_${prop}`];
        if (Array.isArray(siblings)) siblings.splice(op.index, 0, null);
        return;
      }
      case 'delete': {
        // fhirpatch.html: a delete whose path selects nothing is not an error.
        if (nodes.length === 0) return;
        if (nodes.length > 1) throw failed(n, op.type, 'its path selects more than one element');
        const { parent, prop, index } = placeOf(nodes[0]!, n, op.type);
        if (index !== null && Array.isArray(parent[prop])) removeAt(parent, prop, index);
        else {
          delete parent[prop];
          delete parent[`_${prop}`];
        }
        return;
      }
      case 'replace': {
        if (nodes.length !== 1) throw failed(n, op.type, nodes.length === 0 ? 'its path selects nothing' : 'its path selects more than one element');
        const { parent, parentType, prop, index } = placeOf(nodes[0]!, n, op.type);
        const current = parent[prop];
        if (index !== null && Array.isArray(current)) {
          current[index] = jsonOf(op.value, typeOf(nodes[0]!));
          return;
        }
        // A choice element takes the key of the new value's type (valueQuantity → valueString).
        const choice = entryOf(parentType, prop)?.[3];
        const key = choice !== undefined && 'json' in op.value ? choiceKey(parentType, choice.slice(0, -3), op.value.type) : prop;
        if (key !== prop) {
          delete parent[prop];
          delete parent[`_${prop}`];
        }
        parent[key] = jsonOf(op.value, typeName(entryOf(parentType, key)));
        return;
      }
      case 'move': {
        const { parent, prop, list } = listOf(nodes, n, op.type);
        if (op.source >= list.length || op.destination >= list.length) throw failed(n, op.type, 'its source or destination is past the end of the list');
        for (const key of [prop, `_${prop}`]) {
          const items = parent[key];
          if (!Array.isArray(items) || items.length !== list.length) continue;
          const [moved] = items.splice(op.source, 1);
          items.splice(op.destination, 0, moved);
        }
        return;
      }
    }
  });
}
