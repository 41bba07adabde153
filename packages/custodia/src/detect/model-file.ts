/**
 * Detection models saved as versioned JSON, each with the feature schema its rows must be
 * encoded with:
 *
 *     { "format": "custodia-detect-model", "version": 1, "kind": "isolation-forest",
 *       "schema": { "id", "version", "features": [...] },
 *       "model": { "width", "subsampleSize", "heightLimit",
 *                  "trees": [{ "feature": [...], "split": [...], "left": [...], "right": [...], "size": [...] }] } }
 *
 * Loading a model file is parsing hostile input: a model can arrive from another site,
 * an upload or a tampered disk. Everything is checked before use — a size limit before
 * decoding, strict UTF-8, JSON syntax, exact member sets (no unknown or missing member,
 * so a `__proto__` member is refused too), the format version, the types and ranges of
 * every number, and then each tree's structure (isolation-tree-check.ts) — and any
 * failure is the typed `model-invalid`, never a crash, never a partly loaded model.
 * Duplicate member names are not looked for: nothing compares a model file's bytes with
 * another reading of them (as the ledger's signed files are), and every member's value is
 * checked whichever duplicate JSON.parse keeps.
 */
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { parseFeatureSchema, type FeatureSchema } from './feature-schema.js';
import { FOREST_LIMITS, IsolationForest } from './isolation-forest.js';
import type { IsolationTreeArrays } from './isolation-tree.js';

export const MODEL_FORMAT = 'custodia-detect-model';
export const MODEL_FORMAT_VERSION = 1;

/** A trained model and the schema of the rows it scores. */
export interface IsolationForestModel {
  readonly kind: 'isolation-forest';
  readonly schema: FeatureSchema;
  readonly forest: IsolationForest;
}

export type DetectionModel = IsolationForestModel;

export interface ModelFileLimits {
  /** The largest file accepted, in bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** The most tree nodes accepted over all trees (default 4,000,000). */
  readonly maxNodes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_NODES = 4_000_000;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TREE_KEYS = ['feature', 'split', 'left', 'right', 'size'] as const;

function invalid(message: string, cause?: unknown): CustodiaError {
  return new CustodiaError('model-invalid', `Invalid model file: ${message}`, cause === undefined ? {} : { cause });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exactKeys(v: unknown, keys: readonly string[], where: string): Record<string, unknown> {
  if (!isRecord(v)) throw invalid(`${where} is not an object`);
  const have = Object.keys(v);
  if (have.length !== keys.length || !have.every((k) => keys.includes(k))) throw invalid(`${where} must have exactly the members ${keys.join(', ')}`);
  return v;
}

function positiveInteger(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalid(`${where} must be a positive integer`);
  return v;
}

/** An array of integers in [min, 2^31) as an Int32Array. */
function int32s(v: unknown, min: number, where: string): Int32Array {
  if (!Array.isArray(v)) throw invalid(`${where} is not an array`);
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > 0x7fffffff) throw invalid(`${where}[${i}] must be an integer of at least ${min}`);
    out[i] = x;
  }
  return out;
}

function finites(v: unknown, where: string): Float64Array {
  if (!Array.isArray(v)) throw invalid(`${where} is not an array`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw invalid(`${where}[${i}] must be a finite number`);
    out[i] = x;
  }
  return out;
}

function parseTree(v: unknown, t: number): IsolationTreeArrays {
  const tree = exactKeys(v, TREE_KEYS, `tree ${t}`);
  return {
    feature: int32s(tree['feature'], -1, `tree ${t} feature`),
    split: finites(tree['split'], `tree ${t} split`),
    left: int32s(tree['left'], -1, `tree ${t} left`),
    right: int32s(tree['right'], -1, `tree ${t} right`),
    size: int32s(tree['size'], 1, `tree ${t} size`),
  };
}

