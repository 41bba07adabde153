/**
 * Detection models (detection-model.ts) saved as versioned JSON, each with the feature
 * schema its rows must be encoded with:
 *
 *     { "format": "custodia-detect-model", "version": 1, "kind": "isolation-forest",
 *       "schema": { "id", "version", "features": [...] },
 *       "model": { "width", "subsampleSize", "heightLimit", "trees": [...] },
 *       "threshold": 0.61, "rareValues": [[feature, value], …] }  (both optional)
 *     { …, "kind": "gbdt", "schema", "classes": ["normal", …], "model": <custodia-gbdt JSON> }
 *     { …, "kind": "hybrid", "schema", "classes",
 *       "model": { "gbdt": <custodia-gbdt JSON>, "forest": <forest>, "forestThreshold", "normalQuantile",
 *                  "treesThreshold", "treesQuantile",          (the trees' cut optional: 0.5
 *                  "rareValues": [[feature, value], …],        without it; its quantile optional;
 *                  "randomForest": <random forest> } }         rare values optional: none; the
 *                                                              random forest optional: none)
 *
 * Loading a model file is parsing hostile input: a model can arrive from another site,
 * an upload or a tampered disk. Everything is checked before use — a size limit before
 * decoding, strict UTF-8, JSON syntax, exact member sets (no unknown or missing member,
 * so a `__proto__` member is refused too), the format version and kind, the types and
 * ranges of every number, a node budget over all trees, the class names, and then each
 * tree's structure (isolation-tree-check.ts, gbdt-json.ts) — and any failure is the typed
 * `model-invalid`, never a crash, never a partly loaded model. Duplicate member names are
 * not looked for: nothing compares a model file's bytes with another reading of them (as
 * the ledger's signed files are), and every member's value is checked whichever
 * duplicate JSON.parse keeps.
 */
import { isCustodiaError } from '../kernel/index.js';
import { NORMAL_CLASS, type DetectionModel, type GbdtDetectionModel, type HybridModel, type IsolationForestModel } from './detection-model.js';
import { parseFeatureSchema, type FeatureSchema } from './feature-schema.js';
import { gbdtModelFromJson, gbdtModelToJson } from './gbdt-json.js';
import type { GbdtModel } from './gbdt-model.js';
import { forestFromJson, forestJsonNodes, forestToJson } from './isolation-forest-json.js';
import { randomForestFromJson, randomForestJsonNodes, randomForestToJson } from './random-forest-json.js';
import type { RareValue } from './rare-values.js';
import { decodeJsonFile, exactKeys, finiteNumber, invalidModel, isRecord } from './model-json-checks.js';

export const MODEL_FORMAT = 'custodia-detect-model';
export const MODEL_FORMAT_VERSION = 1;
/** The most classes a supervised model file may name. */
export const MAX_MODEL_CLASSES = 256;

export interface ModelFileLimits {
  /** The largest file accepted, in bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** The most tree nodes accepted over all trees (default 4,000,000). */
  readonly maxNodes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_NODES = 4_000_000;
const HEAD = ['format', 'version', 'kind', 'schema'] as const;
// Class names come from data-set labels ("DoS Hulk", "Web Attack – XSS"): printable, no control characters.
const CLASS_NAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,64}$/u;

function parseClasses(v: unknown): readonly string[] {
  if (!Array.isArray(v) || v.length < 2 || v.length > MAX_MODEL_CLASSES) throw invalidModel(`classes must be an array of 2 to ${MAX_MODEL_CLASSES} names`);
  if (!v.every((c): c is string => typeof c === 'string' && CLASS_NAME.test(c))) throw invalidModel('a class name is not 1 to 64 printable characters');
  if (new Set(v).size !== v.length) throw invalidModel('a class is named twice');
  if (v[0] !== NORMAL_CLASS) throw invalidModel(`class 0 must be ${NORMAL_CLASS}`);
  return Object.freeze([...v]);
}

function parseGbdtPart(v: unknown, schema: FeatureSchema, classes: readonly string[]): GbdtModel {
  const gbdt = gbdtModelFromJson(v);
  if (gbdt.numFeatures !== schema.features.length) throw invalidModel('the trees do not take the schema features');
  if (gbdt.numClasses !== classes.length) throw invalidModel('the trees do not score one output per class');
  if (gbdt.featureNames !== null && !gbdt.featureNames.every((n, i) => n === schema.features[i]!.name)) throw invalidModel('the trees name other features than the schema');
  return gbdt;
}

/**
 * `[[feature, value], …]` (rare-values.ts), hostile like the rest of the file: at most one
 * pair per feature, in increasing feature order, each a numeric feature of the schema and a
 * finite value.
 */
