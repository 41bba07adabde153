/**
 * A model as versioned JSON, and back. The file is `{"format": "custodia-gbdt",
 * "version": 1, …}` with each tree as parallel arrays, so a model trained here can be read
 * (and audited) anywhere, and JSON numbers round-trip doubles exactly: a reloaded model
 * scores bit for bit as the original.
 *
 * A model file is attacker-controlled input: it may come from another host, a share, an
 * upload. It is parsed defensively and refused whole (`model-invalid`) unless every shape,
 * bound and cross-reference checks out, so that scoring can then run without checks:
 * exact key sets, finite numbers, array lengths, feature indexes in range, children
 * numbered after their parent and each node with one parent (no cycles, no sharing, all
 * reachable), counts adding up, and size limits on trees and nodes.
 */
import { CustodiaError } from '../kernel/index.js';
import { GbdtModel } from './gbdt-model.js';
import { outputsOf, type ObjectiveName } from './gbdt-objective.js';
import type { GbdtTree } from './gbdt-tree.js';
import { checkTreeLinks } from './tree-links.js';

export const GBDT_FORMAT = 'custodia-gbdt';
export const GBDT_VERSION = 1;

/** Limits on what a model file may ask us to allocate. */
const MAX_FEATURES = 100_000;
const MAX_CLASSES = 65_536;
const MAX_TREES = 1_000_000;
const MAX_TREE_NODES = 2 * 65_536 - 1;
const MAX_TOTAL_NODES = 4_000_000;
const MAX_NAME_LENGTH = 256;

export interface GbdtTreeJson {
  readonly feature: number[];
  readonly threshold: number[];
  readonly left: number[];
  readonly right: number[];
  readonly defaultLeft: number[];
  readonly value: number[];
  readonly count: number[];
  readonly gain: number[];
}

export interface GbdtModelJson {
  readonly format: typeof GBDT_FORMAT;
  readonly version: typeof GBDT_VERSION;
  readonly objective: ObjectiveName;
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly featureNames: string[] | null;
  readonly initScore: number[];
  readonly trees: GbdtTreeJson[];
}

const TREE_KEYS = ['feature', 'threshold', 'left', 'right', 'defaultLeft', 'value', 'count', 'gain'] as const;
const MODEL_KEYS = ['format', 'version', 'objective', 'numClasses', 'numFeatures', 'featureNames', 'initScore', 'trees'] as const;

/**
 * The JSON form of a model.
 *
 * @example
 *   writeFileSync('model.json', JSON.stringify(gbdtModelToJson(model)));
 */
export function gbdtModelToJson(model: GbdtModel): GbdtModelJson {
  return {
    format: GBDT_FORMAT,
    version: GBDT_VERSION,
    objective: model.objective,
    numClasses: model.numClasses,
    numFeatures: model.numFeatures,
    featureNames: model.featureNames === null ? null : [...model.featureNames],
    initScore: [...model.initScore],
    trees: model.trees.map((t) => ({
      feature: [...t.feature],
      threshold: [...t.threshold],
      left: [...t.left],
      right: [...t.right],
      defaultLeft: [...t.defaultLeft],
      value: [...t.value],
      count: [...t.count],
      gain: [...t.gain],
    })),
  };
}

/**
 * Parses a model file's text. Hostile input: see the file comment; anything off throws
 * `model-invalid` naming where (never echoing values).
 *
 * @example
 *   const model = parseGbdtModel(readFileSync('model.json', 'utf8'));
 */
export function parseGbdtModel(text: string): GbdtModel {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CustodiaError('model-invalid', 'The model file is not JSON', { cause: e });
  }
  return gbdtModelFromJson(value);
}

/** Checks an already-parsed JSON value (hostile: from outside) and builds the model. */
export function gbdtModelFromJson(value: unknown): GbdtModel {
  const o = record(value, MODEL_KEYS, '$');
  if (o['format'] !== GBDT_FORMAT) throw invalid('$.format', `is not "${GBDT_FORMAT}"`);
  if (o['version'] !== GBDT_VERSION) throw invalid('$.version', `is not a supported version (this build reads ${GBDT_VERSION})`);
  const objective = o['objective'];
  if (objective !== 'binary' && objective !== 'multiclass') throw invalid('$.objective', 'is not binary or multiclass');
  const numClasses = integer(o['numClasses'], '$.numClasses', 2, MAX_CLASSES);
  if (objective === 'binary' && numClasses !== 2) throw invalid('$.numClasses', 'must be 2 for the binary objective');
  const numFeatures = integer(o['numFeatures'], '$.numFeatures', 1, MAX_FEATURES);
  const featureNames = o['featureNames'] === null ? null : names(o['featureNames'], numFeatures);
  const outputs = outputsOf(objective, numClasses);
  const initScore = Float64Array.from(numbers(o['initScore'], '$.initScore', outputs));
  const treesValue = o['trees'];
  if (!Array.isArray(treesValue) || treesValue.length === 0 || treesValue.length > MAX_TREES) throw invalid('$.trees', `must be an array of 1 to ${MAX_TREES} trees`);
  if (treesValue.length % outputs !== 0) throw invalid('$.trees', `must hold whole rounds (a multiple of ${outputs} trees)`);
  let totalNodes = 0;
  const trees = treesValue.map((t: unknown, i: number) => {
    const tree = parseTree(t, `$.trees[${i}]`, numFeatures);
    totalNodes += tree.feature.length;
    if (totalNodes > MAX_TOTAL_NODES) throw invalid('$.trees', `hold more than ${MAX_TOTAL_NODES} nodes in all`);
    return tree;
  });
  return new GbdtModel({ objective, numClasses, numFeatures, featureNames, initScore, trees });
}

