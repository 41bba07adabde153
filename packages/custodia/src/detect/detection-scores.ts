/**
 * Scoring rows with any detection model, to one scale and one decision:
 *
 * - `score` in [0, 1], higher meaning more anomalous; `label` 1 (attack) exactly when
 *   `score > 0.5`, or for a bare forest when its score is above its threshold.
 * - `gbdt`: score = 1 − P(normal), summed over the attack classes (exact near 0). Attack
 *   when it is above 0.5 (P(normal) < 0.5); the class is then the most probable attack
 *   class (not the overall argmax, so that label and class agree).
 * - `hybrid`: score = level(1 − P(normal)) at the trees' threshold τ_t (normal-threshold.ts;
 *   a false-positive budget on normal rows, 0.5 at most), raised to level(forest score) at
 *   the forest's threshold where the forest alerts (level > 0.5): below its threshold the
 *   forest's score does not reorder the trees' (mixing it in there cost AUC: on the 20%
 *   NSL-KDD subset, fold 0, 0.99926 in distribution and 0.929 mean over the four held-out
 *   families, against 0.99984 and 0.942 this way; bench/detect-holdout.mjs's split). A row
 *   whose attack probability is above τ_t is an attack of the trees' most probable attack
 *   class, even below 0.5: an unseen attack the trees doubt still resembles one kind they
 *   know more than the others (in the 5-fold cross-validation of docs/detect.md this
 *   raised R2L's and U2R's recall more than the budget's false positives cost their
 *   precision). A row the trees pass but the forest scores above its threshold is an attack
 *   of class `unknown`. It is not forced into the nearest known class: the trees found
 *   nothing of one, so that would be a guess, and it would charge the forest's false
 *   positives to the precision of rare classes (11 U2R rows in the 20% NSL-KDD subset).
 * - The supervised probabilities P of a hybrid with a random forest are the mean of the
 *   boosted trees' and the random forest's (soft voting over the two ensembles): the two
 *   misrank different rows, and on the 20% NSL-KDD subset the mean ranked attacks above
 *   normal rows better than either alone in each of ten repetitions of the 5-fold
 *   cross-validation, and ranked attack families never seen in training far better than
 *   boosted trees alone (docs/detect.md, "Random forest").
 * - `isolation-forest`: score = the forest's s(x); attack above the model's threshold
 *   (0.5, the paper's rule of thumb, when the file has none), class `unknown`.
 */
import { NORMAL_CLASS, UNKNOWN_CLASS, type DetectionModel, type GbdtDetectionModel, type HybridModel, type IsolationForestModel } from './detection-model.js';
import type { FeatureMatrix } from './feature-encoder.js';
import { denseMatrix } from './gbdt-matrix.js';
import { forestPartScores } from './rare-values.js';
import { thresholdLevel } from './normal-threshold.js';

/** Which part of a model raised an alert (bits). */
export const DETECTED_BY_TREES = 1;
export const DETECTED_BY_FOREST = 2;

/** The threshold of a forest model without one in its file (Liu et al. 2008, §2). */
export const DEFAULT_FOREST_THRESHOLD = 0.5;

export interface DetectionScores {
  readonly rows: number;
  /** In [0, 1]; higher is more anomalous. */
  readonly score: Float64Array;
  /** 1 attack, 0 normal. */
  readonly label: Uint8Array;
  /** Class index per row into the model's classes (0 normal), or −1 for `unknown`. */
  readonly classIndex: Int32Array;
  /** Which parts alerted: DETECTED_BY_TREES | DETECTED_BY_FOREST bits, 0 for none. */
  readonly detectedBy: Uint8Array;
  /** 1 − P(normal) per row (supervised models), else empty. */
  readonly attackProbability: Float64Array;
  /** The forest's s(x) per row (forest and hybrid models), else empty. */
  readonly forestScore: Float64Array;
}

/** The threshold `score` is compared with, on the scale of {@link DetectionScores.score}. */
export function scoreThreshold(model: DetectionModel): number {
  return model.kind === 'isolation-forest' ? (model.threshold ?? DEFAULT_FOREST_THRESHOLD) : 0.5;
}

/** The class names a model's scores can carry: its classes, or normal and unknown. */
export function modelClasses(model: DetectionModel): readonly string[] {
  return model.kind === 'isolation-forest' ? [NORMAL_CLASS] : model.classes;
}

/** The trees' cut on the attack probability: a hybrid's own (a false-positive budget, 0.5 at most), a classifier's 0.5. */
export function attackThreshold(model: GbdtDetectionModel | HybridModel): number {
  return model.kind === 'hybrid' ? model.treesThreshold : 0.5;
}

