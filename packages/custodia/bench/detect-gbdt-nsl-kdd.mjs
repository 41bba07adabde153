// Exploratory, not part of the tests or of `npm run bench`: 5-fold stratified cross-
// validation of the gradient-boosted trees on the NSL-KDD 20% training subset
// (Tavallaee et al., "A Detailed Analysis of the KDD CUP 99 Data Set", CISDA 2009).
//
//   npm run build && node packages/custodia/bench/detect-gbdt-nsl-kdd.mjs [FILE] [config]
//   node packages/custodia/bench/detect-gbdt-nsl-kdd.mjs --sklearn [FILE]   (scikit-learn's, same folds)
//
// FILE defaults to the repository's fixture (test/fixtures/nsl-kdd). The rows are encoded
// with the detection feature schema (detect/nsl-kdd-features.ts: 39 features, no
// identifiers) and labelled with detect/nsl-kdd-labels.ts (normal, DoS, Probe, R2L, U2R);
// the folds are stratified by attack type (detect/k-fold.ts) and the AUC is
// detect/roc-auc.ts, as in the isolation forest's figures. Reports, over the same folds:
// binary AUC (normal vs attack, from a binary model and from the 5-class model's
// 1 − P(normal)), 5-class macro-F1, per-class recall, and training time.
import { readFileSync } from 'node:fs';
import { assignFolds, ATTACK_CLASSES, denseMatrix, FeatureEncoder, NSL_KDD_SCHEMA, nslKddLabel, nslKddRow, rocAuc, trainGbdt } from '../dist/detect/index.js';
import { seededRandom } from '../dist/kernel/index.js';
import { runSklearn, sklearnMissing } from './sklearn.mjs';

const log = (m) => process.stderr.write(`${m}\n`);
const FIXTURE = new URL('../test/fixtures/nsl-kdd/KDDTrain+_20Percent.txt', import.meta.url);
const CLASSES = ['normal', ...ATTACK_CLASSES];

/** The file's rows encoded ({ x, y } with y the class index in CLASSES) and each row's attack type. */
export function readNslKdd(path = FIXTURE) {
  const rows = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => nslKddRow(l.split(',')));
  const labels = rows.map((r) => nslKddLabel(r.label ?? ''));
  const encoded = new FeatureEncoder(NSL_KDD_SCHEMA).encodeAll(rows.map((r) => r.features));
  const y = Int32Array.from(labels, (l, i) => {
    const c = l.attack ? CLASSES.indexOf(l.attackClass) : 0;
    if (c < 0) throw new Error(`line ${i + 1}: attack type ${l.type} has no class`);
    return c;
  });
  return { x: denseMatrix(encoded.data, encoded.width), y, types: labels.map((l) => l.type) };
}

function subset(x, y, rows) {
  const w = x.features;
  const data = new Float64Array(rows.length * w);
  rows.forEach((r, i) => data.set(x.data.subarray(r * w, (r + 1) * w), i * w));
  return { x: denseMatrix(data, w), y: Int32Array.from(rows, (r) => y[r]) };
}

const CONFIGS = {
  default: { rounds: 1000, learningRate: 0.1, numLeaves: 31, earlyStopping: { patience: 30 } },
  small_leaves: { rounds: 1000, learningRate: 0.1, numLeaves: 31, minChildSamples: 3, earlyStopping: { patience: 30 } },
  balanced: { rounds: 1000, learningRate: 0.1, numLeaves: 31, minChildSamples: 3, classWeight: 'balanced', earlyStopping: { patience: 30 } },
};

