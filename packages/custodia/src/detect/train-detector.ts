/**
 * Training the three kinds of detection model (detection-model.ts) on encoded rows:
 *
 * - unsupervised: an isolation forest on the rows given (the caller passes the normal
 *   rows when it has labels), its threshold the `normalQuantile` quantile of the scores of
 *   a held-out `calibrationFraction` of those rows;
 * - supervised: gradient-boosted trees over the classes, early stopping on a stratified
 *   10% validation split (LightGBM's defaults otherwise, and λ = 1); with `bags` > 1, the
 *   average of that many such ensembles (gbdt-average.ts), each on its own 80% of the
 *   rows and 80% of the features per tree, and its own validation split;
 * - hybrid: the same trees on every row, a random forest (train-random-forest.ts) on the
 *   rows the trees fitted, its probabilities averaged with theirs, and an isolation forest
 *   on the normal rows only, its threshold calibrated on held-out normal rows as above. Neither the trees nor the
 *   attacks have any say in the threshold: it is a false-positive budget on normal
 *   traffic, which is what makes it hold for attack types that were never seen. The
 *   trees' own cut is set the same way: the `treesQuantile` quantile of the attack
 *   probabilities of the normal rows of their validation split (rows they did not fit),
 *   0.5 at most; see {@link DEFAULT_FALSE_POSITIVE_BUDGET}.
 *
 * Deterministic for a given `random` (seed it with the kernel's `seededRandom`): one key
 * is drawn from it and each part gets its own seeded stream, so the parts do not depend
 * on each other's consumption.
 */
import { CustodiaError, seededRandom, type Random } from '../kernel/index.js';
import { NORMAL_CLASS, type GbdtDetectionModel, type HybridModel, type IsolationForestModel } from './detection-model.js';
import type { FeatureMatrix } from './feature-encoder.js';
import type { FeatureSchema } from './feature-schema.js';
import { attackProbabilityOf, supervisedProbabilities } from './detection-scores.js';
import { denseMatrix } from './gbdt-matrix.js';
import type { GbdtModel } from './gbdt-model.js';
import type { GbdtOptions } from './gbdt-options.js';
import { trainGbdt } from './gbdt-train.js';
import { averageGbdtModels } from './gbdt-average.js';
import type { IsolationForest } from './isolation-forest.js';
import { normalQuantile } from './normal-threshold.js';
import { forestPartScores, rareValues, type RareValue } from './rare-values.js';
import { trainIsolationForest } from './train-isolation-forest.js';
import { RANDOM_FOREST_LIMITS, type RandomForest } from './random-forest.js';
import { DETECTOR_RANDOM_FOREST_OPTIONS, trainRandomForest } from './train-random-forest.js';
import { UniformRandom } from './uniform-random.js';

/**
 * Boosting settings of the detectors: up to 300 rounds, stopped after 30 without a better
 * validation loss. The cap is a compute budget (LightGBM's and scikit-learn's defaults are
 * 100): on one of the five NSL-KDD bench folds the validation loss kept falling by a
 * little more than the tolerance for hundreds of rounds, and 1000 rounds cost 70 s of CPU
 * where the other folds took 5–12 s.
 *
 * The model keeps every round run, the 30 after the best validation loss included, as
 * scikit-learn's HistGradientBoosting does: those rounds make the trees surer of normal
 * traffic, and the few attacks they are unsure of then rank above more normal rows. On
 * inner splits of the 20% NSL-KDD subset (the bench's training folds split 80/20 by attack
 * type, ten fits) the held-out 1 − AUC fell from 1.00 to 0.93 × 10⁻⁴ and the log-loss from
 * 0.0092 to 0.0089; docs/detect.md has the bench's figures.
 */
export const DETECTOR_GBDT_OPTIONS: GbdtOptions = Object.freeze({ rounds: 300, learningRate: 0.1, numLeaves: 31, earlyStopping: Object.freeze({ validationFraction: 0.1, patience: 30, keep: 'all' }) });

/** What each part of a bagged detector (`bags` > 1) grows on: 80% of the rows each round, 80% of the features each tree, so that the parts differ. */
const BAG_PART_OPTIONS: GbdtOptions = Object.freeze({ subsample: 0.8, featureFraction: 0.8 });

