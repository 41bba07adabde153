/**
 * The sidecar of an imported ONNX model (`model.onnx.json` beside `model.onnx`): what an
 * ONNX file cannot say about itself — which of our feature schemas its input columns are,
 * in which order, which output is the attack score, and where the alert threshold is.
 *
 *     { "format": "custodia-onnx-sidecar", "version": 1,
 *       "schema": { "id": "nsl-kdd", "version": 1 },
 *       "features": ["duration", "protocol_type", …],     (the schema's names, in its order)
 *       "input": "X",                                       (the model's input tensor)
 *       "output": { "name": "probabilities", "normalColumn": 0 },   (or "classes": […])
 *       "threshold": 0.5,
 *       "reference": [0, 1, 20, 9, 5.4, …] }               (optional: one value per feature)
 *
 * Rows are encoded exactly as for our own models (feature-schema.ts: categorical values as
 * vocabulary indices, `log1p` features as ln(1 + x)), so the model must have been trained
 * on rows encoded that way. The output is a [rows, classes] tensor of class probabilities;
 * the score of a row is 1 − its `normalColumn` probability (the probability of any attack),
 * and a row is an attack when its score is above `threshold`. Instead of `normalColumn`, the
 * output may name every column's class (`classes`: unique, printable, `normal` exactly once,
 * never `unknown`, one per column): the normal column is then `normal`'s, and an attack is
 * named after its most probable attack class; without names, attacks are `unknown`.
 *
 * `reference`, when present, is the row alerts are explained against (reference-row.ts,
 * shapley-explanation.ts): one value per feature, encoded as rows are — for instance
 * each numeric feature's median and each category's most frequent value over the normal
 * rows the model was trained on. Without it the model's alerts cannot be explained.
 *
 * The sidecar is hostile input like the model (it arrives with it): size-limited, strict
 * UTF-8 and JSON, exact members, and every value checked; any failure is `model-invalid`.
 */
import { CustodiaError } from '../kernel/index.js';
import { NORMAL_CLASS, UNKNOWN_CLASS } from './detection-model.js';
import type { FeatureSchema } from './feature-schema.js';
import { schemaForFormat } from './flow-features.js';
import { FLOW_FORMATS } from './flow-record.js';
import { decodeJsonFile, exactKeys, isRecord } from './model-json-checks.js';
import { parseReferenceRow } from './reference-row.js';

export const ONNX_SIDECAR_FORMAT = 'custodia-onnx-sidecar';
export const ONNX_SIDECAR_VERSION = 1;
/** The largest sidecar accepted (a schema of 1,024 names fits in far less). */
export const MAX_ONNX_SIDECAR_BYTES = 256 * 1024;

export interface OnnxSidecar {
  /** Our schema the model's input columns are, in order. */
  readonly schema: FeatureSchema;
  /** The name of the model's input tensor ([rows, features]). */
  readonly input: string;
  /** The name of the output tensor of class probabilities ([rows, classes]). */
  readonly output: string;
  /** The output column holding P(normal). */
  readonly normalColumn: number;
  /** The class of each output column, when the sidecar names them (`normal` among them). */
  readonly classes?: readonly string[];
  /** A row is an attack when 1 − P(normal) is above this; in (0, 1). */
  readonly threshold: number;
  /** The row alerts are explained against (encoded, the schema's width), when the sidecar gives one. */
  readonly reference?: Float64Array;
}

// ONNX value names are free text; ours are printable and short so that an error can name them.
const TENSOR_NAME = /^[\x21-\x7e]{1,128}$/;
// Class names reach CSV files and findings: printable, no spaces, short.
const CLASS_NAME = /^[\x21-\x7e]{1,64}$/;
const MAX_CLASSES = 1024;

function invalid(message: string): CustodiaError {
  return new CustodiaError('model-invalid', `Invalid ONNX sidecar: ${message}`);
}

function tensorName(v: unknown, where: string): string {
  if (typeof v !== 'string' || !TENSOR_NAME.test(v)) throw invalid(`${where} must be 1 to 128 printable ASCII characters`);
  return v;
}

