/**
 * Training gradient-boosted trees on seeded synthetic data: shapes no linear model can
 * separate, multiclass blobs, monotone training loss, early stopping that keeps the best
 * round, seeded determinism, missing values and class weights.
 */
import { describe, expect, it } from 'vitest';
import { isCustodiaError, seededRandom } from '../../src/kernel/index.js';
import { denseMatrix, gbdtModelToJson, trainGbdt, type GbdtOptions } from '../../src/detect/index.js';
import { accuracy, blobs, circles, splitAt, uniform, xor } from './gbdt-data.js';

describe('gradient-boosted trees: learning', () => {
  it('learns XOR, which no linear model (nor one split) can', () => {
    const [train, test] = splitAt(xor(3000, 1), 2000);
    const { model } = trainGbdt(train.x, train.y, { rounds: 60 });
    expect(accuracy(model.predictClass(test.x), test.y)).toBeGreaterThan(0.97);
    const stump = trainGbdt(train.x, train.y, { rounds: 1, numLeaves: 2 }).model;
    expect(accuracy(stump.predictClass(test.x), test.y)).toBeLessThan(0.65);
  });

  it('learns concentric circles', () => {
    const [train, test] = splitAt(circles(3000, 2), 2000);
    const { model } = trainGbdt(train.x, train.y, { rounds: 80 });
    expect(accuracy(model.predictClass(test.x), test.y)).toBeGreaterThan(0.97);
  });

  it('separates five Gaussian blobs with softmax, one tree per class per round', () => {
    const [train, test] = splitAt(blobs(4000, 5, 3, 3, 8), 3000);
    const { model } = trainGbdt(train.x, train.y, { rounds: 50 });
    expect(model.objective).toBe('multiclass');
    expect(model.trees).toHaveLength(50 * 5);
    expect(accuracy(model.predictClass(test.x), test.y)).toBeGreaterThan(0.95);
  });

  it('never lets the training loss rise from one round to the next', () => {
    for (const [d, options] of [
      [xor(1500, 4, 2), { rounds: 80 }],
      [blobs(1500, 4, 3, 5), { rounds: 60, numLeaves: 7 }],
      [circles(1500, 6), { rounds: 60, lambda: 0, learningRate: 0.3 }],
    ] as const) {
      const { trainLoss } = trainGbdt(d.x, d.y, options);
      for (let i = 1; i < trainLoss.length; i++) expect(trainLoss[i]!).toBeLessThanOrEqual(trainLoss[i - 1]!);
      expect(trainLoss[trainLoss.length - 1]!).toBeLessThan(trainLoss[0]! / 2);
    }
  });

  it('keeps its running scores equal to what the model predicts, with bagging and feature fractions', () => {
    // The training loss is computed from scores updated leaf by leaf (in-bag rows) and by
    // routing binned rows (out-of-bag rows); the model scores raw values. They must agree.
    for (const [d, k] of [[xor(1200, 16, 2), 2], [blobs(1200, 3, 4, 17), 3]] as const) {
      const t = trainGbdt(d.x, d.y, { rounds: 12, subsample: 0.6, featureFraction: 0.5, random: seededRandom(3) });
      const p = t.model.predictProba(d.x);
      let loss = 0;
      for (let r = 0; r < d.x.rows; r++) loss -= Math.log(p[r * k + d.y[r]!]!);
      expect(t.trainLoss[t.trainLoss.length - 1]).toBeCloseTo(loss / d.x.rows, 10);
    }
  });

  it('starts from the class priors', () => {
    const y = Int32Array.from({ length: 100 }, (_, i) => (i < 20 ? 1 : 0));
    const x = denseMatrix(new Float64Array(100), 1);
    const { model } = trainGbdt(x, y, { rounds: 1 });
    expect(model.initScore[0]).toBeCloseTo(Math.log(0.2 / 0.8), 12);
    expect(model.predictProba(x)[1]).toBeCloseTo(0.2, 12); // a feature with one value: nothing to split, the prior stays
  });
});