/**
 * Boosted ensembles averaged into a detector's trees: one. More make the trees steadier
 * where the attacks are known and worse at what the hybrid is for (docs/detect.md,
 * "Settings examined"): on the 20% NSL-KDD subset three averaged parts raised the mean
 * 5-fold macro-F1 and lowered 1 − AUC, but in the held-out-family experiment their trees
 * called more of the unseen U2R and R2L rows normal, in each of two seeds and three ways
 * of making the parts differ.
 */
const DETECTOR_BAGS = 1;

/**
 * The false-positive budget b: the share of normal traffic a detector may alert on, about
 * 1% by default. A forest alone spends all of it: its threshold is the 1 − b quantile of
 * held-out normal rows' scores. A hybrid splits it evenly between its two parts: the trees
 * alert when a row's attack probability is above the 1 − b/2 quantile of the
 * probabilities of normal rows they did not fit, the forest when its score is above the
 * 1 − b/2 quantile of held-out normal rows' scores. At 0.5 (a classifier's cut) the trees
 * call most attacks of an unseen kind normal, though they rank them well above normal
 * traffic; half a percent of normal traffic spent there finds far more of them than the
 * same half percent spent on the forest (docs/detect.md, "Measured: attack families never
 * seen in training", has the figures this was chosen on). Supervised trees have no budget.
 */
export const DEFAULT_FALSE_POSITIVE_BUDGET = 0.01;
/** The largest budget accepted: a fifth of normal traffic alerting is not a detector any more. */
export const MAX_FALSE_POSITIVE_BUDGET = 0.2;

/**
 * A detector's isolation forest: 100 trees of ψ = 1024 rows each, four times the
 * default of Liu, Ting and Zhou (ICDM 2008), 256. Chosen by 5-fold cross-validation of the
 * unsupervised detector on the NSL-KDD 20% subset, with two fold seeds that are not the
 * bench's (docs/detect.md, "Subsample size"): the AUC of every attack class against
 * normal rows rose, R2L's most (0.82 to 0.84).
 */
export const DETECTOR_FOREST_OPTIONS = Object.freeze({ trees: 100, subsampleSize: 1024 });

/** The most boosted ensembles a detector averages. */
export const MAX_BAGS = 16;

export interface DetectorTrainingOptions {
  /** The source of all randomness: the same seed gives the same model file. */
  readonly random: Random;
  /** Overrides of {@link DETECTOR_GBDT_OPTIONS} (never the classes, names or randomness). */
  readonly gbdt?: Omit<GbdtOptions, 'random' | 'featureNames' | 'numClasses' | 'objective'>;
  /** Boosted ensembles averaged, 1 to {@link MAX_BAGS} (default {@link DETECTOR_BAGS}). */
  readonly bags?: number;
  /**
   * The hybrid's random forest: its number of trees (default
   * DETECTOR_RANDOM_FOREST_OPTIONS, 100), or `false` for none (the boosted trees alone, as
   * hybrids were before 2026-12-02).
   */
  readonly randomForest?: { readonly trees?: number } | false;
  /** Isolation forest size (default {@link DETECTOR_FOREST_OPTIONS}). */
  readonly forest?: { readonly trees?: number; readonly subsampleSize?: number };
  /** The share of normal traffic an unsupervised or hybrid detector may alert on, in (0, {@link MAX_FALSE_POSITIVE_BUDGET}] (default {@link DEFAULT_FALSE_POSITIVE_BUDGET}); it sets the quantiles below unless they are given. */
  readonly falsePositiveBudget?: number;
  /** The quantile of held-out normal scores the forest's threshold is set at (default 1 − b alone, 1 − b/2 in a hybrid). */
  readonly normalQuantile?: number;
  /** The quantile of the attack probabilities of normal rows the hybrid's trees did not fit that their cut is set at (default 1 − b/2); the cut is 0.5 at most. */
  readonly treesQuantile?: number;
  /** Share of the forest's rows held out to calibrate its threshold (default 0.2). */
  readonly calibrationFraction?: number;
  /** Called as each stage starts: `trees`, `random-forest` (hybrids), `forest`, `threshold`. */
  readonly onStage?: (stage: TrainingStage) => void;
  /** Called as each cut is set on normal rows, with how many (fewer than calibrationRowsFor(quantile): the budget cannot be kept, normal-threshold.ts). */
  readonly onCalibrated?: (c: Calibration) => void;
}