function decode(input: string | Uint8Array, maxBytes: number): unknown {
  let text: string;
  if (typeof input === 'string') {
    // A UTF-16 code unit is at least one UTF-8 byte: longer than maxBytes units is too large.
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) throw invalid(`it is larger than ${maxBytes} bytes`);
    text = input;
  } else {
    if (input.byteLength > maxBytes) throw invalid(`it is larger than ${maxBytes} bytes`);
    try {
      text = UTF8.decode(input);
    } catch {
      throw invalid('it is not UTF-8');
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw invalid('it is not JSON');
  }
}

function parseModel(value: unknown, maxNodes: number): DetectionModel {
  if (!isRecord(value) || value['format'] !== MODEL_FORMAT) throw invalid(`it is not a ${MODEL_FORMAT} file`);
  if (value['version'] !== MODEL_FORMAT_VERSION) throw invalid(`format version ${MODEL_FORMAT_VERSION} is the only one supported`);
  if (value['kind'] !== 'isolation-forest') throw invalid('the model kind is not supported');
  const file = exactKeys(value, ['format', 'version', 'kind', 'schema', 'model'], 'the file');
  const schema = parseFeatureSchema(file['schema']);
  const model = exactKeys(file['model'], ['width', 'subsampleSize', 'heightLimit', 'trees'], 'the model');
  const width = positiveInteger(model['width'], 'width');
  if (width !== schema.features.length) throw invalid('the model width is not the number of schema features');
  const trees = model['trees'];
  if (!Array.isArray(trees) || trees.length < 1 || trees.length > FOREST_LIMITS.trees) throw invalid(`trees must be an array of 1 to ${FOREST_LIMITS.trees} trees`);
  let nodes = 0;
  for (const tree of trees) {
    nodes += isRecord(tree) && Array.isArray(tree['feature']) ? tree['feature'].length : 0;
    if (nodes > maxNodes) throw invalid(`the trees hold more than ${maxNodes} nodes`);
  }
  const params = { width, subsampleSize: positiveInteger(model['subsampleSize'], 'subsampleSize'), heightLimit: positiveInteger(model['heightLimit'], 'heightLimit') };
  // The constructor checks every tree's structure before it flattens any.
  const forest = new IsolationForest(params, trees.map(parseTree));
  return Object.freeze({ kind: 'isolation-forest', schema, forest });
}

/**
 * Reads a model file (text or bytes). Throws `model-invalid` for anything but a
 * well-formed, supported, structurally sound model no larger than the limits.
 *
 * @example
 *   const { schema, forest } = parseModelFile(readFileSync('model.json'));
 *   if (!sameFeatureSchema(schema, NSL_KDD_SCHEMA)) throw …;
 */
export function parseModelFile(input: string | Uint8Array, limits: ModelFileLimits = {}): DetectionModel {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxNodes = limits.maxNodes ?? DEFAULT_MAX_NODES;
  try {
    return parseModel(decode(input, maxBytes), maxNodes);
  } catch (e) {
    if (isCustodiaError(e)) throw e.code === 'model-invalid' ? e : invalid(e.message, e);
    throw invalid('it could not be read', e); // a check we did not foresee: still typed, never a crash
  }
}

/**
 * The model file of a trained model: deterministic JSON (members in a fixed order; every
 * double written so that it parses back to the same double).
 *
 * @example
 *   writeFileSync('model.json', formatModelFile({ kind: 'isolation-forest', schema: NSL_KDD_SCHEMA, forest }));
 */
export function formatModelFile(model: DetectionModel): string {
  const { schema, forest } = model;
  if (forest.params.width !== schema.features.length) throw new RangeError('the forest width is not the number of schema features');
  return JSON.stringify({
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    kind: model.kind,
    schema: { id: schema.id, version: schema.version, features: schema.features },
    model: {
      width: forest.params.width,
      subsampleSize: forest.params.subsampleSize,
      heightLimit: forest.params.heightLimit,
      trees: forest.trees.map((t) => Object.fromEntries(TREE_KEYS.map((k) => [k, Array.from(t[k])]))),
    },
  });
}