function parseRareValues(v: unknown, schema: FeatureSchema): readonly RareValue[] {
  if (!Array.isArray(v) || v.length > schema.features.length) throw invalidModel('rareValues must be a list of at most one [feature, value] per feature');
  let last = -1;
  return Object.freeze(
    v.map((pair: unknown) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw invalidModel('each of rareValues is [feature, value]');
      const feature = finiteNumber(pair[0], 'a rare-value feature');
      const value = finiteNumber(pair[1], 'a rare value');
      if (!Number.isInteger(feature) || feature <= last || feature >= schema.features.length) throw invalidModel('rare-value features are schema indexes in increasing order');
      if (schema.features[feature]!.kind !== 'numeric') throw invalidModel('a rare-value feature must be numeric');
      last = feature;
      return Object.freeze({ feature, value });
    }),
  );
}

function gbdtNodes(v: unknown): number {
  const trees = isRecord(v) ? v['trees'] : undefined;
  return Array.isArray(trees) ? forestJsonNodes({ trees }) : 0;
}

function parseModel(value: unknown, maxNodes: number): DetectionModel {
  if (!isRecord(value) || value['format'] !== MODEL_FORMAT) throw invalidModel(`it is not a ${MODEL_FORMAT} file`);
  if (value['version'] !== MODEL_FORMAT_VERSION) throw invalidModel(`format version ${MODEL_FORMAT_VERSION} is the only one supported`);
  const kind = value['kind'];
  const budget = (nodes: number): void => {
    if (nodes > maxNodes) throw invalidModel(`the trees hold more than ${maxNodes} nodes`);
  };
  if (kind === 'isolation-forest') {
    const file = exactKeys(value, [...HEAD, 'model', ...['threshold', 'rareValues'].filter((k) => k in value)], 'the file');
    const schema = parseFeatureSchema(file['schema']);
    budget(forestJsonNodes(file['model']));
    const forest = forestFromJson(file['model'], schema.features.length);
    const threshold = file['threshold'] === undefined ? undefined : finiteNumber(file['threshold'], 'threshold');
    // Files written before the rare values were kept have none: the forest alone, as it was.
    const rareValues = file['rareValues'] === undefined ? undefined : parseRareValues(file['rareValues'], schema);
    return Object.freeze({ kind, schema, forest, ...(threshold === undefined ? {} : { threshold }), ...(rareValues === undefined ? {} : { rareValues }) });
  }
  if (kind === 'gbdt') {
    const file = exactKeys(value, [...HEAD, 'classes', 'model'], 'the file');
    const schema = parseFeatureSchema(file['schema']);
    const classes = parseClasses(file['classes']);
    budget(gbdtNodes(file['model']));
    return Object.freeze({ kind, schema, classes, gbdt: parseGbdtPart(file['model'], schema, classes) });
  }
  if (kind === 'hybrid') {
    const file = exactKeys(value, [...HEAD, 'classes', 'model'], 'the file');
    const schema = parseFeatureSchema(file['schema']);
    const classes = parseClasses(file['classes']);
    const optional = isRecord(file['model']) ? ['treesThreshold', 'treesQuantile', 'rareValues', 'randomForest'].filter((k) => k in (file['model'] as object)) : [];
    const model = exactKeys(file['model'], ['gbdt', 'forest', 'forestThreshold', 'normalQuantile', ...optional], 'the model');
    budget(gbdtNodes(model['gbdt']) + forestJsonNodes(model['forest']) + randomForestJsonNodes(model['randomForest']));
    const forestThreshold = finiteNumber(model['forestThreshold'], 'forestThreshold');
    const normalQuantile = finiteNumber(model['normalQuantile'], 'normalQuantile');
    if (forestThreshold <= 0 || forestThreshold > 1) throw invalidModel('forestThreshold must be in (0, 1]');
    if (normalQuantile <= 0 || normalQuantile >= 1) throw invalidModel('normalQuantile must be in (0, 1)');
    // Files written before the trees' cut was kept have none: the trees then cut at 0.5, as they did.
    const treesThreshold = model['treesThreshold'] === undefined ? 0.5 : finiteNumber(model['treesThreshold'], 'treesThreshold');
    if (!(treesThreshold > 0 && treesThreshold <= 0.5)) throw invalidModel('treesThreshold must be in (0, 0.5]');
    const treesQuantile = model['treesQuantile'] === undefined ? undefined : finiteNumber(model['treesQuantile'], 'treesQuantile');
    if (treesQuantile !== undefined && !(treesQuantile > 0 && treesQuantile < 1)) throw invalidModel('treesQuantile must be in (0, 1)');
    if (treesQuantile !== undefined && model['treesThreshold'] === undefined) throw invalidModel('treesQuantile without treesThreshold');
    // Files written before the rare values were kept have none: the forest part is the forest alone, as it was.
    const rareValues = model['rareValues'] === undefined ? undefined : parseRareValues(model['rareValues'], schema);
    const gbdt = parseGbdtPart(model['gbdt'], schema, classes);
    // Files written before the random forest was kept have none: the boosted trees alone, as they were.
    const randomForest = model['randomForest'] === undefined ? undefined : randomForestFromJson(model['randomForest'], classes.length, schema.features.length);
    const forest = forestFromJson(model['forest'], schema.features.length);
    return Object.freeze({ kind, schema, classes, gbdt, ...(randomForest === undefined ? {} : { randomForest }), forest, forestThreshold, normalQuantile, treesThreshold, ...(treesQuantile === undefined ? {} : { treesQuantile }), ...(rareValues === undefined ? {} : { rareValues }) });
  }
  throw invalidModel('the model kind is not supported');
}

