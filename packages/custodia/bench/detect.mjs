// Detection figures for `npm run bench` (issue 6): our isolation forest against
// scikit-learn's, on the same NSL-KDD 20% rows, features and folds, in the same run.
// scikit-learn comes from Debian's python3-sklearn (scripts/install-sklearn.sh); without
// it only our own figures are reported, and the run says so.
import { assignFolds, DETECTOR_FOREST_OPTIONS, NSL_KDD_SCHEMA, rocAuc, scoreDetections, trainIsolationForest, trainUnsupervisedDetector } from '../dist/detect/index.js';
import { seededRandom } from '../dist/kernel/index.js';
import { isolationForestScoring, nslKddFixture, selectRows } from './detect-iforest.mjs';
import { runSklearn, sklearnMissing } from './sklearn.mjs';

const FOLDS = 5;

/** Our 5-fold CV AUC at subsample size ψ, each fold's forest trained on the normal rows of the other folds. */
function ourAuc({ labels, matrix }, fold, attack, subsampleSize) {
  const scores = new Float64Array(matrix.rows);
  for (let f = 0; f < FOLDS; f++) {
    const train = labels.flatMap((l, i) => (fold[i] !== f && !l.attack ? [i] : []));
    const test = labels.flatMap((_, i) => (fold[i] === f ? [i] : []));
    const forest = trainIsolationForest(selectRows(matrix, train), { random: seededRandom(`bench-fold-${f}`), subsampleSize });
    const held = forest.scoreBatch(selectRows(matrix, test).data, matrix.width);
    test.forEach((r, i) => (scores[r] = held[i]));
  }
  return rocAuc(scores, attack);
}

/**
 * The unsupervised detector as `custodia detect train --unsupervised` makes it (the forest,
 * its threshold and its rare values, detect/rare-values.ts), scored as `detect score` scores
 * it, on the same folds: the figure the "unsupervised model alone" is about.
 */
function detectorAuc({ labels, matrix }, fold, attack) {
  const scores = new Float64Array(matrix.rows);
  for (let f = 0; f < FOLDS; f++) {
    const train = labels.flatMap((l, i) => (fold[i] !== f && !l.attack ? [i] : []));
    const test = labels.flatMap((_, i) => (fold[i] === f ? [i] : []));
    const model = trainUnsupervisedDetector(NSL_KDD_SCHEMA, selectRows(matrix, train), { random: seededRandom(`bench-fold-${f}`) });
    const held = scoreDetections(model, selectRows(matrix, test)).score;
    test.forEach((r, i) => (scores[r] = held[i]));
  }
  return rocAuc(scores, attack);
}

/** scikit-learn on the same matrix and folds; undefined when it is not installed. */
function sklearn(matrix, fold, attack, seconds) {
  if (sklearnMissing() !== undefined) return undefined;
  return runSklearn('sklearn_detect.py', {
    'matrix.f64': matrix.data,
    'fold.i32': Int32Array.from(fold),
    'attack.u8': Uint8Array.from(attack, (a) => (a ? 1 : 0)),
    'meta.json': JSON.stringify({ rows: matrix.rows, width: matrix.width, folds: FOLDS }),
  }, [seconds, ...PSI]);
}

/**
 * Subsample sizes compared with scikit-learn: the paper's 256 (scikit-learn's default, and
 * this bench's only one until 2026-11-30) and the detectors' (DETECTOR_FOREST_OPTIONS).
 */
export const PSI = [...new Set([256, DETECTOR_FOREST_OPTIONS.subsampleSize])];

/**
 * { ours: {[ψ]: {auc, rowsPerSecond, trainMs}, detectorAuc}, sklearn?: {[ψ]: {auc, rows_per_second, train_ms}} }:
 * the bare forests at each ψ of {@link PSI}, and the unsupervised detector (at its own ψ).
 */
export function detectionFigures(seconds = 3) {
  const data = nslKddFixture();
  const attack = data.labels.map((l) => l.attack);
  const fold = assignFolds(data.labels.map((l) => l.type), FOLDS, seededRandom('bench-folds'));
  const ours = {};
  for (const psi of PSI) {
    const speed = isolationForestScoring(seconds, data, psi);
    ours[psi] = { auc: ourAuc(data, fold, attack, psi), rowsPerSecond: speed.rowsPerSecond, trainMs: speed.trainMs };
  }
  ours.detectorAuc = detectorAuc(data, fold, attack);
  return { ours, sklearn: sklearn(data.matrix, fold, attack, seconds) };
}
