/**
 * The hybrid detector (detect/train-detector.ts, detection-scores.ts): the trees' classes
 * OR an isolation forest trained on normal rows and thresholded on held-out normal rows.
 *
 * The claim it exists for, on the NSL-KDD fixture: an attack family removed from training
 * entirely (here DoS: none of its 9,234 rows is seen) is still flagged, at a far better
 * rate than by the same trees alone, for a false-positive rate of a few percent. The
 * training is kept small (one fold, 30 rounds of 15 leaves, 50 forest trees) so the test
 * takes about a second; bench/detect-holdout.mjs runs the full-size experiment.
 */
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assignFolds, ATTACK_CLASSES, denseMatrix, departures, explainDetection, supervisedProbabilities, forestPartScores, rareValues, formatModelFile, NSL_KDD_SCHEMA, parseModelFile, scoreDetections, trainHybridDetector, trainUnsupervisedDetector,
  type DetectionModel, type DetectorTrainingOptions, type HybridModel, type IsolationForestModel,
} from '../../src/detect/index.js';
import { isCustodiaError, seededRandom } from '../../src/kernel/index.js';
import { runs } from '../ledger/seeded.js';
import { loadNslKdd, selectRows, type NslKddFixture } from './nsl-kdd-fixture.js';

const SMALL = { gbdt: { rounds: 30, numLeaves: 15, earlyStopping: false as const }, forest: { trees: 50 }, randomForest: { trees: 30 } };
/** As SMALL, with the validation split the trees' cut is set on. */
const SMALL_WITH_CUT = { ...SMALL, gbdt: { rounds: 30, numLeaves: 15, earlyStopping: { validationFraction: 0.1, patience: 30 } } };
const HELD_OUT = 'DoS';
const CLASSES = ['normal', ...ATTACK_CLASSES.filter((c) => c !== HELD_OUT)];

let data: NslKddFixture;
let cls: string[];
let fold: Int32Array;
let train: number[];
let model: HybridModel;
let cutModel: HybridModel;

function trainOn(rows: number[], seed: number, options: Omit<DetectorTrainingOptions, 'random'> = SMALL): HybridModel {
  return trainHybridDetector(NSL_KDD_SCHEMA, selectRows(data.matrix, rows), Int32Array.from(rows, (i) => CLASSES.indexOf(cls[i]!)), CLASSES, { random: seededRandom(seed), ...options });
}

beforeAll(() => {
  data = loadNslKdd();
  cls = data.labels.map((l) => (l.attack ? l.attackClass! : 'normal'));
  fold = assignFolds(data.labels.map((l) => l.type), 5, seededRandom('hybrid-test-folds'));
  train = cls.flatMap((c, i) => (fold[i] === 1 && c !== HELD_OUT ? [i] : []));
  model = trainOn(train, 1);
  cutModel = trainOn(train, 1, SMALL_WITH_CUT);
});

