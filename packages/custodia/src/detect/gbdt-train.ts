/**
 * Gradient boosting of histogram trees (Friedman, "Greedy Function Approximation: A
 * Gradient Boosting Machine", Ann. Statist. 2001; Ke et al., "LightGBM", NeurIPS 2017):
 *
 *   bin the features → start from the class priors → each round: gradients and hessians
 *   at the current scores → one leaf-wise tree per output → shrink and add → watch the
 *   validation loss, stop when it has not improved (by more than `tolerance`) for
 *   `patience` rounds, keep the best rounds (or, with `keep: 'all'`, every round run).
 *
 * Everything random (the validation split, the bin sample, row bagging, feature
 * fractions) is drawn from one generator seeded by the injected Random, and every sum
 * runs in a fixed order: one seed gives one model, bit for bit.
 */
import { binMatrix, computeFeatureBins } from './gbdt-bins.js';
import { histogramLayout } from './gbdt-histogram.js';
import { checkLabels, checkMatrix, invalidInput, type DenseMatrix } from './gbdt-matrix.js';
import { GbdtModel } from './gbdt-model.js';
import { computeGradients, initialScores, meanLoss, outputsOf } from './gbdt-objective.js';
import { resolveGbdtOptions, type GbdtOptions, type ResolvedGbdtOptions } from './gbdt-options.js';
import { sampleSorted, seededPrng } from './gbdt-prng.js';
import { binnedLeafOf, growTree, treeContext } from './gbdt-tree-builder.js';
import type { GbdtTree } from './gbdt-tree.js';
import { stratifiedSplit } from './gbdt-validation-split.js';

export interface GbdtTraining {
  readonly model: GbdtModel;
  /** Mean (weighted) training loss after each round; index 0 is after round 1. */
  readonly trainLoss: Float64Array;
  /** The same on the validation rows (empty without early stopping). */
  readonly validationLoss: Float64Array;
  /** The round with the lowest validation loss (all rounds run, without early stopping). */
  readonly bestRounds: number;
  /** Rounds kept in the model: {@link bestRounds}, or all rounds run with `earlyStopping.keep` `all`. */
  readonly roundsKept: number;
  /** Rounds actually run. */
  readonly roundsRun: number;
  /** The rows held out of fitting to watch for early stopping, in increasing order (empty without early stopping). */
  readonly validationRows: Uint32Array;
  readonly options: ResolvedGbdtOptions;
}

/**
 * Trains a classifier on `m` (rows × features, NaN missing) and `labels` (0 … K−1).
 *
 * @example
 *   const { model } = trainGbdt(denseMatrix(x, 2), labels, { rounds: 200, earlyStopping: { patience: 20 }, random: seededRandom(1) });
 *   const p = model.predictProba(denseMatrix(xTest, 2));
 */
