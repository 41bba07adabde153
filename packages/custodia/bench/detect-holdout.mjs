// Held-out attack families (issue 6, "hold out whole attack types in one experiment"):
// how well do the trees alone and the hybrid detect attacks of a kind they never saw?
//
//   npm run build && node packages/custodia/bench/detect-holdout.mjs
//
// Data: the NSL-KDD 20% training subset (the repository's fixture), 39 features
// (detect/nsl-kdd-features.ts), classes normal / DoS / Probe / R2L / U2R. Folds: 5,
// stratified by attack type (detect/k-fold.ts, seed 'holdout-folds').
//
// Leave one attack family out, for each of the four: train on folds 1–4 without any row
// of that family (the trees learn normal + the three other families, their cut the 0.995
// quantile of their validation normal rows' attack probabilities; the forest learns the
// normal rows of folds 1–4, its threshold the 0.995 quantile of held-out normal scores),
// then score fold 0 (normal rows and the three seen families) and every row of the
// held-out family (none of which was trained on). Reported per family: the detection rate
// (label 1) of the held-out rows for the trees alone (the hybrid's own boosted trees as a
// classifier, cut at 0.5, so the comparison isolates what the hybrid's random forest and
// two budgets add)
// and for the hybrid, their AUC against fold 0's normal rows, the false-positive rate on
// fold 0's normal rows, and the detection rate of the seen families in fold 0. One JSON
// line per family, then a summary line.
//
// Beside ours, in the same run when Debian's python3-sklearn is installed:
// scikit-learn's HistGradientBoosting and RandomForest trained on the same rows and
// classifying the same rows (bench/sklearn_holdout.py), each by its own decision; one
// JSON line. `npm run bench` reports the means (bench/run.mjs).
import { assignFolds, ATTACK_CLASSES, rocAuc, scoreDetections, selectRows, trainHybridDetector, NSL_KDD_SCHEMA } from '../dist/detect/index.js';
import { seededRandom } from '../dist/kernel/index.js';
import { nslKddFixture } from './detect-iforest.mjs';
import { runSklearn, sklearnMissing } from './sklearn.mjs';

const log = (m) => process.stderr.write(`[holdout] ${m}\n`);
const CLASSES = ['normal', ...ATTACK_CLASSES];

/** The fixture with each row's class name. */
export function holdoutData() {
  const { labels, matrix } = nslKddFixture();
  return { matrix, types: labels.map((l) => l.type), cls: labels.map((l) => (l.attack ? l.attackClass : 'normal')) };
}

const rate = (flags) => (flags.length === 0 ? 0 : flags.reduce((a, b) => a + b, 0) / flags.length);

/** Trains without `family` (and without fold 0), scores fold 0 and the family; returns the figures. */
export function holdOutFamily(data, family, fold, { seed = 'holdout', gbdt } = {}) {
  const { matrix, cls } = data;
  const classes = CLASSES.filter((c) => c !== family);
  const train = cls.flatMap((c, i) => (fold[i] !== 0 && c !== family ? [i] : []));
  const test = cls.flatMap((c, i) => (fold[i] === 0 || c === family ? [i] : []));
  const t0 = performance.now();
  const hybrid = trainHybridDetector(NSL_KDD_SCHEMA, selectRows(matrix, train), Int32Array.from(train, (i) => classes.indexOf(cls[i])), classes, { random: seededRandom(`${seed}-${family}`), ...(gbdt ? { gbdt } : {}) });
  const trainSeconds = (performance.now() - t0) / 1000;
  const trees = { kind: 'gbdt', schema: hybrid.schema, classes: hybrid.classes, gbdt: hybrid.gbdt };
  const rows = selectRows(matrix, test);
  const h = scoreDetections(hybrid, rows);
  const g = scoreDetections(trees, rows);
  const pick = (pred) => test.flatMap((r, i) => (pred(r) ? [i] : []));
  const held = pick((r) => cls[r] === family);
  const normal = pick((r) => cls[r] === 'normal');
  const seen = pick((r) => cls[r] !== family && cls[r] !== 'normal');
  const auc = (s) => rocAuc(Float64Array.from([...held, ...normal], (i) => s.score[i]), [...held.map(() => true), ...normal.map(() => false)]);
  const by = (s, rowsAt) => rate(rowsAt.map((i) => s.label[i]));
  return {
    family,
    heldOutRows: held.length,
    trainSeconds: Math.round(trainSeconds * 10) / 10,
    forestThreshold: hybrid.forestThreshold,
    gbdt: { heldOutDetection: by(g, held), heldOutAuc: auc(g), falsePositiveRate: by(g, normal), seenDetection: by(g, seen) },
    hybrid: { heldOutDetection: by(h, held), heldOutAuc: auc(h), falsePositiveRate: by(h, normal), seenDetection: by(h, seen) },
  };
}

const meanOf = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The experiment: one result per family (as {@link holdOutFamily}), the means over the
 * four for the trees alone and the hybrid, and the data and fold for scikit-learn.
 */
export function holdoutFigures(logTo = log) {
  const data = holdoutData();
  const fold = assignFolds(data.types, 5, seededRandom('holdout-folds'));
  const results = ATTACK_CLASSES.map((family) => {
    logTo(`leaving out ${family}`);
    return holdOutFamily(data, family, fold);
  });
  const mean = (part) => ({ heldOutDetection: meanOf(results.map((r) => r[part].heldOutDetection)), falsePositiveRate: meanOf(results.map((r) => r[part].falsePositiveRate)) });
  return { results, gbdt: mean('gbdt'), hybrid: mean('hybrid'), data, fold };
}

/** scikit-learn's { hgb, rf } held-out figures (per family, and their means), or a reason string when it cannot run. */
export function sklearnHoldoutFigures({ matrix, cls }, fold) {
  const missing = sklearnMissing();
  if (missing !== undefined) return missing;
  const out = runSklearn('sklearn_holdout.py', {
    'matrix.f64': matrix.data,
    'y.i32': Int32Array.from(cls, (c) => CLASSES.indexOf(c)),
    'fold.i32': Int32Array.from(fold),
    'meta.json': JSON.stringify({ rows: matrix.rows, width: matrix.width, classes: CLASSES }),
  });
  for (const model of Object.values(out)) {
    const families = Object.values(model);
    model.mean = { heldOutDetection: meanOf(families.map((f) => f.detection)), falsePositiveRate: meanOf(families.map((f) => f.false_positive_rate)) };
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = holdoutFigures();
  for (const r of figures.results) process.stdout.write(`${JSON.stringify(r)}\n`);
  process.stdout.write(`${JSON.stringify({ summary: 'mean over the four held-out families', gbdt: figures.gbdt, hybrid: figures.hybrid })}\n`);
  const sk = sklearnHoldoutFigures(figures.data, figures.fold);
  if (typeof sk === 'string') log(`scikit-learn skipped: ${sk}`);
  else process.stdout.write(`${JSON.stringify({ sklearn: sk })}\n`);
}
