/**
 * The options of gradient-boosted tree training, resolved once (defaults filled in,
 * bounds checked) and frozen. Defaults follow LightGBM's where it has one (num_leaves 31,
 * learning_rate 0.1, min_data_in_leaf 20, min_sum_hessian_in_leaf 1e-3, max_bin 255,
 * bin_construct_sample_cnt 200000), except λ = 1 (XGBoost's lambda), which keeps leaf
 * outputs finite on pure leaves.
 */
import { seededRandom, type Random } from '../kernel/index.js';
import { MAX_BINS } from './gbdt-bins.js';
import { invalidInput } from './gbdt-matrix.js';
import type { ObjectiveName } from './gbdt-objective.js';

export interface EarlyStoppingOptions {
  /** Share of each class's rows held out to watch (default 0.1). */
  readonly validationFraction?: number;
  /** Stop after this many rounds without a better validation loss (default 10). */
  readonly patience?: number;
  /** A round is better only if it lowers the best validation loss by more than this (default 1e-7, scikit-learn's `tol`). */
  readonly tolerance?: number;
  /**
   * Which rounds the model keeps once training stops: `best`, those up to the lowest
   * validation loss (LightGBM's `best_iteration`; the default), or `all`, every round run,
   * the `patience` rounds after the best included (scikit-learn's HistGradientBoosting).
   */
  readonly keep?: 'best' | 'all';
}

export interface GbdtOptions {
  /** Default: binary for two classes, multiclass for more. */
  readonly objective?: ObjectiveName;
  /** Default: the largest label + 1. */
  readonly numClasses?: number;
  /** Boosting rounds (default 100). */
  readonly rounds?: number;
  /** Shrinkage of every tree's outputs (default 0.1). */
  readonly learningRate?: number;
  /** The most leaves per tree (default 31). */
  readonly numLeaves?: number;
  /** The deepest a leaf may be; 0 for no limit (default). */
  readonly maxDepth?: number;
  /** The fewest rows in a leaf (default 20). */
  readonly minChildSamples?: number;
  /** The smallest hessian sum in a leaf (default 1e-3). */
  readonly minChildWeight?: number;
  /** L2 regularisation λ of leaf outputs (default 1). */
  readonly lambda?: number;
  /** A split must gain more than this (default 0). */
  readonly minGainToSplit?: number;
  /** Value bins per feature, at most 255 (default 255); a missing bin comes on top. */
  readonly maxBins?: number;
  /** Rows sampled to place the bin edges (default 200,000). */
  readonly binSampleRows?: number;
  /** Share of the rows each round's trees are grown on, drawn afresh each round (default 1). */
  readonly subsample?: number;
  /** Share of the features each tree may split on, drawn afresh each tree (default 1). */
  readonly featureFraction?: number;
  /** Weight of each class's rows, or 'balanced' (n / (K · n_k), as scikit-learn). Default: all 1. */
  readonly classWeight?: 'balanced' | readonly number[];
  /** Hold out a stratified validation split and stop when its loss stops improving. Default: off. */
  readonly earlyStopping?: false | EarlyStoppingOptions;
  /** Names of the features, kept in the model for explanations. */
  readonly featureNames?: readonly string[];
  /** The randomness of the samples; default seededRandom(0), so a model is reproducible. */
  readonly random?: Random;
}

export interface ResolvedGbdtOptions {
  readonly objective: ObjectiveName;
  readonly numClasses: number;
  readonly rounds: number;
  readonly learningRate: number;
  readonly numLeaves: number;
  readonly maxDepth: number;
  readonly minChildSamples: number;
  readonly minChildWeight: number;
  readonly lambda: number;
  readonly minGainToSplit: number;
  readonly maxBins: number;
  readonly binSampleRows: number;
  readonly subsample: number;
  readonly featureFraction: number;
  readonly classWeight: 'balanced' | readonly number[] | null;
  readonly earlyStopping: { readonly validationFraction: number; readonly patience: number; readonly tolerance: number; readonly keep: 'best' | 'all' } | null;
  readonly featureNames: readonly string[] | null;
  readonly random: Random;
}