describe('gradient-boosted trees: early stopping', () => {
  it('stops when the validation loss stops improving and keeps the best round', () => {
    // Noisy labels: trees soon fit the noise, and the held-out loss turns up.
    const d = xor(2000, 7, 3);
    const u = uniform(99);
    const y = d.y.map((v) => (u() < 0.25 ? 1 - v : v));
    const t = trainGbdt(d.x, y, { rounds: 500, learningRate: 0.3, numLeaves: 63, minChildSamples: 2, earlyStopping: { patience: 8, validationFraction: 0.2 } });
    expect(t.roundsRun).toBeLessThan(500);
    expect(t.roundsRun).toBe(t.bestRounds + 8);
    expect(t.model.rounds).toBe(t.bestRounds);
    expect(t.roundsKept).toBe(t.bestRounds);
    const best = Math.min(...t.validationLoss);
    expect(t.validationLoss[t.bestRounds - 1]).toBe(best);
    expect(t.validationLoss.indexOf(best)).toBe(t.bestRounds - 1);
    // The rows it watched: a fifth of each class, in increasing order, all distinct.
    expect(t.validationRows.length).toBe(400);
    for (const c of [0, 1]) expect(Array.from(t.validationRows).filter((r) => y[r] === c).length).toBe(Math.round(0.2 * y.filter((v) => v === c).length));
    expect(t.validationRows.every((r, i) => i === 0 || r > t.validationRows[i - 1]!)).toBe(true);
    expect(trainGbdt(d.x, y, { rounds: 3 }).validationRows.length).toBe(0);
  });

  it("keeps every round run with keep 'all', the same trees as 'best' up to the best round", () => {
    const d = xor(2000, 7, 3);
    const u = uniform(99);
    const y = d.y.map((v) => (u() < 0.25 ? 1 - v : v));
    const options = { rounds: 500, learningRate: 0.3, numLeaves: 63, minChildSamples: 2 };
    const best = trainGbdt(d.x, y, { ...options, earlyStopping: { patience: 8, validationFraction: 0.2 } });
    const all = trainGbdt(d.x, y, { ...options, earlyStopping: { patience: 8, validationFraction: 0.2, keep: 'all' } });
    expect(all.roundsRun).toBe(best.roundsRun);
    expect(all.bestRounds).toBe(best.bestRounds);
    expect(all.roundsKept).toBe(all.roundsRun);
    expect(all.model.rounds).toBe(best.model.rounds + 8);
    expect(all.model.trees.slice(0, best.model.trees.length)).toEqual(best.model.trees);
    // The rounds after the best fit the noise: the training loss falls on, and the model's predictions move.
    expect(all.trainLoss[all.roundsRun - 1]!).toBeLessThan(all.trainLoss[all.bestRounds - 1]!);
    expect(Array.from(all.model.predictProba(d.x))).not.toEqual(Array.from(best.model.predictProba(d.x)));
  });

  it("refuses a keep that is neither 'best' nor 'all'", () => {
    const d = circles(200, 8);
    expect(() => trainGbdt(d.x, d.y, { rounds: 5, earlyStopping: { keep: 'last' as 'all' } })).toThrow(/keep must be/);
  });

  it('counts only improvements larger than the tolerance', () => {
    const d = circles(1500, 8);
    const loose = trainGbdt(d.x, d.y, { rounds: 200, learningRate: 0.3, earlyStopping: { patience: 5, tolerance: 1e-2 } });
    const strict = trainGbdt(d.x, d.y, { rounds: 200, learningRate: 0.3, earlyStopping: { patience: 5, tolerance: 0 } });
    expect(loose.bestRounds).toBeLessThan(strict.bestRounds);
    const v = loose.validationLoss;
    // Each kept round improved on the best before it by more than the tolerance; the rounds after it did not.
    for (let i = loose.bestRounds; i < v.length; i++) expect(v[i]!).toBeGreaterThanOrEqual(v[loose.bestRounds - 1]! - 1e-2);
  });

  it('runs every round when the validation loss keeps falling', () => {
    const d = circles(1500, 8);
    const t = trainGbdt(d.x, d.y, { rounds: 20, learningRate: 0.05, earlyStopping: { patience: 5 } });
    expect(t.roundsRun).toBe(20);
    expect(t.bestRounds).toBe(20);
  });
});