/** The stages of training, in order. */
export type TrainingStage = 'trees' | 'random-forest' | 'forest' | 'threshold';

/** A cut set on normal rows the part did not train on. */
export interface Calibration {
  readonly part: 'trees' | 'forest';
  /** The normal rows it was set on. */
  readonly rows: number;
  readonly quantile: number;
}

/** Rows of `m` at `pick`, as a new matrix. */
export function selectRows(m: FeatureMatrix, pick: ArrayLike<number>): FeatureMatrix {
  const data = new Float64Array(pick.length * m.width);
  for (let i = 0; i < pick.length; i++) data.set(m.data.subarray(pick[i]! * m.width, (pick[i]! + 1) * m.width), i * m.width);
  return { data, rows: pick.length, width: m.width };
}

function streams(random: Random): (part: string) => Random {
  const key = random.bytes(32).toString('hex');
  return (part) => seededRandom(`${key}:${part}`);
}

function refuse(message: string): CustodiaError {
  return new CustodiaError('request-malformed', message);
}

function budget(o: DetectorTrainingOptions): number {
  const b = o.falsePositiveBudget ?? DEFAULT_FALSE_POSITIVE_BUDGET;
  if (!(b > 0 && b <= MAX_FALSE_POSITIVE_BUDGET)) throw refuse(`the false-positive budget must be in (0, ${MAX_FALSE_POSITIVE_BUDGET}]`);
  return b;
}

/** A forest on `m` and its threshold from a held-out share of `m`'s rows. */
function calibratedForest(m: FeatureMatrix, o: DetectorTrainingOptions, random: Random, defaultQuantile: number, rareSchema?: FeatureSchema): { forest: IsolationForest; threshold: number; quantile: number; rare: RareValue[] } {
  const quantile = o.normalQuantile ?? defaultQuantile;
  const fraction = o.calibrationFraction ?? 0.2;
  if (!(quantile > 0 && quantile < 1)) throw refuse('the normal quantile must be in (0, 1)');
  if (!(fraction > 0 && fraction < 1)) throw refuse('the calibration fraction must be in (0, 1)');
  if (m.rows < 4) throw refuse('an isolation forest needs at least 4 normal rows (some are held out for its threshold)');
  const held = Math.min(m.rows - 2, Math.max(1, Math.round(fraction * m.rows)));
  // A seeded Fisher–Yates shuffle: the first `held` rows calibrate, the rest train.
  const order = Int32Array.from({ length: m.rows }, (_, i) => i);
  const rng = new UniformRandom(random);
  for (let i = m.rows - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const v = order[i]!;
    order[i] = order[j]!;
    order[j] = v;
  }
  o.onStage?.('forest');
  const fitted = selectRows(m, order.subarray(held).sort());
  const forest = trainIsolationForest(fitted, { random, ...DETECTOR_FOREST_OPTIONS, ...(o.forest ?? {}) });
  // Half the forest part's budget for what the forest cannot see (rare-values.ts); the
  // threshold below is set on the part's scores, rare values included, so the part keeps its budget.
  const rare = rareSchema === undefined ? [] : rareValues(rareSchema, fitted, (1 - quantile) / 2);
  o.onStage?.('threshold');
  const calibration = selectRows(m, order.subarray(0, held).sort());
  o.onCalibrated?.({ part: 'forest', rows: held, quantile });
  const forestScores = forest.scoreBatch(calibration.data, calibration.width);
  const threshold = normalQuantile(forestPartScores(Float64Array.from(forestScores), rare, calibration.data, calibration.width), quantile);
  // So many held-out rows departing that the cut reached 1 (no row can pass it): the rare values are not rare here.
  if (threshold >= 1 && rare.length > 0) return { forest, threshold: normalQuantile(forestScores, quantile), quantile, rare: [] };
  return { forest, threshold, quantile, rare };
}

