/**
 * Every alert explains itself (issue 6 §3): the model, the score and the threshold it
 * crossed, the class, and the features that contributed most, with their values as
 * observed (log1p undone, categories by name).
 *
 * - Trees (gbdt, hybrid): TreeSHAP contributions (gbdt-tree-shap.ts) to the raw score of
 *   the named attack class; when the trees call the row normal (a forest-only alert, or
 *   no alert), the features that pushed it away from `normal` most (the most negative
 *   contributions to the normal class's score). Binary models: the attack log-odds.
 * - Random forest (a hybrid's, random-forest.ts): for the same class, each feature's
 *   change of the class's share along the row's paths through the trees (Saabas), in
 *   probability; the forest's half of the supervised probability.
 * - Forest (isolation-forest, hybrid): each feature's share of the row's isolation
 *   (isolation-forest-explain.ts); for a row that departs from a rare value
 *   (rare-values.ts), the features it departs in, with the value normal traffic holds.
 *
 * A model we cannot look inside (an imported ONNX model) explains itself through the same
 * types by Shapley values against a reference row (shapley-explanation.ts).
 */
import { NORMAL_CLASS, type DetectionModel } from './detection-model.js';
import { attackThreshold, className, scoreDetections, scoreThreshold, type DetectionScores } from './detection-scores.js';
import type { FeatureSchema } from './feature-schema.js';
import { denseMatrix } from './gbdt-matrix.js';
import { forestContributions } from './isolation-forest-explain.js';
import { departures } from './rare-values.js';

export interface DetectionFeature {
  readonly feature: string;
  /** As observed: a number (log1p undone) or a category (`unseen` outside the vocabulary). */
  readonly value: number | string;
  /**
   * In the source's units: SHAP (log-odds) for trees, a change of the class's probability
   * for `random-forest`, a share of the isolation for the forest, the feature's Shapley value in the score against the reference row (the
   * values of a row add up to its score minus the reference's) for `shapley`.
   */
  readonly contribution: number;
  readonly source: 'trees' | 'random-forest' | 'forest' | 'shapley';
  /** The reference ("normal") value the row's value was judged against, as observed: the reference row's (shapley), or the rare value it departed from (forest, rare-values.ts). */
  readonly reference?: number | string;
}

export interface DetectionExplanation {
  /** The kind of the scorer (Scorer.kind): one of our model kinds, or `onnx`. */
  readonly model: string;
  readonly score: number;
  readonly threshold: number;
  readonly label: 0 | 1;
  readonly class: string;
  readonly attackProbability?: number;
  /** The trees' cut on {@link attackProbability} (hybrid: a false-positive budget on normal rows, 0.5 at most; gbdt: 0.5). */
  readonly attackThreshold?: number;
  readonly forestScore?: number;
  readonly forestThreshold?: number;
  readonly features: readonly DetectionFeature[];
}

/** The value of feature `f` as observed, from its encoded value. */
export function observedValue(schema: FeatureSchema, f: number, encoded: number): number | string {
  const spec = schema.features[f]!;
  if (spec.kind === 'categorical') return spec.vocabulary[encoded] ?? 'unseen';
  if (spec.transform === 'log1p') return Math.round(Math.expm1(encoded) * 1e6) / 1e6;
  return encoded;
}

/**
 * The (up to) `count` features whose `values` are largest in the direction of `sign`, ties by index; none at 0.
 *
 * @example
 *   topFeatures(Float64Array.of(0.1, -2, 0.3), 1, 5); // [2, 0]
 */
export function topFeatures(values: Float64Array, sign: number, count: number): number[] {
  return Array.from(values, (_, f) => f)
    .filter((f) => sign * values[f]! > 0)
    .sort((a, b) => sign * (values[b]! - values[a]!) || a - b)
    .slice(0, count);
}

/** The `count` features of `values` largest in the direction of `sign`, each with the row's value as observed. */
function topOf(schema: FeatureSchema, row: Float64Array, values: Float64Array, sign: number, count: number, source: DetectionFeature['source']): DetectionFeature[] {
  return topFeatures(values, sign, count).map((f) => ({ feature: schema.features[f]!.name, value: observedValue(schema, f, row[f]!), contribution: values[f]!, source }));
}