export function trainGbdt(m: DenseMatrix, labels: ArrayLike<number>, options: GbdtOptions = {}): GbdtTraining {
  checkMatrix(m);
  if (m.rows < 2) throw invalidInput('training needs at least two rows');
  const o = resolveGbdtOptions(options, checkLabels(labels, m.rows), m.features);
  const k = outputsOf(o.objective, o.numClasses);
  const prng = seededPrng(o.random);
  const weights = rowWeights(o, labels, m.rows);

  const all = Uint32Array.from({ length: m.rows }, (_, i) => i);
  const { fit, validation } = o.earlyStopping === null ? { fit: all, validation: new Uint32Array(0) } : stratifiedSplit(prng, labels, o.numClasses, all, o.earlyStopping.validationFraction);
  const bins = computeFeatureBins(m, fit.length <= o.binSampleRows ? fit : pick(fit, sampleSorted(prng, fit.length, o.binSampleRows)), o.maxBins);
  const binned = binMatrix(m, bins);
  const ctx = treeContext(bins, histogramLayout(bins), binned, m.rows, o);

  const initScore = initialScores(o.objective, o.numClasses, labels, weights, fit);
  const scores = new Float64Array(m.rows * k);
  for (let r = 0; r < m.rows; r++) scores.set(initScore, r * k);
  const grad = new Float64Array(m.rows * k);
  const hess = new Float64Array(m.rows * k);
  const inBag = new Uint8Array(m.rows);
  const allFeatures = Int32Array.from({ length: m.features }, (_, f) => f);
  const bagSize = Math.max(1, Math.round(o.subsample * fit.length));
  const featureCount = Math.max(1, Math.round(o.featureFraction * m.features));

  const trees: GbdtTree[] = [];
  const trainLoss: number[] = [];
  const validationLoss: number[] = [];
  let best = { loss: Infinity, rounds: 0 };
  let round = 0;
  while (round < o.rounds) {
    const bag = bagSize < fit.length ? pick(fit, sampleSorted(prng, fit.length, bagSize)) : fit;
    computeGradients(o.objective, k, scores, labels, weights, bag, grad, hess);
    inBag.fill(0);
    for (let i = 0; i < bag.length; i++) inBag[bag[i]!] = 1;
    for (let c = 0; c < k; c++) {
      const features = featureCount < m.features ? Int32Array.from(sampleSorted(prng, m.features, featureCount)) : allFeatures;
      const grown = growTree(ctx, grad.subarray(c * m.rows, (c + 1) * m.rows), hess.subarray(c * m.rows, (c + 1) * m.rows), bag, features);
      trees.push(grown.tree);
      // In-bag rows: their leaf is known from the partition. Others are routed on their bins.
      for (let l = 0; l < grown.leafNodes.length; l++) {
        const v = grown.tree.value[grown.leafNodes[l]!]!;
        for (let i = grown.leafBegin[l]!; i < grown.leafEnd[l]!; i++) scores[grown.rows[i]! * k + c]! += v;
      }
      for (const rows of bag === fit ? [validation] : [fit, validation]) {
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i]!;
          if (inBag[r] === 1) continue;
          scores[r * k + c]! += grown.tree.value[binnedLeafOf(grown, bins.numBins, binned, m.rows, r)]!;
        }
      }
    }
    round++;
    trainLoss.push(meanLoss(o.objective, k, scores, labels, weights, fit));
    if (o.earlyStopping !== null) {
      const loss = meanLoss(o.objective, k, scores, labels, weights, validation);
      validationLoss.push(loss);
      if (loss < best.loss - o.earlyStopping.tolerance) best = { loss, rounds: round };
      else if (round - best.rounds >= o.earlyStopping.patience) break;
    }
  }
  const bestRounds = o.earlyStopping === null ? round : Math.max(1, best.rounds);
  const roundsKept = o.earlyStopping?.keep === 'all' ? round : bestRounds;
  const model = new GbdtModel({ objective: o.objective, numClasses: o.numClasses, numFeatures: m.features, featureNames: o.featureNames, initScore, trees: trees.slice(0, roundsKept * k) });
  return { model, trainLoss: Float64Array.from(trainLoss), validationLoss: Float64Array.from(validationLoss), bestRounds, roundsKept, roundsRun: round, validationRows: validation, options: o };
}

/** Each row's weight: its class's weight. */
function rowWeights(o: ResolvedGbdtOptions, labels: ArrayLike<number>, rows: number): Float64Array {
  const w = new Float64Array(rows).fill(1);
  if (o.classWeight === null) return w;
  let perClass: readonly number[] = o.classWeight === 'balanced' ? [] : o.classWeight;
  if (o.classWeight === 'balanced') {
    const counts = new Float64Array(o.numClasses);
    for (let r = 0; r < rows; r++) counts[labels[r]!]!++;
    perClass = Array.from(counts, (n) => (n > 0 ? rows / (o.numClasses * n) : 1));
  }
  for (let r = 0; r < rows; r++) w[r] = perClass[labels[r]!]!;
  return w;
}

function pick(rows: Uint32Array, positions: Uint32Array): Uint32Array {
  return positions.map((p) => rows[p]!);
}

