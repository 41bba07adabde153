/**
 * A feature schema: the named, typed, ordered inputs of a model, versioned so that a
 * model is only ever scored on rows encoded the way it was trained on. It travels inside
 * every model file, so parsing one is parsing hostile input (see {@link parseFeatureSchema}).
 *
 * - `numeric`: a finite number; `transform: 'log1p'` maps it to ln(1 + x) for
 *   heavy-tailed counts (bytes, durations), so that a split drawn uniformly between a
 *   node's min and max (isolation forest) is not spent on the top decade alone.
 * - `categorical`: a string from a closed vocabulary, encoded as its index; any string
 *   outside the vocabulary is encoded as `vocabulary.length` (one "unseen" code beyond
 *   every known one), so an unknown category is still a value a tree can isolate.
 */
import { CustodiaError } from '../kernel/index.js';

export interface NumericFeature {
  readonly name: string;
  readonly kind: 'numeric';
  readonly transform?: 'log1p';
}

export interface CategoricalFeature {
  readonly name: string;
  readonly kind: 'categorical';
  readonly vocabulary: readonly string[];
}

export type FeatureSpec = NumericFeature | CategoricalFeature;

export interface FeatureSchema {
  /** What the rows describe, e.g. `nsl-kdd`. */
  readonly id: string;
  /** Bumped whenever a feature, its order, transform or vocabulary changes. */
  readonly version: number;
  readonly features: readonly FeatureSpec[];
}

/** Bounds on a schema, so that a hostile model file cannot make us allocate without limit. */
export const SCHEMA_LIMITS = Object.freeze({ features: 1024, vocabulary: 4096, nameLength: 128 });

const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

function invalid(message: string): CustodiaError {
  return new CustodiaError('model-invalid', `Invalid feature schema: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(v: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw invalid(`${where} has an unknown member`);
}

function checkName(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length > SCHEMA_LIMITS.nameLength || !NAME.test(v)) throw invalid(`${where} must be a name of letters, digits, '_', '.' or '-'`);
  return v;
}

function parseFeature(v: unknown, i: number): FeatureSpec {
  const where = `feature ${i}`;
  if (!isRecord(v)) throw invalid(`${where} is not an object`);
  const name = checkName(v['name'], `${where} name`);
  if (v['kind'] === 'numeric') {
    onlyKeys(v, ['name', 'kind', 'transform'], where);
    if (v['transform'] === undefined) return Object.freeze({ name, kind: 'numeric' });
    if (v['transform'] !== 'log1p') throw invalid(`${where} has an unknown transform`);
    return Object.freeze({ name, kind: 'numeric', transform: 'log1p' });
  }
  if (v['kind'] === 'categorical') {
    onlyKeys(v, ['name', 'kind', 'vocabulary'], where);
    const vocabulary = v['vocabulary'];
    if (!Array.isArray(vocabulary) || vocabulary.length === 0 || vocabulary.length > SCHEMA_LIMITS.vocabulary) throw invalid(`${where} needs 1 to ${SCHEMA_LIMITS.vocabulary} categories`);
    const seen = new Set<string>();
    for (const c of vocabulary) {
      if (typeof c !== 'string' || c.length === 0 || c.length > SCHEMA_LIMITS.nameLength) throw invalid(`${where} has a category that is not a short string`);
      if (seen.has(c)) throw invalid(`${where} lists a category twice`);
      seen.add(c);
    }
    return Object.freeze({ name, kind: 'categorical', vocabulary: Object.freeze([...(vocabulary as string[])]) });
  }
  throw invalid(`${where} kind must be 'numeric' or 'categorical'`);
}

/**
 * Checks and freezes a schema. `value` may come from a model file: attacker-controlled,
 * so every member is checked for type, size and uniqueness before use, and anything
 * else is refused with `model-invalid`.
 *
 * @example
 *   const schema = parseFeatureSchema({ id: 'demo', version: 1, features: [{ name: 'bytes', kind: 'numeric', transform: 'log1p' }] });
 */
export function parseFeatureSchema(value: unknown): FeatureSchema {
  if (!isRecord(value)) throw invalid('not an object');
  onlyKeys(value, ['id', 'version', 'features'], 'the schema');
  const id = checkName(value['id'], 'id');
  const version = value['version'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw invalid('version must be a positive integer');
  const features = value['features'];
  if (!Array.isArray(features) || features.length === 0 || features.length > SCHEMA_LIMITS.features) throw invalid(`needs 1 to ${SCHEMA_LIMITS.features} features`);
  const parsed = features.map(parseFeature);
  if (new Set(parsed.map((f) => f.name)).size !== parsed.length) throw invalid('two features have the same name');
  return Object.freeze({ id, version, features: Object.freeze(parsed) });
}

/** The same as {@link parseFeatureSchema}, typed for schemas written in code. */
export function defineFeatureSchema(schema: FeatureSchema): FeatureSchema {
  return parseFeatureSchema(schema);
}

/**
 * True when rows encoded under `a` and `b` mean the same thing: same id, version and
 * features in the same order with the same transforms and vocabularies.
 *
 * @example
 *   if (!sameFeatureSchema(model.schema, NSL_KDD_SCHEMA)) throw …;
 */
export function sameFeatureSchema(a: FeatureSchema, b: FeatureSchema): boolean {
  if (a.id !== b.id || a.version !== b.version || a.features.length !== b.features.length) return false;
  return a.features.every((f, i) => {
    const g = b.features[i]!;
    if (f.name !== g.name || f.kind !== g.kind) return false;
    if (f.kind === 'numeric') return f.transform === (g as NumericFeature).transform;
    const v = (g as CategoricalFeature).vocabulary;
    return f.vocabulary.length === v.length && f.vocabulary.every((c, j) => c === v[j]);
  });
}