function parseTree(input: unknown, at: string, numFeatures: number): GbdtTree {
  const t = record(input, TREE_KEYS, at);
  const featureValue = t['feature'];
  if (!Array.isArray(featureValue) || featureValue.length < 1 || featureValue.length > MAX_TREE_NODES) throw invalid(`${at}.feature`, `must be an array of 1 to ${MAX_TREE_NODES} nodes`);
  const n = featureValue.length;
  const feature = Int32Array.from(featureValue, (f: unknown, i) => integer(f, `${at}.feature[${i}]`, -1, numFeatures - 1));
  const threshold = Float64Array.from(numbers(t['threshold'], `${at}.threshold`, n));
  const left = Int32Array.from(integers(t['left'], `${at}.left`, n, -1, n - 1));
  const right = Int32Array.from(integers(t['right'], `${at}.right`, n, -1, n - 1));
  const defaultLeft = Uint8Array.from(integers(t['defaultLeft'], `${at}.defaultLeft`, n, 0, 1));
  const value = Float64Array.from(numbers(t['value'], `${at}.value`, n));
  const count = Float64Array.from(integers(t['count'], `${at}.count`, n, 1, Number.MAX_SAFE_INTEGER));
  const gain = Float64Array.from(numbers(t['gain'], `${at}.gain`, n));
  for (let i = 0; i < n; i++) {
    if (feature[i]! < 0 && (left[i] !== -1 || right[i] !== -1 || threshold[i] !== 0 || defaultLeft[i] !== 0 || gain[i] !== 0)) throw invalid(`${at} node ${i}`, 'is a leaf with children, a threshold, a default side or a gain');
  }
  checkTreeLinks(feature, left, right, (i, problem) => invalid(`${at} node ${i}`, problem));
  for (let i = 0; i < n; i++) {
    if (feature[i]! >= 0 && count[left[i]!]! + count[right[i]!]! !== count[i]) throw invalid(`${at}.count[${i}]`, "is not the sum of its children's");
  }
  return Object.freeze({ feature, threshold, left, right, defaultLeft, value, count, gain });
}

function record(value: unknown, keys: readonly string[], at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(at, 'is not an object');
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw invalid(at, 'is not a plain object');
  const present = Object.keys(value);
  if (present.length !== keys.length || !keys.every((k) => Object.hasOwn(value, k))) throw invalid(at, `must have exactly the members ${keys.join(', ')}`);
  return value as Record<string, unknown>;
}

function numbers(value: unknown, at: string, length: number): number[] {
  if (!Array.isArray(value) || value.length !== length) throw invalid(at, `must be an array of ${length} numbers`);
  for (let i = 0; i < length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${at}[${i}]`, 'is not a finite number');
  }
  return value as number[];
}

function integers(value: unknown, at: string, length: number, min: number, max: number): number[] {
  if (!Array.isArray(value) || value.length !== length) throw invalid(at, `must be an array of ${length} integers`);
  for (let i = 0; i < length; i++) integer(value[i], `${at}[${i}]`, min, max);
  return value as number[];
}

function integer(value: unknown, at: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(at, `is not an integer from ${min} to ${max}`);
  return value;
}

function names(value: unknown, length: number): string[] {
  if (!Array.isArray(value) || value.length !== length) throw invalid('$.featureNames', `must be null or an array of ${length} names`);
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NAME_LENGTH) throw invalid(`$.featureNames[${i}]`, `is not a name of 1 to ${MAX_NAME_LENGTH} characters`);
  });
  return value as string[];
}

function invalid(at: string, problem: string): CustodiaError {
  return new CustodiaError('model-invalid', `The model file is invalid: ${at} ${problem}`, { issues: [{ diagnostics: `${at} ${problem}` }] });
}
