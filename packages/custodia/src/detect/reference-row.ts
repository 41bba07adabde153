/**
 * The reference row of Shapley explanations (shapley-explanation.ts): one value per
 * feature of a schema, encoded as rows are (feature-schema.ts: a category as its vocabulary
 * index, a `log1p` feature as ln(1 + x)), that stands for normal traffic. An alert's score
 * is shared among the features where it differs from the reference.
 *
 * - {@link normalReferenceRow} computes one from rows of normal traffic: each numeric
 *   feature's median (of the encoded value; ln(1 + x) is monotone, so that is ln(1 + the
 *   median)), and each categorical feature's most frequent category (the lowest index on a
 *   tie) — the median of category indices would be a category chosen by the vocabulary's
 *   order, not by the traffic.
 * - {@link parseReferenceRow} reads one from a file that arrived with an imported model (the
 *   ONNX sidecar): attacker-controlled, so every value is checked before a row is built.
 */
import type { FeatureMatrix } from './feature-encoder.js';
import type { FeatureSchema } from './feature-schema.js';
import type { Refusal } from './model-json-checks.js';

/** The largest finite float32: a reference value must survive a float32 input tensor. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A reference row from `value` (hostile: from a sidecar), refused through `refuse` unless it
 * is an array of one finite number per feature of `schema` that a float32 input can hold,
 * each categorical one the index of a category of the vocabulary.
 *
 * @example
 *   parseReferenceRow([0, 1, 20, 9, 5.4, …], NSL_KDD_SCHEMA, invalid); // Float64Array(39)
 */
export function parseReferenceRow(value: unknown, schema: FeatureSchema, refuse: Refusal): Float64Array {
  const w = schema.features.length;
  if (!Array.isArray(value) || value.length !== w) throw refuse(`reference must be an array of ${w} numbers, one per feature of schema ${schema.id}`);
  const row = new Float64Array(w);
  for (let f = 0; f < w; f++) {
    const v: unknown = value[f];
    const spec = schema.features[f]!;
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) throw refuse(`reference ${f} (${spec.name}) must be a finite number a float32 can hold`);
    if (spec.kind === 'categorical' && !(Number.isInteger(v) && v >= 0 && v < spec.vocabulary.length)) throw refuse(`reference ${f} (${spec.name}) must be the index of one of its ${spec.vocabulary.length} categories`);
    row[f] = v;
  }
  return row;
}

function median(values: Float64Array): number {
  values.sort();
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

function mostFrequent(values: Float64Array): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = -1;
  let bestCount = 0;
  for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v < best)) [best, bestCount] = [v, c];
  return best;
}

/**
 * The reference row of `matrix`, rows of normal traffic encoded under `schema`.
 *
 * @example
 *   const reference = normalReferenceRow(NSL_KDD_SCHEMA, selectRows(matrix, normalRows));
 */
export function normalReferenceRow(schema: FeatureSchema, matrix: FeatureMatrix): Float64Array {
  const w = schema.features.length;
  if (matrix.width !== w) throw new RangeError(`rows of ${matrix.width} features; schema ${schema.id} has ${w}`);
  if (matrix.rows === 0) throw new RangeError('a reference row needs at least one normal row');
  const column = new Float64Array(matrix.rows);
  return Float64Array.from(schema.features, (spec, f) => {
    for (let r = 0; r < matrix.rows; r++) column[r] = matrix.data[r * w + f]!;
    return spec.kind === 'categorical' ? mostFrequent(column) : median(column);
  });
}
