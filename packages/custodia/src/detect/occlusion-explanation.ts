/**
 * Explanations for a model we cannot look inside (an imported ONNX model), by occlusion:
 * M. D. Zeiler, R. Fergus, "Visualizing and Understanding Convolutional Networks", ECCV
 * 2014, §4.2 — hide part of the input and watch the output fall — over tabular features,
 * with a reference row (reference-row.ts) as what "hidden" means. For an alert row x,
 * scored s(x), and each feature f whose value is not the reference's r_f:
 *
 *     contribution(f) = s(x) − s(x with x_f := r_f)
 *
 * the fall in the score when that feature alone is made normal (features at their
 * reference value contribute 0 and are not scored). The top features are those with the
 * largest positive falls; each is reported with the row's value and the reference value.
 *
 * It needs only `score()`, and is deterministic (no sampling): the perturbed rows of every
 * alert of a batch go through one `score()` call of at most {@link MAX_OCCLUSION_ROWS} rows
 * (more alerts take more calls), so k alerts of a w-feature schema cost at most k·w rows.
 * What it cannot see is interaction: when either of two features alone would keep the row
 * an alert, putting one back moves the score little and both look weak. Shapley values
 * (KernelSHAP, S. M. Lundberg, S.-I. Lee, NeurIPS 2017) share such effects fairly, at the
 * cost of hundreds to thousands of sampled coalitions per row instead of w rows.
 */
import type { DetectionExplanation } from './detection-explanation.js';
import { explainedScore, observedValue, topFeatures } from './detection-explanation.js';
import type { DetectionScores } from './detection-scores.js';
import type { FeatureMatrix } from './feature-encoder.js';
import type { Scorer } from './scorer.js';

/** The most perturbed rows scored in one `score()` call (65,536 rows of 39 doubles: 20 MB). */
export const MAX_OCCLUSION_ROWS = 65_536;

/** What occlusion needs of a scorer. */
export type OcclusionScorer = Pick<Scorer, 'kind' | 'schema' | 'threshold' | 'score' | 'className'>;

/** The perturbed rows of the alerts `rows` of `matrix`, and which (alert, feature) each is. */
function occludedRows(matrix: FeatureMatrix, reference: Float64Array, rows: readonly number[]): { perturbed: FeatureMatrix; alert: Int32Array; feature: Int32Array } {
  const w = matrix.width;
  const alert: number[] = [];
  const feature: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    for (let f = 0; f < w; f++) {
      if (matrix.data[rows[i]! * w + f] === reference[f]) continue;
      alert.push(i);
      feature.push(f);
    }
  }
  const data = new Float64Array(alert.length * w);
  for (let k = 0; k < alert.length; k++) {
    const r = rows[alert[k]!]!;
    data.set(matrix.data.subarray(r * w, (r + 1) * w), k * w);
    data[k * w + feature[k]!] = reference[feature[k]!]!;
  }
  return { perturbed: { data, rows: alert.length, width: w }, alert: Int32Array.from(alert), feature: Int32Array.from(feature) };
}

function explanation(scorer: OcclusionScorer, reference: Float64Array, row: Float64Array, contribution: Float64Array, scores: DetectionScores, at: number, count: number): DetectionExplanation {
  const { schema } = scorer;
  return {
    ...explainedScore(scores, at, scorer),
    features: topFeatures(contribution, 1, count).map((f) => ({
      feature: schema.features[f]!.name,
      value: observedValue(schema, f, row[f]!),
      reference: observedValue(schema, f, reference[f]!),
      contribution: contribution[f]!,
      source: 'occlusion' as const,
    })),
  };
}

/**
 * Explains every alert (label 1) of `scores`, the scorer's scores of `matrix`, by occlusion
 * against `reference`, with up to `count` features each; `undefined` for the other rows.
 *
 * @example
 *   const scores = await scorer.score(matrix);
 *   const e = await explainByOcclusion(scorer, reference, matrix, scores, 5);
 *   e[3]?.features[0]; // { feature: 'src_bytes', value: 54540, reference: 230, contribution: 0.41, source: 'occlusion' }
 */
export async function explainByOcclusion(scorer: OcclusionScorer, reference: Float64Array, matrix: FeatureMatrix, scores: DetectionScores, count: number): Promise<(DetectionExplanation | undefined)[]> {
  const w = matrix.width;
  if (reference.length !== w || scorer.schema.features.length !== w) throw new RangeError(`rows, reference and schema must have the same width (${w})`);
  const out: (DetectionExplanation | undefined)[] = new Array<DetectionExplanation | undefined>(matrix.rows).fill(undefined);
  const alerts = Array.from(scores.label, (l, r) => (l === 1 ? r : -1)).filter((r) => r >= 0);
  const perCall = Math.max(1, Math.floor(MAX_OCCLUSION_ROWS / w));
  for (let start = 0; start < alerts.length; start += perCall) {
    const rows = alerts.slice(start, start + perCall);
    const { perturbed, alert, feature } = occludedRows(matrix, reference, rows);
    const occluded = perturbed.rows === 0 ? undefined : await scorer.score(perturbed);
    const contribution = rows.map(() => new Float64Array(w));
    for (let k = 0; k < perturbed.rows; k++) contribution[alert[k]!]![feature[k]!] = scores.score[rows[alert[k]!]!]! - occluded!.score[k]!;
    rows.forEach((r, i) => {
      out[r] = explanation(scorer, reference, matrix.data.slice(r * w, (r + 1) * w), contribution[i]!, scores, r, count);
    });
  }
  return out;
}