/** Fills in defaults and checks every bound; `seenClasses` is the largest label + 1, `features` the matrix width. */
export function resolveGbdtOptions(o: GbdtOptions, seenClasses: number, features: number): ResolvedGbdtOptions {
  const numClasses = o.numClasses ?? Math.max(2, seenClasses);
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 0x10000) throw invalidInput('numClasses must be an integer from 2 to 65536');
  if (seenClasses > numClasses) throw invalidInput('a label is not below numClasses');
  const objective = o.objective ?? (numClasses === 2 ? 'binary' : 'multiclass');
  if (objective !== 'binary' && objective !== 'multiclass') throw invalidInput('objective must be binary or multiclass');
  if (objective === 'binary' && numClasses !== 2) throw invalidInput('the binary objective needs exactly two classes');
  const classWeight = o.classWeight ?? null;
  if (Array.isArray(classWeight)) {
    if (classWeight.length !== numClasses || !classWeight.every((w) => Number.isFinite(w) && w > 0)) throw invalidInput('classWeight needs one positive weight per class');
  } else if (classWeight !== null && classWeight !== 'balanced') throw invalidInput("classWeight must be 'balanced' or one weight per class");
  const es = o.earlyStopping ?? false;
  const earlyStopping = es === false ? null : Object.freeze({ validationFraction: es.validationFraction ?? 0.1, patience: es.patience ?? 10, tolerance: es.tolerance ?? 1e-7, keep: es.keep ?? 'best' });
  if (earlyStopping !== null) {
    check(earlyStopping.validationFraction > 0 && earlyStopping.validationFraction < 1, 'earlyStopping.validationFraction must be in (0, 1)');
    check(Number.isInteger(earlyStopping.patience) && earlyStopping.patience >= 1, 'earlyStopping.patience must be a positive integer');
    check(earlyStopping.tolerance >= 0 && Number.isFinite(earlyStopping.tolerance), 'earlyStopping.tolerance must be a finite number >= 0');
    check(earlyStopping.keep === 'best' || earlyStopping.keep === 'all', "earlyStopping.keep must be 'best' or 'all'");
  }
  const featureNames = o.featureNames === undefined ? null : Object.freeze([...o.featureNames]);
  if (featureNames !== null && (featureNames.length !== features || !featureNames.every((n) => typeof n === 'string'))) throw invalidInput('featureNames needs one name per feature');
  const r: ResolvedGbdtOptions = {
    objective,
    numClasses,
    rounds: o.rounds ?? 100,
    learningRate: o.learningRate ?? 0.1,
    numLeaves: o.numLeaves ?? 31,
    maxDepth: o.maxDepth ?? 0,
    minChildSamples: o.minChildSamples ?? 20,
    minChildWeight: o.minChildWeight ?? 1e-3,
    lambda: o.lambda ?? 1,
    minGainToSplit: o.minGainToSplit ?? 0,
    maxBins: o.maxBins ?? MAX_BINS,
    binSampleRows: o.binSampleRows ?? 200_000,
    subsample: o.subsample ?? 1,
    featureFraction: o.featureFraction ?? 1,
    classWeight,
    earlyStopping,
    featureNames,
    random: o.random ?? seededRandom(0),
  };
  check(Number.isInteger(r.rounds) && r.rounds >= 1 && r.rounds <= 100_000, 'rounds must be an integer from 1 to 100000');
  check(r.learningRate > 0 && r.learningRate <= 1, 'learningRate must be in (0, 1]');
  check(Number.isInteger(r.numLeaves) && r.numLeaves >= 2 && r.numLeaves <= 65_536, 'numLeaves must be an integer from 2 to 65536');
  check(Number.isInteger(r.maxDepth) && r.maxDepth >= 0 && r.maxDepth <= 64, 'maxDepth must be an integer from 0 (no limit) to 64');
  check(Number.isInteger(r.minChildSamples) && r.minChildSamples >= 1, 'minChildSamples must be a positive integer');
  check(r.minChildWeight >= 0 && Number.isFinite(r.minChildWeight), 'minChildWeight must be a finite number >= 0');
  check(r.lambda >= 0 && Number.isFinite(r.lambda), 'lambda must be a finite number >= 0');
  check(r.minGainToSplit >= 0 && Number.isFinite(r.minGainToSplit), 'minGainToSplit must be a finite number >= 0');
  check(Number.isInteger(r.maxBins) && r.maxBins >= 2 && r.maxBins <= MAX_BINS, `maxBins must be an integer from 2 to ${MAX_BINS}`);
  check(Number.isInteger(r.binSampleRows) && r.binSampleRows >= 1, 'binSampleRows must be a positive integer');
  check(r.subsample > 0 && r.subsample <= 1, 'subsample must be in (0, 1]');
  check(r.featureFraction > 0 && r.featureFraction <= 1, 'featureFraction must be in (0, 1]');
  return Object.freeze(r);
}

function check(ok: boolean, message: string): void {
  if (!ok) throw invalidInput(message);
}