describe('the hybrid detector', () => {
  it('flags an attack family it never saw far more often than its trees alone, at a small false-positive rate', () => {
    const test = cls.flatMap((c, i) => (fold[i] === 0 && (c === 'normal' || c === HELD_OUT) ? [i] : []));
    const rows = selectRows(data.matrix, test);
    const trees: DetectionModel = { kind: 'gbdt', schema: model.schema, classes: model.classes, gbdt: model.gbdt };
    const rate = (m: DetectionModel, heldOut: boolean): number => {
      const s = scoreDetections(m, rows);
      const pick = test.flatMap((r, i) => ((cls[r] === HELD_OUT) === heldOut ? [i] : []));
      return pick.reduce((a, i) => a + s.label[i]!, 0) / pick.length;
    };
    // Measured (2026-11-30; this model's trees cut at 0.5, having no validation rows): trees 0.185, hybrid 0.897; false positives 0.48% and 1.38%.
    expect(rate(model, true)).toBeGreaterThan(0.8);
    expect(rate(model, true) - rate(trees, true)).toBeGreaterThan(0.4);
    expect(rate(model, false)).toBeLessThan(0.05);
  });

  it('is deterministic for a seed, and another seed gives another model', () => {
    const again = trainOn(train, 1);
    expect(formatModelFile(again)).toBe(formatModelFile(model));
    expect(formatModelFile(trainOn(train, 2))).not.toBe(formatModelFile(model));
  });

  it('labels attack exactly when the score is above 0.5, and names forest-only alerts unknown', () => {
    const s = scoreDetections(model, data.matrix);
    let unknown = 0;
    const wrong: number[] = [];
    for (let r = 0; r < s.rows; r++) {
      if (s.label[r] !== (s.score[r]! > 0.5 ? 1 : 0) || !(s.score[r]! >= 0 && s.score[r]! <= 1)) wrong.push(r);
      if (s.classIndex[r] === -1) {
        unknown++;
        if (!(s.forestScore[r]! > model.forestThreshold && s.attackProbability[r]! <= 0.5)) wrong.push(r);
      }
    }
    expect(wrong).toEqual([]);
    expect(unknown).toBeGreaterThan(0);
  });

  it('explains an alert: score, threshold, class and the top features of both parts with their values', () => {
    const neptune = data.labels.findIndex((l) => l.type === 'neptune');
    const row = data.matrix.data.slice(neptune * data.matrix.width, (neptune + 1) * data.matrix.width);
    const e = explainDetection(model, row, 3);
    expect(e).toMatchObject({ model: 'hybrid', label: 1, threshold: 0.5, forestThreshold: model.forestThreshold });
    expect(e.score).toBeGreaterThan(0.5);
    expect(e.features.filter((f) => f.source === 'forest').length).toBeGreaterThan(0);
    expect(e.features.filter((f) => f.source === 'forest').reduce((a, f) => a + f.contribution, 0)).toBeLessThanOrEqual(1 + 1e-12);
    const flag = e.features.find((f) => f.feature === 'flag');
    if (flag !== undefined) expect(typeof flag.value).toBe('string');
  });
});

describe('the random forest beside the boosted trees', () => {
  it('averages the two ensembles\' class probabilities', () => {
    expect(cutModel.randomForest).toBeDefined();
    const probe = selectRows(data.matrix, Array.from({ length: 300 }, (_, i) => i * 79));
    const boosted = cutModel.gbdt.predictProba(denseMatrix(probe.data, probe.width));
    const forest = cutModel.randomForest!.predictProba(probe.data, probe.width);
    const p = supervisedProbabilities(cutModel, probe);
    for (let i = 0; i < p.length; i++) expect(p[i]).toBeCloseTo((boosted[i]! + forest[i]!) / 2, 15);
    const s = scoreDetections(cutModel, probe);
    for (let r = 0; r < probe.rows; r++) expect(s.attackProbability[r]).toBeCloseTo(1 - p[r * CLASSES.length]!, 12);
  });

  it('grows on the rows the boosted trees fitted, not on the validation rows their cut is set on', () => {
    // Each tree's leaves hold a bootstrap of the fitted rows: as many draws as there are of them (90% of the training rows).
    const fitted = cutModel.randomForest!.trees.map((t) => t.counts.reduce((a, b) => a + b, 0));
    expect(new Set(fitted).size).toBe(1);
    expect(fitted[0]).toBe(train.length - Math.round(0.1 * train.length));
    // Without early stopping every row is fitted, so every row is drawn from.
    expect(model.randomForest!.trees[0]!.counts.reduce((a, b) => a + b, 0)).toBe(train.length);
  });

  it('is left out on request, and then the trees are the boosted trees alone', () => {
    const alone = trainOn(train, 1, { ...SMALL_WITH_CUT, randomForest: false });
    expect(alone.randomForest).toBeUndefined();
    expect(JSON.parse(formatModelFile(alone)).model.randomForest).toBeUndefined();
    const probe = selectRows(data.matrix, Array.from({ length: 100 }, (_, i) => i * 101));
    expect(Array.from(supervisedProbabilities(alone, probe))).toEqual(Array.from(alone.gbdt.predictProba(denseMatrix(probe.data, probe.width))));
    expect(() => trainOn(train, 1, { ...SMALL, randomForest: { trees: 0 } })).toThrow(expect.objectContaining({ code: 'request-malformed' }));
  });

  it('explains an alert by both ensembles: the random forest\'s features in probability, adding up with its prior', () => {
    const neptune = data.labels.findIndex((l) => l.type === 'neptune');
    const row = data.matrix.data.slice(neptune * data.matrix.width, (neptune + 1) * data.matrix.width);
    const e = explainDetection(cutModel, row, 3);
    const forest = e.features.filter((f) => f.source === 'random-forest');
    expect(forest.length).toBeGreaterThan(0);
    expect(e.features.filter((f) => f.source === 'trees').length).toBeGreaterThan(0);
    for (const f of forest) expect(f.contribution).toBeGreaterThan(0);
    // DoS is held out of these models: the class named is another attack class, and the random forest's features are its.
    const named = cutModel.classes.indexOf(e.class);
    expect(named).toBeGreaterThan(0);
    const phi = cutModel.randomForest!.pathContributions(row, named);
    expect(forest.map((f) => f.contribution)).toEqual(Array.from(phi).filter((v) => v > 0).sort((a, b) => b - a).slice(0, forest.length));
    expect(cutModel.randomForest!.priorShare(named) + phi.reduce((a, b) => a + b, 0)).toBeCloseTo(cutModel.randomForest!.predictProba(row, row.length)[named]!, 12);
  });
});

