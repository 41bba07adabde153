/**
 * The three kinds of detection model a model file holds (issue 6 §3), each with the
 * feature schema its rows must be encoded with:
 *
 * - `isolation-forest`: unsupervised, trained on normal traffic; optionally with the
 *   score threshold above which a row is an attack (calibrated on held-out normal rows).
 * - `gbdt`: supervised gradient-boosted trees over named classes, `classes[0]` being
 *   `normal`.
 * - `hybrid`: both; a row is an attack when the trees' attack probability is above their
 *   threshold or when the forest scores it above its threshold (detection-scores.ts). The
 *   trees' probabilities are those of the boosted trees averaged with a random forest's,
 *   when the model has one (since 2026-12-02; files before have none). Both
 *   thresholds are false-positive budgets set on normal rows: that is what lets the hybrid
 *   alert on attack types the trees never saw.
 */
import type { FeatureSchema } from './feature-schema.js';
import type { GbdtModel } from './gbdt-model.js';
import type { IsolationForest } from './isolation-forest.js';
import type { RandomForest } from './random-forest.js';
import type { RareValue } from './rare-values.js';

/** The name of the class of ordinary traffic; always class 0 of a supervised model. */
export const NORMAL_CLASS = 'normal';

/** What a forest-only alert is labelled when no supervised class applies. */
export const UNKNOWN_CLASS = 'unknown';

export interface IsolationForestModel {
  readonly kind: 'isolation-forest';
  readonly schema: FeatureSchema;
  readonly forest: IsolationForest;
  /** Scores at or above this are attacks; absent in files written before thresholds were kept. */
  readonly threshold?: number;
  /** Rare values (rare-values.ts): a row that departs from one alerts. Absent in files written before they were kept: none. */
  readonly rareValues?: readonly RareValue[];
}

export interface GbdtDetectionModel {
  readonly kind: 'gbdt';
  readonly schema: FeatureSchema;
  /** Class names by model output; `classes[0]` is {@link NORMAL_CLASS}. */
  readonly classes: readonly string[];
  readonly gbdt: GbdtModel;
}

export interface HybridModel {
  readonly kind: 'hybrid';
  readonly schema: FeatureSchema;
  readonly classes: readonly string[];
  readonly gbdt: GbdtModel;
  /**
   * A random forest over the same classes, grown on the rows the boosted trees fitted: the
   * supervised probabilities are the mean of the two (detection-scores.ts). Absent in files
   * written before it was kept: the boosted trees alone, as they were.
   */
  readonly randomForest?: RandomForest;
  /** Trained on normal rows only. */
  readonly forest: IsolationForest;
  /** Forest scores at or above this are attacks: the `normalQuantile` quantile of held-out normal rows' scores. */
  readonly forestThreshold: number;
  /** The quantile the threshold was taken at (0.995 by default: about 0.5% of normal rows alert through the forest). */
  readonly normalQuantile: number;
  /**
   * The trees call a row an attack when its attack probability (1 − P(normal)) is above
   * this, in (0, 0.5]: the `treesQuantile` quantile of the attack probabilities of normal
   * rows the trees did not fit, or 0.5 when there were none (and in files written before
   * it was kept).
   */
  readonly treesThreshold: number;
  /** The quantile {@link treesThreshold} was taken at; absent when it is 0.5 for want of rows. */
  readonly treesQuantile?: number;
  /**
   * The forest part's rare values (rare-values.ts): a row that departs from one scores 1 in
   * the forest part. Absent in files written before they were kept: none.
   */
  readonly rareValues?: readonly RareValue[];
}

export type DetectionModel = IsolationForestModel | GbdtDetectionModel | HybridModel;
export type DetectionModelKind = DetectionModel['kind'];