function checkRows(schema: FeatureSchema, m: FeatureMatrix): void {
  if (m.width !== schema.features.length) throw new RangeError('the rows are not encoded under the schema');
}

function checkClasses(classes: readonly string[], classIndex: ArrayLike<number>, rows: number): void {
  if (classes[0] !== NORMAL_CLASS || classes.length < 2) throw refuse(`supervised training needs the class ${NORMAL_CLASS} first and at least one attack class`);
  if (classIndex.length !== rows) throw new RangeError('one class per row');
  let normal = 0;
  for (let i = 0; i < rows; i++) if (classIndex[i] === 0) normal++;
  if (normal === 0 || normal === rows) throw refuse('supervised training needs both normal and attack rows');
}

/** The trees, and the rows none of their ensembles fitted (a single ensemble's validation rows; none when bagged or without early stopping). */
function trees(schema: FeatureSchema, m: FeatureMatrix, classIndex: ArrayLike<number>, classes: readonly string[], o: DetectorTrainingOptions, random: Random): { readonly model: GbdtModel; readonly unfitted: Uint32Array } {
  const bags = o.bags ?? DETECTOR_BAGS;
  if (!(Number.isInteger(bags) && bags >= 1 && bags <= MAX_BAGS)) throw refuse(`the number of bags must be a whole number from 1 to ${MAX_BAGS}`);
  o.onStage?.('trees');
  const options: GbdtOptions = { ...DETECTOR_GBDT_OPTIONS, ...(bags > 1 ? BAG_PART_OPTIONS : {}), ...(o.gbdt ?? {}), numClasses: classes.length, featureNames: schema.features.map((f) => f.name) };
  const x = denseMatrix(m.data, m.width);
  if (bags === 1) {
    const t = trainGbdt(x, classIndex, { ...options, random });
    return { model: t.model, unfitted: t.validationRows };
  }
  const part = streams(random);
  // Each part has its own validation split, and every row was fitted by some part.
  return { model: averageGbdtModels(Array.from({ length: bags }, (_, b) => trainGbdt(x, classIndex, { ...options, random: part(`bag-${b}`) }).model)), unfitted: new Uint32Array(0) };
}

/**
 * The trees' cut (normal-threshold.ts): the `quantile` quantile of the attack
 * probabilities (the boosted trees', averaged with the random forest's when there is one)
 * of the normal rows among `unfitted`, 0.5 at most; 0.5 when there are none. Neither
 * ensemble fitted those rows (the random forest grows on the others), but early stopping
 * watched their loss, so the cut is a little optimistic: fresh normal traffic may pass it
 * a little more often than the budget.
 */
function treesCut(trees: Pick<HybridModel, 'gbdt' | 'randomForest'>, m: FeatureMatrix, classIndex: ArrayLike<number>, unfitted: Uint32Array, quantile: number, o: DetectorTrainingOptions): { threshold: number; quantile?: number } {
  if (!(quantile > 0 && quantile < 1)) throw refuse('the trees quantile must be in (0, 1)');
  const normal = Array.from(unfitted).filter((r) => classIndex[r] === 0);
  if (normal.length === 0) return { threshold: 0.5 };
  o.onCalibrated?.({ part: 'trees', rows: normal.length, quantile });
  const p = supervisedProbabilities(trees, selectRows(m, normal));
  const attack = Float64Array.from(normal, (_, i) => attackProbabilityOf(p, i, trees.gbdt.numClasses));
  // Not 0: probabilities that underflowed to 0 would make the cut 0, which a model file
  // refuses and thresholdLevel cannot divide by; the least positive double keeps the meaning
  // (any attack probability above 0 alerts) without either.
  return { threshold: Math.min(0.5, Math.max(Number.MIN_VALUE, normalQuantile(attack, quantile))), quantile };
}

/**
 * The hybrid's random forest, grown on every row but `unfitted` (the boosted trees'
 * validation rows), so that the trees' cut is set on rows neither ensemble fitted.
 */