function treeFeatures(model: DetectionModel, row: Float64Array, classIndex: number, count: number): DetectionFeature[] {
  if (model.kind === 'isolation-forest') return [];
  const w = model.schema.features.length;
  const outputs = model.gbdt.outputs;
  const phi = model.gbdt.contributions(denseMatrix(row, w), 'tree-shap');
  // Binary: one output, the attack log-odds. Multiclass: the named class's, or away from normal.
  const output = outputs === 1 ? 0 : classIndex > 0 ? classIndex : 0;
  const sign = outputs === 1 || classIndex > 0 ? 1 : -1;
  const slice = phi.subarray(output * (w + 1), output * (w + 1) + w);
  const boosted = topOf(model.schema, row, slice, sign, count, 'trees');
  if (model.kind !== 'hybrid' || model.randomForest === undefined) return boosted;
  // The random forest's share of the same class (normal: what pulled the row away from it).
  const share = model.randomForest.pathContributions(row, classIndex > 0 ? classIndex : 0);
  return [...boosted, ...topOf(model.schema, row, share, classIndex > 0 ? 1 : -1, count, 'random-forest')];
}

function forestFeatures(model: DetectionModel, row: Float64Array, count: number): DetectionFeature[] {
  if (model.kind === 'gbdt') return [];
  // A departure from a rare value (rare-values.ts) is the whole of the forest part's score: those features, equal shares, each with the usual value.
  const departed = model.rareValues !== undefined ? departures(model.rareValues, row, row.length, 0) : [];
  if (departed.length > 0) {
    return departed.slice(0, count).map((x) => ({ feature: model.schema.features[x.feature]!.name, value: observedValue(model.schema, x.feature, row[x.feature]!), contribution: 1 / departed.length, source: 'forest', reference: observedValue(model.schema, x.feature, x.value) }));
  }
  return topOf(model.schema, row, forestContributions(model.forest, row), 1, count, 'forest');
}

/**
 * What every explanation of row `at` of `s` starts with, whatever explains the features:
 * the scorer's kind, the score against its threshold, the label, the class (by the
 * scorer's `className`) and the attack probability when the scores have one.
 *
 * @example
 *   explainedScore(scores, 3, scorer); // { model: 'onnx', score: 0.97, threshold: 0.5, label: 1, class: 'DoS', attackProbability: 0.97 }
 */
export function explainedScore(s: DetectionScores, at: number, scorer: { readonly kind: string; readonly threshold: number; className(index: number): string }): Omit<DetectionExplanation, 'features'> {
  const cls = s.classIndex[at]!;
  return {
    model: scorer.kind,
    score: s.score[at]!,
    threshold: scorer.threshold,
    label: s.label[at] === 1 ? 1 : 0,
    class: cls === 0 ? NORMAL_CLASS : scorer.className(cls),
    ...(s.attackProbability.length > 0 ? { attackProbability: s.attackProbability[at]! } : {}),
  };
}

/**
 * The explanation of one encoded row (`row`, the schema's width), with up to `count`
 * features from each part of the model. `scores` may be passed when already computed
 * for a batch (`at` is then the row's index in it).
 *
 * @example
 *   const e = explainDetection(model, encoder.encode(record) as Float64Array);
 *   e.features[0]; // { feature: 'src_bytes', value: 54540, contribution: 2.1, source: 'trees' }
 */
export function explainDetection(model: DetectionModel, row: Float64Array, count = 5, scores?: DetectionScores, at = 0): DetectionExplanation {
  const w = model.schema.features.length;
  if (row.length !== w) throw new RangeError(`a row has ${w} columns`);
  const s = scores ?? scoreDetections(model, { data: row, rows: 1, width: w });
  const cls = s.classIndex[at]!;
  return {
    ...explainedScore(s, at, { kind: model.kind, threshold: scoreThreshold(model), className: (index) => className(model, index) }),
    ...(model.kind === 'isolation-forest' ? {} : { attackThreshold: attackThreshold(model) }),
    ...(s.forestScore.length > 0 ? { forestScore: s.forestScore[at]! } : {}),
    ...(model.kind === 'hybrid' ? { forestThreshold: model.forestThreshold } : model.kind === 'isolation-forest' ? { forestThreshold: scoreThreshold(model) } : {}),
    features: [...treeFeatures(model, row, cls, count), ...forestFeatures(model, row, count)],
  };
}