describe("the trees' cut: a false-positive budget on normal rows they did not fit", () => {
  const heldOutTest = (): number[] => cls.flatMap((c, i) => (fold[i] === 0 && (c === 'normal' || c === HELD_OUT) ? [i] : []));

  it('is the 0.995 quantile of the attack probabilities of the normal validation rows, 0.5 at most', () => {
    expect(cutModel.treesQuantile).toBe(0.995);
    expect(cutModel.treesThreshold).toBeGreaterThan(0);
    expect(cutModel.treesThreshold).toBeLessThan(0.5);
    // An order statistic of normal training rows' probabilities: some normal row of the training set scores exactly it.
    // (The probabilities are the boosted trees' and the random forest's averaged, as the hybrid scores.)
    const s = scoreDetections(cutModel, selectRows(data.matrix, train));
    expect(train.some((r, i) => cls[r] === 'normal' && s.attackProbability[i] === cutModel.treesThreshold)).toBe(true);
    // A lower quantile spends more of the budget: the cut can only fall.
    expect(trainOn(train, 1, { ...SMALL_WITH_CUT, treesQuantile: 0.9 }).treesThreshold).toBeLessThanOrEqual(cutModel.treesThreshold);
  });

  it('splits a false-positive budget evenly: each part at the 1 − b/2 quantile', () => {
    expect(trainOn(train, 1, { ...SMALL_WITH_CUT, falsePositiveBudget: 0.04 })).toMatchObject({ treesQuantile: 0.98, normalQuantile: 0.98 });
    expect(cutModel.normalQuantile).toBe(0.995);
  });

  it('is 0.5, with no quantile, when no normal row was left unfitted (no early stopping, or bagged trees)', () => {
    expect(model.treesThreshold).toBe(0.5);
    expect(model.treesQuantile).toBeUndefined();
    const bagged = trainOn(train, 1, { ...SMALL_WITH_CUT, bags: 2 });
    expect(bagged.treesThreshold).toBe(0.5);
    expect(bagged.treesQuantile).toBeUndefined();
  });

  it('refuses a quantile outside (0, 1)', () => {
    for (const treesQuantile of [0, 1, Number.NaN]) expect(() => trainOn(train, 1, { ...SMALL_WITH_CUT, treesQuantile })).toThrow(expect.objectContaining({ code: 'request-malformed' }));
    for (const falsePositiveBudget of [0, 0.3, Number.NaN]) expect(() => trainOn(train, 1, { ...SMALL_WITH_CUT, falsePositiveBudget })).toThrow(expect.objectContaining({ code: 'request-malformed' }));
  });

  it('finds more of the family it never saw than the same trees cut at 0.5, at a small false-positive rate', () => {
    const test = heldOutTest();
    const rows = selectRows(data.matrix, test);
    const rate = (m: DetectionModel, heldOut: boolean): number => {
      const s = scoreDetections(m, rows);
      const pick = test.flatMap((r, i) => ((cls[r] === HELD_OUT) === heldOut ? [i] : []));
      return pick.reduce((a, i) => a + s.label[i]!, 0) / pick.length;
    };
    // About 270 normal validation rows: the default 0.5% for the trees takes rank ⌈0.995 · 271⌉ =
    // 270, the largest (normal-threshold.ts), which finds no more here than 0.5 does; 1% for
    // the trees (a budget of 2%) takes rank 269.
    const wider = trainOn(train, 1, { ...SMALL_WITH_CUT, falsePositiveBudget: 0.02 });
    const atHalf: HybridModel = { ...wider, treesThreshold: 0.5 };
    // Measured: 0.9015 against 0.8999 of the unseen DoS rows (the forest finds most), false positives 3.1% against 2.0%.
    expect(rate(wider, true)).toBeGreaterThan(rate(atHalf, true));
    expect(rate(wider, false)).toBeLessThan(0.05);
    // What the trees' lower cut costs on fresh normal rows: about their 1%.
    expect(rate(wider, false) - rate(atHalf, false)).toBeLessThan(0.02);
  });

  it('decides on it: attack exactly when the trees pass their cut or the forest its threshold; a trees alert names their class', () => {
    const s = scoreDetections(cutModel, data.matrix);
    const wrong: number[] = [];
    let belowHalf = 0;
    for (let r = 0; r < s.rows; r++) {
      const trees = s.attackProbability[r]! > cutModel.treesThreshold;
      const forest = s.forestScore[r]! > cutModel.forestThreshold;
      if (s.label[r] !== (trees || forest ? 1 : 0) || s.label[r] !== (s.score[r]! > 0.5 ? 1 : 0)) wrong.push(r);
      if (trees && s.classIndex[r]! < 1) wrong.push(r);
      if (trees && s.attackProbability[r]! <= 0.5) belowHalf++;
    }
    expect(wrong).toEqual([]);
    expect(belowHalf).toBeGreaterThan(0);
    const row = data.matrix.data.slice(0, data.matrix.width);
    expect(explainDetection(cutModel, row, 3).attackThreshold).toBe(cutModel.treesThreshold);
  });

  it('keeps the order of the trees\' probabilities where the forest does not alert', () => {
    const s = scoreDetections(cutModel, data.matrix);
    const quiet = Array.from({ length: s.rows }, (_, r) => r).filter((r) => s.forestScore[r]! <= cutModel.forestThreshold);
    quiet.sort((a, b) => s.attackProbability[a]! - s.attackProbability[b]!);
    for (let i = 1; i < quiet.length; i++) expect(s.score[quiet[i]!]!).toBeGreaterThanOrEqual(s.score[quiet[i - 1]!]!);
  });
});