function forestOfTrees(m: FeatureMatrix, classIndex: ArrayLike<number>, classes: number, unfitted: Uint32Array, o: DetectorTrainingOptions, random: Random): RandomForest {
  const trees = (o.randomForest || undefined)?.trees ?? DETECTOR_RANDOM_FOREST_OPTIONS.trees;
  if (!(Number.isInteger(trees) && trees >= 1 && trees <= RANDOM_FOREST_LIMITS.trees)) throw refuse(`the random forest must have 1 to ${RANDOM_FOREST_LIMITS.trees} trees`);
  o.onStage?.('random-forest');
  const held = new Uint8Array(m.rows);
  for (const r of unfitted) held[r] = 1;
  const fitted: number[] = [];
  for (let r = 0; r < m.rows; r++) if (held[r] === 0) fitted.push(r);
  return trainRandomForest(denseMatrix(m.data, m.width), classIndex, classes, Uint32Array.from(fitted), { trees, random });
}

/**
 * An isolation forest on `rows` (normal traffic), with its threshold.
 *
 * @example
 *   const model = trainUnsupervisedDetector(NSL_KDD_SCHEMA, normalRows, { random: seededRandom(1) });
 */
export function trainUnsupervisedDetector(schema: FeatureSchema, rows: FeatureMatrix, o: DetectorTrainingOptions): IsolationForestModel {
  checkRows(schema, rows);
  const { forest, threshold, rare } = calibratedForest(rows, o, streams(o.random)('forest'), 1 - budget(o), schema);
  return Object.freeze({ kind: 'isolation-forest', schema, forest, threshold, rareValues: Object.freeze(rare.map((r) => Object.freeze(r))) });
}

/**
 * Gradient-boosted trees over `classes` (`classes[0]` = normal), `classIndex` per row.
 *
 * @example
 *   const model = trainSupervisedDetector(NSL_KDD_SCHEMA, rows, y, ['normal', 'DoS', 'Probe', 'R2L', 'U2R'], { random: seededRandom(1) });
 */
export function trainSupervisedDetector(schema: FeatureSchema, rows: FeatureMatrix, classIndex: ArrayLike<number>, classes: readonly string[], o: DetectorTrainingOptions): GbdtDetectionModel {
  checkRows(schema, rows);
  checkClasses(classes, classIndex, rows.rows);
  const gbdt = trees(schema, rows, classIndex, classes, o, streams(o.random)('trees')).model;
  return Object.freeze({ kind: 'gbdt', schema, classes: Object.freeze([...classes]), gbdt });
}

/**
 * The hybrid: trees on every row, a forest on the normal rows, its threshold from held-out normal rows.
 *
 * @example
 *   const model = trainHybridDetector(NSL_KDD_SCHEMA, rows, y, ['normal', 'DoS', 'Probe', 'R2L', 'U2R'], { random: seededRandom(1) });
 */
export function trainHybridDetector(schema: FeatureSchema, rows: FeatureMatrix, classIndex: ArrayLike<number>, classes: readonly string[], o: DetectorTrainingOptions): HybridModel {
  checkRows(schema, rows);
  checkClasses(classes, classIndex, rows.rows);
  const stream = streams(o.random);
  const { model: gbdt, unfitted } = trees(schema, rows, classIndex, classes, o, stream('trees'));
  const randomForest = o.randomForest === false ? undefined : forestOfTrees(rows, classIndex, classes.length, unfitted, o, stream('random-forest'));
  const half = 1 - budget(o) / 2;
  const cut = treesCut({ gbdt, ...(randomForest === undefined ? {} : { randomForest }) }, rows, classIndex, unfitted, o.treesQuantile ?? half, o);
  const normal: number[] = [];
  for (let i = 0; i < rows.rows; i++) if (classIndex[i] === 0) normal.push(i);
  const { forest, threshold, quantile, rare } = calibratedForest(selectRows(rows, normal), o, stream('forest'), half, schema);
  return Object.freeze({ kind: 'hybrid', schema, classes: Object.freeze([...classes]), gbdt, ...(randomForest === undefined ? {} : { randomForest }), forest, forestThreshold: threshold, normalQuantile: quantile, treesThreshold: cut.threshold, ...(cut.quantile === undefined ? {} : { treesQuantile: cut.quantile }), rareValues: Object.freeze(rare.map((r) => Object.freeze(r))) });
}
