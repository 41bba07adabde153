/**
 * The Scorer port (issue 6): what `custodia detect score|evaluate` needs of a model,
 * whoever made it. Our JSON models (model-file.ts) implement it in process through
 * {@link modelScorer}; a model trained elsewhere and imported as ONNX implements it in an
 * adapter outside the domain (src/onnx/), so that detect/ never loads a native runtime.
 *
 * Scores follow detection-scores.ts: `score` in [0, 1], higher is more anomalous, and
 * `label` 1 exactly when `score` is above the scorer's threshold. A scorer that only
 * knows normal from attack (an imported binary model) names its attacks `unknown`, as a
 * forest-only alert is named.
 *
 * Every alert explains itself (issue 6 §3) through `explain`: our models by TreeSHAP and
 * forest path shares (detection-explanation.ts), an imported model by Shapley values against
 * the reference row its sidecar gives (shapley-explanation.ts); a scorer without one has
 * no `explain`.
 */
import { explainDetection, type DetectionExplanation } from './detection-explanation.js';
import type { DetectionModel } from './detection-model.js';
import { className, DETECTED_BY_TREES, scoreDetections, scoreThreshold, type DetectionScores } from './detection-scores.js';
import type { FeatureMatrix } from './feature-encoder.js';
import type { FeatureSchema } from './feature-schema.js';

export interface Scorer {
  /** What scores: a model kind of ours (`gbdt`, `hybrid`, `isolation-forest`) or `onnx`. */
  readonly kind: string;
  /** The schema rows must be encoded with, in this order. */
  readonly schema: FeatureSchema;
  /** The threshold {@link DetectionScores.score} is compared with. */
  readonly threshold: number;
  /** Scores every row of `matrix` (encoded under {@link schema}). */
  score(matrix: FeatureMatrix): Promise<DetectionScores>;
  /**
   * Explains the alerts (label 1) of `scores`, this scorer's scores of `matrix`, with up to
   * `count` features each; `undefined` for the other rows. Absent when the scorer cannot.
   */
  readonly explain?: (matrix: FeatureMatrix, scores: DetectionScores, count: number) => Promise<readonly (DetectionExplanation | undefined)[]>;
  /** The name of a class index of {@link DetectionScores.classIndex}. */
  className(index: number): string;
  /** Releases what the scorer holds (a native session); idempotent. */
  close(): Promise<void>;
}

/**
 * Our JSON model as a Scorer.
 *
 * @example
 *   const scorer = modelScorer(parseModelFile(readFileSync('model.json')));
 *   const s = await scorer.score(matrix);
 */
export function modelScorer(model: DetectionModel): Scorer {
  return Object.freeze({
    kind: model.kind,
    schema: model.schema,
    threshold: scoreThreshold(model),
    score: (matrix: FeatureMatrix) => Promise.resolve(scoreDetections(model, matrix)),
    explain: (matrix: FeatureMatrix, scores: DetectionScores, count: number) => {
      const w = matrix.width;
      return Promise.resolve(Array.from(scores.label, (l, r) => (l === 1 ? explainDetection(model, matrix.data.slice(r * w, (r + 1) * w), count, scores, r) : undefined)));
    },
    className: (index: number) => className(model, index),
    close: () => Promise.resolve(),
  });
}

/**
 * Scores of an imported classifier from each row's attack probability: attack (detected by
 * the model's trees) above `threshold`, of class `attackClass[r]` when the classifier names
 * its classes, else `unknown`.
 *
 * @example
 *   attackProbabilityScores(Float64Array.of(0.1, 0.9), 0.5).label; // [0, 1]
 *   attackProbabilityScores(Float64Array.of(0.1, 0.9), 0.5, Int32Array.of(2, 1)).classIndex; // [0, 1]
 */
export function attackProbabilityScores(pAttack: Float64Array, threshold: number, attackClass?: Int32Array): DetectionScores {
  const n = pAttack.length;
  const label = new Uint8Array(n);
  const classIndex = new Int32Array(n);
  const detectedBy = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const alert = pAttack[r]! > threshold;
    label[r] = alert ? 1 : 0;
    classIndex[r] = alert ? (attackClass?.[r] ?? -1) : 0;
    detectedBy[r] = alert ? DETECTED_BY_TREES : 0;
  }
  return { rows: n, score: pAttack, label, classIndex, detectedBy, attackProbability: pAttack, forestScore: new Float64Array(0) };
}