describe('rare values: what the forest cannot split on', () => {
  const feature = (name: string): number => NSL_KDD_SCHEMA.features.findIndex((f) => f.name === name);

  it('holds the features normal training rows almost never leave, within half the forest part\'s budget', () => {
    const rare = cutModel.rareValues!;
    const names = rare.map((r) => NSL_KDD_SCHEMA.features[r.feature]!.name);
    // Never or nearly never anything but 0 in normal NSL-KDD traffic; a failed login is the password guesser's mark.
    expect(names).toEqual(expect.arrayContaining(['wrong_fragment', 'urgent', 'num_failed_logins']));
    expect(rare.every((r) => r.value === 0 && NSL_KDD_SCHEMA.features[r.feature]!.kind === 'numeric')).toBe(true);
    const normal = train.filter((i) => cls[i] === 'normal');
    const departing = normal.filter((i) => departures(rare, data.matrix.data, data.matrix.width, i).length > 0).length;
    // Chosen on 80% of these rows with half of 0.5% to spend; on all of them, about that.
    expect(departing / normal.length).toBeLessThanOrEqual(0.004);
    // Not `logged_in` or `hot`: normal traffic leaves 0 there far too often.
    expect(names).not.toContain('logged_in');
    expect(names).not.toContain('hot');
  });

  it('a normal row given a failed login alerts through the forest part, explained by that feature and its usual value', () => {
    const r = cls.findIndex((c, i) => c === 'normal' && fold[i] === 0 && departures(cutModel.rareValues!, data.matrix.data, data.matrix.width, i).length === 0 && scoreDetections(cutModel, selectRows(data.matrix, [i])).label[0] === 0);
    const row = data.matrix.data.slice(r * data.matrix.width, (r + 1) * data.matrix.width);
    row[feature('num_failed_logins')] = 1;
    const s = scoreDetections(cutModel, { data: row, rows: 1, width: data.matrix.width });
    // An alert through the forest part, ranked just above its threshold (not at 1, above the attacks the trees are sure of).
    expect(s.forestScore[0]).toBeGreaterThan(cutModel.forestThreshold);
    expect(s.forestScore[0]).toBeLessThan(1);
    expect(s.label[0]).toBe(1);
    expect(s.score[0]).toBeGreaterThan(0.5);
    expect(s.score[0]).toBeLessThan(0.5 + 1e-9);
    const e = explainDetection(cutModel, row, 3);
    expect(e.features.filter((f) => f.source === 'forest')).toEqual([{ feature: 'num_failed_logins', value: 1, contribution: 1, source: 'forest', reference: 0 }]);
  });

  it('a forest alone keeps them too: in its file, and as alerts on departures', () => {
    const normal = train.filter((i) => cls[i] === 'normal');
    const alone = trainUnsupervisedDetector(NSL_KDD_SCHEMA, selectRows(data.matrix, normal), { random: seededRandom(3), forest: { trees: 50 } });
    expect(alone.rareValues!.map((r) => NSL_KDD_SCHEMA.features[r.feature]!.name)).toEqual(expect.arrayContaining(['wrong_fragment', 'num_failed_logins']));
    const r = cls.findIndex((c, i) => c === 'normal' && fold[i] === 0 && scoreDetections(alone, selectRows(data.matrix, [i])).label[0] === 0);
    const row = data.matrix.data.slice(r * data.matrix.width, (r + 1) * data.matrix.width);
    row[feature('num_failed_logins')] = 2;
    const s = scoreDetections(alone, { data: row, rows: 1, width: data.matrix.width });
    expect(s.label[0]).toBe(1);
    expect(s.score[0]).toBeGreaterThan(alone.threshold!);
    expect(explainDetection(alone, row, 3).features).toEqual([{ feature: 'num_failed_logins', value: 2, contribution: 1, source: 'forest', reference: 0 }]);
    const text = formatModelFile(alone);
    expect(formatModelFile(parseModelFile(text))).toBe(text);
    const old = JSON.parse(text) as Record<string, unknown>;
    delete old['rareValues'];
    expect((parseModelFile(JSON.stringify(old)) as IsolationForestModel).rareValues).toBeUndefined();
    for (const rareValues of [[[1, 0]], [[feature('num_failed_logins'), 'x']], 7]) expect(() => parseModelFile(JSON.stringify({ ...old, rareValues }))).toThrow(expect.objectContaining({ code: 'model-invalid' }));
  });

  it('takes features in order of how rarely normal rows depart, while the departures fit the budget', () => {
    const schema = { id: 'toy', version: 1, features: [
      { name: 'never', kind: 'numeric' as const },
      { name: 'once', kind: 'numeric' as const },
      { name: 'five', kind: 'numeric' as const },
      { name: 'proto', kind: 'categorical' as const, vocabulary: ['a', 'b'] },
      { name: 'half', kind: 'numeric' as const },
    ] };
    const n = 1000;
    const data = new Float64Array(n * 5);
    for (let r = 0; r < n; r++) data.set([7, r === 3 ? 1 : 0, r < 5 ? 2 : 0, 0, r % 2], r * 5);
    const m = { data, rows: n, width: 5 };
    expect(rareValues(schema, m, 0.003)).toEqual([{ feature: 0, value: 7 }, { feature: 1, value: 0 }]);
    expect(rareValues(schema, m, 0.006)).toEqual([{ feature: 0, value: 7 }, { feature: 1, value: 0 }, { feature: 2, value: 0 }]);
    expect(rareValues(schema, m, 0)).toEqual([{ feature: 0, value: 7 }]);
    const scores = forestPartScores(Float64Array.of(0.4, 0.5, 0.45), [{ feature: 1, value: 0 }], Float64Array.of(7, 0, 0, 0, 0, 7, 1, 0, 0, 1, 7, Number.NaN, 0, 0, 0), 5);
    expect(Array.from(scores)).toEqual([0.4, 1, 1]); // a missing value departs too
    expect(() => rareValues(schema, m, 1)).toThrow(RangeError);
  });
});