function parseSchema(v: Record<string, unknown>): FeatureSchema {
  const ref = exactKeys(v['schema'], ['id', 'version'], 'schema', invalid);
  const schema = FLOW_FORMATS.map(schemaForFormat).find((s) => s.id === ref['id']);
  if (schema === undefined) throw invalid(`schema.id must be one of ${FLOW_FORMATS.map((f) => schemaForFormat(f).id).join(', ')}`);
  if (ref['version'] !== schema.version) throw invalid(`schema ${schema.id} is at version ${schema.version}`);
  const features = v['features'];
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'string')) throw invalid('features must be an array of feature names');
  if (features.length !== schema.features.length) throw invalid(`it names ${features.length} features; schema ${schema.id} has ${schema.features.length}`);
  const at = schema.features.findIndex((f, i) => f.name !== features[i]);
  if (at >= 0) throw invalid(`feature ${at} must be ${schema.features[at]!.name} (the features are the schema's, in its order)`);
  return schema;
}

/** The output's classes (hostile: from the sidecar), one per column, `normal` exactly once. */
function parseClasses(v: unknown): readonly string[] {
  if (!Array.isArray(v) || v.length < 2 || v.length > MAX_CLASSES) throw invalid(`output.classes must be an array of 2 to ${MAX_CLASSES} class names`);
  if (!v.every((c): c is string => typeof c === 'string' && CLASS_NAME.test(c))) throw invalid('output.classes must be 1 to 64 printable ASCII characters each');
  if (new Set(v).size !== v.length) throw invalid('output.classes must be unique');
  if (!v.includes(NORMAL_CLASS)) throw invalid(`output.classes must include ${NORMAL_CLASS}`);
  if (v.includes(UNKNOWN_CLASS)) throw invalid(`output.classes must not include ${UNKNOWN_CLASS} (the name of an alert no class names)`);
  return Object.freeze([...v]);
}

/** The output: its name, and either its normal column or every column's class. */
function parseOutput(v: unknown): Pick<OnnxSidecar, 'output' | 'normalColumn' | 'classes'> {
  const named = isRecord(v) && Object.hasOwn(v, 'classes');
  const out = exactKeys(v, ['name', named ? 'classes' : 'normalColumn'], 'output', invalid);
  const output = tensorName(out['name'], 'output.name');
  if (named) {
    const classes = parseClasses(out['classes']);
    return { output, normalColumn: classes.indexOf(NORMAL_CLASS), classes };
  }
  const normalColumn = out['normalColumn'];
  if (typeof normalColumn !== 'number' || !Number.isInteger(normalColumn) || normalColumn < 0 || normalColumn > 1023) throw invalid('output.normalColumn must be an integer from 0 to 1023');
  return { output, normalColumn };
}

/**
 * Reads a sidecar. Throws `model-invalid` for anything but a well-formed one naming one of
 * our flow schemas with its features in order.
 *
 * @example
 *   const sidecar = parseOnnxSidecar(readFileSync('model.onnx.json'));
 *   sidecar.schema.id; // 'nsl-kdd'
 */
export function parseOnnxSidecar(bytes: Uint8Array): OnnxSidecar {
  const v = decodeJsonFile(bytes, MAX_ONNX_SIDECAR_BYTES, invalid);
  if (!isRecord(v) || v['format'] !== ONNX_SIDECAR_FORMAT) throw invalid(`it is not a ${ONNX_SIDECAR_FORMAT} file`);
  if (v['version'] !== ONNX_SIDECAR_VERSION) throw invalid(`format version ${ONNX_SIDECAR_VERSION} is the only one supported`);
  const members = ['format', 'version', 'schema', 'features', 'input', 'output', 'threshold'];
  const file = exactKeys(v, Object.hasOwn(v, 'reference') ? [...members, 'reference'] : members, 'the sidecar', invalid);
  const schema = parseSchema(file);
  const input = tensorName(file['input'], 'input');
  const output = parseOutput(file['output']);
  const threshold = file['threshold'];
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) throw invalid('threshold must be a number in (0, 1)');
  const reference = Object.hasOwn(file, 'reference') ? { reference: parseReferenceRow(file['reference'], schema, invalid) } : {};
  return Object.freeze({ schema, input, ...output, threshold, ...reference });
}