describe('gradient-boosted trees: determinism', () => {
  const options = (seed: number): GbdtOptions => ({ rounds: 15, subsample: 0.7, featureFraction: 0.6, earlyStopping: { patience: 3 }, random: seededRandom(seed) });

  it('gives the identical model JSON for the same seed, and another for another seed', () => {
    const d = xor(1500, 9, 3);
    const a = JSON.stringify(gbdtModelToJson(trainGbdt(d.x, d.y, options(1)).model));
    const b = JSON.stringify(gbdtModelToJson(trainGbdt(d.x, d.y, options(1)).model));
    const c = JSON.stringify(gbdtModelToJson(trainGbdt(d.x, d.y, options(2)).model));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('scores Float32Array input as the same values in a Float64Array', () => {
    const d = blobs(800, 3, 4, 10);
    const x32 = denseMatrix(Float32Array.from(d.x.data), 4);
    const x64 = denseMatrix(Float64Array.from(x32.data), 4);
    const { model } = trainGbdt(x32, d.y, { rounds: 10 });
    expect(model.predictRaw(x32)).toEqual(model.predictRaw(x64));
  });
});

describe('gradient-boosted trees: missing values', () => {
  it('learns where missing values go: here, missing means class 1', () => {
    const u = uniform(11);
    const n = 2000;
    const data = new Float64Array(n * 2);
    const y = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      y[r] = u() < 0.5 ? 1 : 0;
      // Class 1 sits at large x0 or has x0 missing; x1 is noise, sometimes missing too.
      data[2 * r] = y[r] === 1 && u() < 0.4 ? NaN : y[r] === 1 ? 0.6 + 0.4 * u() : 0.5 * u();
      data[2 * r + 1] = u() < 0.2 ? NaN : u();
    }
    const { model } = trainGbdt(denseMatrix(data, 2), y, { rounds: 30 });
    expect(accuracy(model.predictClass(denseMatrix(data, 2)), y)).toBeGreaterThan(0.99);
    const probe = model.predictProba(denseMatrix(Float64Array.of(NaN, 0.5, 0.1, NaN, NaN, NaN), 2));
    expect(probe[1]).toBeGreaterThan(0.95); // x0 missing → class 1
    expect(probe[3]).toBeLessThan(0.05); // x0 small, x1 missing → class 0
    expect(probe[5]).toBeGreaterThan(0.95);
  });

  it('sends missing values to the larger side of a split that never saw one', () => {
    const d = xor(1000, 12);
    const { model } = trainGbdt(d.x, d.y, { rounds: 5 });
    const raw = model.predictRaw(denseMatrix(Float64Array.of(NaN, NaN, Infinity, -Infinity), 2));
    expect(raw.every(Number.isFinite)).toBe(true);
  });
});

describe('gradient-boosted trees: class weights', () => {
  it("'balanced' weights raise the recall of a rare class", () => {
    const u = uniform(13);
    const n = 4000;
    const data = new Float64Array(n * 2);
    const y = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      y[r] = u() < 0.03 ? 1 : 0;
      data[2 * r] = u() + (y[r] === 1 ? 0.6 : 0);
      data[2 * r + 1] = u();
    }
    const [train, test] = splitAt({ x: denseMatrix(data, 2), y }, 3000);
    const recall = (weighted: boolean): number => {
      const { model } = trainGbdt(train.x, train.y, { rounds: 30, ...(weighted ? { classWeight: 'balanced' as const } : {}) });
      const p = model.predictClass(test.x);
      let hit = 0;
      let pos = 0;
      test.y.forEach((v, i) => v === 1 && (pos++, p[i] === 1 && hit++));
      return hit / pos;
    };
    expect(recall(true)).toBeGreaterThan(recall(false));
  });
});

describe('gradient-boosted trees: options', () => {
  const d = xor(100, 14);
  it.each([
    [{ rounds: 0 }],
    [{ learningRate: 0 }],
    [{ learningRate: Number.NaN }],
    [{ numLeaves: 1 }],
    [{ maxBins: 256 }],
    [{ subsample: 1.5 }],
    [{ featureFraction: 0 }],
    [{ classWeight: [1] }],
    [{ objective: 'binary' as const, numClasses: 3 }],
    [{ earlyStopping: { validationFraction: 1 } }],
    [{ earlyStopping: { tolerance: -1 } }],
    [{ featureNames: ['a'] }],
  ] satisfies [GbdtOptions][])('refuses %j as config-invalid', (o) => {
    expect(() => trainGbdt(d.x, d.y, o)).toThrow(expect.objectContaining({ code: 'config-invalid' }));
  });

  it('refuses labels that are not class indexes', () => {
    for (const y of [Int32Array.of(0, 1), Float64Array.from(d.y, (v) => v + 0.5), Int32Array.from(d.y, (v) => v - 1)]) {
      let error: unknown;
      try {
        trainGbdt(d.x, y);
      } catch (e) {
        error = e;
      }
      expect(isCustodiaError(error, 'config-invalid')).toBe(true);
    }
  });

  it('honours maxDepth', () => {
    const { model } = trainGbdt(xor(1000, 15).x, xor(1000, 15).y, { rounds: 5, numLeaves: 64, maxDepth: 2 });
    for (const t of model.trees) expect(t.feature.length).toBeLessThanOrEqual(7);
  });
});