describe('hybrid model files', () => {
  let text: string;
  beforeAll(() => {
    text = formatModelFile(model);
  });
  const file = (): Record<string, any> => JSON.parse(text) as Record<string, any>;
  const refused = (value: unknown, limits = {}): void => {
    expect(() => parseModelFile(typeof value === 'string' ? value : JSON.stringify(value), limits)).toThrow(expect.objectContaining({ code: 'model-invalid' }));
  };

  it('round-trips: the same bytes and the same scores', () => {
    const back = parseModelFile(text);
    expect(back.kind).toBe('hybrid');
    expect(formatModelFile(back)).toBe(text);
    const probe = selectRows(data.matrix, Array.from({ length: 200 }, (_, i) => i * 97));
    expect(scoreDetections(back, probe)).toEqual(scoreDetections(model, probe));
  });

  it("round-trips the trees' cut and its quantile, and reads a file written before them as a cut at 0.5", () => {
    const withCut = formatModelFile(cutModel);
    const back = parseModelFile(withCut) as HybridModel;
    expect(back).toMatchObject({ treesThreshold: cutModel.treesThreshold, treesQuantile: 0.995 });
    expect(formatModelFile(back)).toBe(withCut);
    const old = JSON.parse(withCut) as Record<string, any>;
    delete old['model'].treesThreshold;
    delete old['model'].treesQuantile;
    const before = parseModelFile(JSON.stringify(old)) as HybridModel;
    expect(before.treesThreshold).toBe(0.5);
    expect(before.treesQuantile).toBeUndefined();
    const bad = (model: Record<string, unknown>): void => refused({ ...old, model: { ...old['model'], ...model } });
    for (const treesThreshold of [0, -0.1, 0.51, 1, 'low', null]) bad({ treesThreshold });
    bad({ treesThreshold: 0.01, treesQuantile: 1 });
    bad({ treesQuantile: 0.995 });
  });

  it('round-trips the rare values, reads a file written before them as none, and refuses bad ones', () => {
    const withRare = formatModelFile(cutModel);
    expect(JSON.parse(withRare).model.rareValues.length).toBe(cutModel.rareValues!.length);
    const back = parseModelFile(withRare) as HybridModel;
    expect(back.rareValues).toEqual(cutModel.rareValues);
    expect(formatModelFile(back)).toBe(withRare);
    const old = JSON.parse(withRare) as Record<string, any>;
    delete old['model'].rareValues;
    const before = parseModelFile(JSON.stringify(old)) as HybridModel;
    expect(before.rareValues).toBeUndefined();
    const probe = selectRows(data.matrix, Array.from({ length: 300 }, (_, i) => i * 83));
    // Without them the forest part is the forest alone.
    expect(scoreDetections(before, probe).forestScore).toEqual(scoreDetections({ ...cutModel, rareValues: [] }, probe).forestScore);
    const bad = (rareValues: unknown): void => refused({ ...old, model: { ...old['model'], rareValues } });
    const failed = NSL_KDD_SCHEMA.features.findIndex((f) => f.name === 'num_failed_logins');
    for (const v of [{}, 'x', [[failed]], [[failed, 0, 1]], [[failed, 'zero']], [[failed, null]], [[failed + 0.5, 0]], [[-1, 0]], [[39, 0]], [[1, 0]], [[failed, 0], [failed, 0]], [[failed, 0], [failed - 1, 0]], Array.from({ length: 40 }, (_, i) => [i, 0])]) bad(v);
  });

  it('round-trips the random forest, reads a file written before it as the boosted trees alone, and refuses a bad one', () => {
    const withForest = formatModelFile(cutModel);
    const old = JSON.parse(withForest) as Record<string, any>;
    expect(old['model'].randomForest.trees.length).toBe(30);
    delete old['model'].randomForest;
    const before = parseModelFile(JSON.stringify(old)) as HybridModel;
    expect(before.randomForest).toBeUndefined();
    const probe = selectRows(data.matrix, Array.from({ length: 200 }, (_, i) => i * 89));
    expect(Array.from(scoreDetections(before, probe).attackProbability)).toEqual(Array.from(scoreDetections({ kind: 'gbdt', schema: cutModel.schema, classes: cutModel.classes, gbdt: cutModel.gbdt }, probe).attackProbability));
    const f = JSON.parse(withForest) as Record<string, any>;
    const bad = (randomForest: unknown): void => refused({ ...f, model: { ...f['model'], randomForest } });
    for (const v of [null, {}, [], 'forest', { ...f['model'].randomForest, numClasses: 5 }, { ...f['model'].randomForest, numFeatures: 38 }, { ...f['model'].randomForest, trees: [] }]) bad(v);
    const shared = structuredClone(f);
    const tree = shared.model.randomForest.trees[0];
    tree.right[0] = tree.left[0];
    refused(shared);
  });

  it('refuses hostile or inconsistent files with model-invalid', () => {
    const f = file();
    refused({ ...f, classes: ['DoS', 'normal', 'Probe', 'R2L'] });
    refused({ ...f, classes: ['normal', 'normal', 'Probe', 'R2L'] });
    refused({ ...f, classes: ['normal', 'Probe', 'R2L'] });
    refused({ ...f, classes: ['normal', 'Probe\n', 'R2L', 'U2R'] });
    refused({ ...f, extra: 1 });
    refused({ ...f, model: { ...f['model'], forestThreshold: 'high' } });
    refused({ ...f, model: { ...f['model'], forestThreshold: 2 } });
    refused({ ...f, model: { ...f['model'], normalQuantile: 1 } });
    refused({ ...f, model: { ...f['model'], forest: undefined } });
    refused({ ...f, model: { ...f['model'], gbdt: { ...f['model'].gbdt, numFeatures: 38 } } });
    refused({ ...f, model: { ...f['model'], forest: { ...f['model'].forest, width: 40 } } });
    refused({ ...f, schema: { ...f['schema'], features: f['schema'].features.slice(1) } });
    const badTree = structuredClone(f);
    badTree.model.gbdt.trees[0].feature[0] = 39;
    refused(badTree);
    const cycle = structuredClone(f);
    cycle.model.forest.trees[0].left[0] = 0;
    refused(cycle);
    refused(text, { maxNodes: 1000 });
    refused(text, { maxBytes: 1000 });
  });

  test.prop([fc.nat(), fc.jsonValue()], runs(40))('never throws anything but model-invalid, whatever member is replaced by whatever JSON', (pick, replacement) => {
    const f = file();
    const paths: string[][] = [['kind'], ['classes'], ['schema'], ['model'], ['model', 'gbdt'], ['model', 'forest'], ['model', 'forestThreshold'], ['model', 'normalQuantile'], ['model', 'treesThreshold'], ['model', 'treesQuantile'], ['model', 'rareValues'], ['model', 'randomForest'], ['model', 'gbdt', 'trees'], ['model', 'gbdt', 'numClasses'], ['model', 'forest', 'trees'], ['model', 'forest', 'subsampleSize'], ['model', 'randomForest', 'trees'], ['model', 'randomForest', 'numClasses'], ['model', 'randomForest', 'trees', '0'], ['model', 'randomForest', 'trees', '0', 'counts'], ['model', 'randomForest', 'trees', '0', 'left']];
    const path = paths[pick % paths.length]!;
    let holder: any = f;
    for (const k of path.slice(0, -1)) holder = holder[k];
    holder[path[path.length - 1]!] = replacement;
    try {
      parseModelFile(JSON.stringify(f));
    } catch (e) {
      expect(isCustodiaError(e, 'model-invalid')).toBe(true);
    }
  });
});