/**
 * 1 − P(normal) of row `r` of `p` (`k` class probabilities a row, normal first), as the sum
 * of the attack classes' probabilities: the same number, but exact to the last bits when
 * it is tiny, where 1 − P(normal) rounds to 0 below 1e-16 and would tie the rows the trees
 * find most normal (which costs AUC on ties).
 */
export function attackProbabilityOf(p: Float64Array, r: number, k: number): number {
  let sum = 0;
  for (let c = 1; c < k; c++) sum += p[r * k + c]!;
  return sum;
}

/**
 * The supervised class probabilities of every row of `matrix`, `rows × classes`: the
 * boosted trees', or for a hybrid with a random forest the mean of the two ensembles'.
 */
export function supervisedProbabilities(model: Pick<HybridModel, 'gbdt' | 'randomForest'>, matrix: FeatureMatrix): Float64Array {
  const p = model.gbdt.predictProba(denseMatrix(matrix.data, matrix.width));
  if (model.randomForest === undefined) return p;
  const q = model.randomForest.predictProba(matrix.data, matrix.width);
  for (let i = 0; i < p.length; i++) p[i] = (p[i]! + q[i]!) / 2;
  return p;
}

/** The name of a class index of {@link DetectionScores.classIndex}. */
export function className(model: DetectionModel, index: number): string {
  return index < 0 ? UNKNOWN_CLASS : modelClasses(model)[index]!;
}

/**
 * Scores every row of `matrix` (encoded under the model's schema).
 *
 * @example
 *   const s = scoreDetections(model, new FeatureEncoder(model.schema).encodeAll(records));
 *   s.label[0]; // 1 for an attack
 */
export function scoreDetections(model: DetectionModel, matrix: FeatureMatrix): DetectionScores {
  const n = matrix.rows;
  const score = new Float64Array(n);
  const label = new Uint8Array(n);
  const classIndex = new Int32Array(n);
  const detectedBy = new Uint8Array(n);
  // The forest part: a hair above its threshold at least where a row departs from a rare value (rare-values.ts).
  const forestPart = (m: IsolationForestModel | HybridModel, tau: number): Float64Array => forestPartScores(m.forest.scoreBatch(matrix.data, matrix.width), m.rareValues, matrix.data, matrix.width, tau);
  if (model.kind === 'isolation-forest') {
    const attackProbability = new Float64Array(0);
    const tau = scoreThreshold(model);
    const forestScore = forestPart(model, tau);
    for (let r = 0; r < n; r++) {
      score[r] = forestScore[r]!;
      const alert = forestScore[r]! > tau;
      label[r] = alert ? 1 : 0;
      classIndex[r] = alert ? -1 : 0;
      detectedBy[r] = alert ? DETECTED_BY_FOREST : 0;
    }
    return { rows: n, score, label, classIndex, detectedBy, attackProbability, forestScore };
  }
  const forestScore = model.kind === 'hybrid' ? forestPart(model, model.forestThreshold) : new Float64Array(0);
  const k = model.classes.length;
  const p = supervisedProbabilities(model, matrix);
  const attackProbability = new Float64Array(n);
  const cut = attackThreshold(model);
  for (let r = 0; r < n; r++) {
    const pAttack = attackProbabilityOf(p, r, k);
    attackProbability[r] = pAttack;
    // At 0.5 the level is the probability itself: kept as it is, bit for bit.
    let s = cut === 0.5 ? pAttack : thresholdLevel(pAttack, cut);
    let cls = 0;
    let by = 0;
    if (pAttack > cut) {
      cls = 1;
      for (let c = 2; c < k; c++) if (p[r * k + c]! > p[r * k + cls]!) cls = c;
      by = DETECTED_BY_TREES;
    }
    if (model.kind === 'hybrid') {
      const level = thresholdLevel(forestScore[r]!, model.forestThreshold);
      // Below its threshold the forest does not reorder the trees' scores (see the header).
      if (level > 0.5) {
        if (level > s) s = level;
        by |= DETECTED_BY_FOREST;
        if (cls === 0) cls = -1;
      }
    }
    score[r] = s;
    label[r] = by === 0 ? 0 : 1;
    classIndex[r] = cls;
    detectedBy[r] = by;
  }
  return { rows: n, score, label, classIndex, detectedBy, attackProbability, forestScore };
}

/**
 * A score rounded to six decimals for people and files (the score CSV, findings) that stays
 * on its side of 0.5: `label = 1` exactly when the score is above 0.5, and a score a hair
 * above it (a trees probability just past its cut, a rare-value departure: rare-values.ts)
 * must not print as 0.500000.
 *
 * @example
 *   displayScore(0.5 + 2 ** -53); // 0.500001
 */
export function displayScore(score: number): number {
  const r = Math.round(score * 1e6) / 1e6;
  if (score > 0.5 && r <= 0.5) return 0.500001;
  if (score <= 0.5 && r > 0.5) return 0.5;
  return r;
}