/**
 * Reads a model file (text or bytes). Throws `model-invalid` for anything but a
 * well-formed, supported, structurally sound model no larger than the limits.
 *
 * @example
 *   const model = parseModelFile(readFileSync('model.json'));
 *   if (!sameFeatureSchema(model.schema, NSL_KDD_SCHEMA)) throw …;
 */
export function parseModelFile(input: string | Uint8Array, limits: ModelFileLimits = {}): DetectionModel {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxNodes = limits.maxNodes ?? DEFAULT_MAX_NODES;
  try {
    return parseModel(decodeJsonFile(input, maxBytes), maxNodes);
  } catch (e) {
    if (isCustodiaError(e)) throw e.code === 'model-invalid' ? e : invalidModel(e.message, e);
    throw invalidModel('it could not be read', e); // a check we did not foresee: still typed, never a crash
  }
}

function schemaJson(schema: FeatureSchema): Record<string, unknown> {
  return { id: schema.id, version: schema.version, features: schema.features };
}

function checkWidth(width: number, schema: FeatureSchema, what: string): void {
  if (width !== schema.features.length) throw new RangeError(`the ${what} width is not the number of schema features`);
}

function rareValuesJson(model: IsolationForestModel | HybridModel): { rareValues?: number[][] } {
  return model.rareValues === undefined ? {} : { rareValues: model.rareValues.map((r) => [r.feature, r.value]) };
}

function forestFile(model: IsolationForestModel): Record<string, unknown> {
  checkWidth(model.forest.params.width, model.schema, 'forest');
  return { model: forestToJson(model.forest), ...(model.threshold === undefined ? {} : { threshold: model.threshold }), ...rareValuesJson(model) };
}

function supervisedFile(model: GbdtDetectionModel | HybridModel): Record<string, unknown> {
  checkWidth(model.gbdt.numFeatures, model.schema, 'trees');
  if (model.classes.length !== model.gbdt.numClasses || model.classes[0] !== NORMAL_CLASS) throw new RangeError('the classes are not the outputs of the trees, normal first');
  if (model.kind === 'gbdt') return { classes: model.classes, model: gbdtModelToJson(model.gbdt) };
  checkWidth(model.forest.params.width, model.schema, 'forest');
  const trees = { treesThreshold: model.treesThreshold, ...(model.treesQuantile === undefined ? {} : { treesQuantile: model.treesQuantile }) };
  if (model.randomForest !== undefined && (model.randomForest.numClasses !== model.classes.length || model.randomForest.numFeatures !== model.schema.features.length)) throw new RangeError('the random forest does not score the classes from the schema features');
  const randomForest = model.randomForest === undefined ? {} : { randomForest: randomForestToJson(model.randomForest) };
  return { classes: model.classes, model: { gbdt: gbdtModelToJson(model.gbdt), forest: forestToJson(model.forest), forestThreshold: model.forestThreshold, normalQuantile: model.normalQuantile, ...trees, ...rareValuesJson(model), ...randomForest } };
}

/**
 * The model file of a trained model: deterministic JSON (members in a fixed order; every
 * double written so that it parses back to the same double).
 *
 * @example
 *   writeFileSync('model.json', formatModelFile({ kind: 'isolation-forest', schema: NSL_KDD_SCHEMA, forest }));
 */
export function formatModelFile(model: DetectionModel): string {
  const body = model.kind === 'isolation-forest' ? forestFile(model) : supervisedFile(model);
  return JSON.stringify({ format: MODEL_FORMAT, version: MODEL_FORMAT_VERSION, kind: model.kind, schema: schemaJson(model.schema), ...body });
}