export function crossValidate(path, configName = 'default', k = 5) {
  const config = CONFIGS[configName];
  const { x, y, types } = readNslKdd(path);
  const fold = assignFolds(types, k, seededRandom('nsl-kdd-gbdt-cv'));
  const binaryScore = new Float64Array(y.length);
  const multiAttackScore = new Float64Array(y.length);
  const predicted = new Int32Array(y.length);
  const times = [];
  const rounds = [];
  for (let f = 0; f < k; f++) {
    const trainRows = [];
    const testRows = [];
    fold.forEach((g, i) => (g === f ? testRows : trainRows).push(i));
    const train = subset(x, y, trainRows);
    const test = subset(x, y, testRows);
    const yBinary = train.y.map((c) => (c === 0 ? 0 : 1));
    const cpu = () => process.cpuUsage().user / 1e6;
    let t0 = cpu();
    const binary = trainGbdt(train.x, yBinary, { ...config, classWeight: config.classWeight, random: seededRandom(f) });
    const tBinary = cpu() - t0;
    t0 = cpu();
    const multi = trainGbdt(train.x, train.y, { ...config, numClasses: 5, random: seededRandom(f) });
    const tMulti = cpu() - t0;
    const pb = binary.model.predictProba(test.x);
    const pm = multi.model.predictProba(test.x);
    const cls = multi.model.predictClass(test.x);
    testRows.forEach((r, i) => {
      binaryScore[r] = pb[2 * i + 1];
      multiAttackScore[r] = 1 - pm[5 * i];
      predicted[r] = cls[i];
    });
    times.push({ binary: tBinary, multiclass: tMulti });
    rounds.push({ binary: binary.bestRounds, multiclass: multi.bestRounds });
    log(`fold ${f + 1}/${k}: binary ${binary.bestRounds} rounds (${binary.roundsRun} run) ${tBinary.toFixed(1)} s, 5-class ${multi.bestRounds} rounds (${multi.roundsRun} run) ${tMulti.toFixed(1)} s CPU`);
  }
  const attack = Array.from(y, (c) => c !== 0);
  const recall = CLASSES.map((_, c) => {
    let hit = 0;
    let n = 0;
    y.forEach((t, i) => t === c && (n++, predicted[i] === c && hit++));
    return { n, recall: hit / n };
  });
  const f1 = CLASSES.map((_, c) => {
    let tp = 0, fp = 0, fn = 0;
    y.forEach((t, i) => {
      if (predicted[i] === c && t === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (t === c) fn++;
    });
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  });
  const confusion = CLASSES.map((_, t) => CLASSES.map((_, p) => y.reduce((n, yt, i) => n + (yt === t && predicted[i] === p ? 1 : 0), 0)));
  return {
    config: configName,
    rows: y.length,
    aucBinaryModel: rocAuc(binaryScore, attack),
    aucFrom5ClassModel: rocAuc(multiAttackScore, attack),
    macroF1: f1.reduce((a, b) => a + b, 0) / f1.length,
    perClass: Object.fromEntries(CLASSES.map((c, i) => [c, { n: recall[i].n, recall: recall[i].recall, f1: f1[i] }])),
    confusion,
    trainCpuSeconds: times,
    bestRounds: rounds,
  };
}

/**
 * scikit-learn's HistGradientBoostingClassifier on the same rows, features and folds
 * (bench/sklearn_gbdt.py), one core; undefined when scikit-learn is not installed.
 */
export function sklearnCrossValidate(path = FIXTURE, k = 5) {
  if (sklearnMissing() !== undefined) return undefined;
  const { x, y, types } = readNslKdd(path);
  const fold = assignFolds(types, k, seededRandom('nsl-kdd-gbdt-cv'));
  return runSklearn('sklearn_gbdt.py', {
    'matrix.f64': Float64Array.from(x.data),
    'y.i32': y,
    'fold.i32': Int32Array.from(fold),
    'meta.json': JSON.stringify({ rows: y.length, width: x.features, folds: k }),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--sklearn') {
    process.stdout.write(`${JSON.stringify(sklearnCrossValidate(process.argv[3] ?? FIXTURE) ?? 'scikit-learn is not installed (scripts/install-sklearn.sh)', null, 1)}\n`);
    process.exit(0);
  }
  const path = process.argv[2] === undefined || process.argv[2] === '-' ? FIXTURE : process.argv[2];
  process.stdout.write(`${JSON.stringify(crossValidate(path, process.argv[3] ?? 'default'), null, 1)}\n`);
}
