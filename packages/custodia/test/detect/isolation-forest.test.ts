/**
 * The isolation forest (Liu, Ting, Zhou 2008): seeded determinism, scores in (0, 1),
 * points far from a dense cluster scoring above the cluster, path lengths equal to the
 * paper's Algorithm 3 run on the stored trees, and the shape of every tree.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { averagePathLength, trainIsolationForest, type FeatureMatrix, type IsolationForest, type IsolationTreeArrays } from '../../src/detect/index.js';
import { seededRandom } from '../../src/kernel/index.js';
import { runs } from '../ledger/seeded.js';

/** A small matrix of doubles, duplicates likely (values from a short list) or not. */
const matrices = fc
  .record({ rows: fc.integer({ min: 2, max: 60 }), width: fc.integer({ min: 1, max: 6 }), duplicates: fc.boolean() })
  .chain(({ rows, width, duplicates }) =>
    fc
      .array(duplicates ? fc.constantFrom(0, 1, 2.5, -3) : fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: rows * width, maxLength: rows * width })
      .map((values): FeatureMatrix => ({ data: Float64Array.from(values), rows, width })),
  );

/** Algorithm 3 of the paper, PathLength(x, T, e), recursively on a stored tree. */
function paperPathLength(x: ArrayLike<number>, tree: IsolationTreeArrays, node = 0, e = 0): number {
  if (tree.feature[node]! < 0) return e + averagePathLength(tree.size[node]!);
  const a = tree.feature[node]!;
  return x[a]! < tree.split[node]! ? paperPathLength(x, tree, tree.left[node]!, e + 1) : paperPathLength(x, tree, tree.right[node]!, e + 1);
}

function depthOf(tree: IsolationTreeArrays, node = 0): number {
  return tree.feature[node]! < 0 ? 0 : 1 + Math.max(depthOf(tree, tree.left[node]!), depthOf(tree, tree.right[node]!));
}

function cluster(n: number, width: number, seed: string): Float64Array {
  const forest = seededRandom(seed);
  const bytes = forest.bytes(n * width * 4);
  return Float64Array.from({ length: n * width }, (_, i) => bytes.readUInt32LE(i * 4) / 2 ** 32);
}

describe('trainIsolationForest', () => {
  test.prop([matrices, fc.string({ maxLength: 8 })], runs(40))('grows the same forest, with the same scores, from the same seed', (m, seed) => {
    const a = trainIsolationForest(m, { random: seededRandom(seed), trees: 20 });
    const b = trainIsolationForest(m, { random: seededRandom(seed), trees: 20 });
    expect(b.trees).toEqual(a.trees);
    expect(b.scoreBatch(m.data, m.width)).toEqual(a.scoreBatch(m.data, m.width));
  });

  it('grows another forest from another seed', () => {
    const m = { data: cluster(300, 4, 'x'), rows: 300, width: 4 };
    const a = trainIsolationForest(m, { random: seededRandom(1), trees: 10 });
    const b = trainIsolationForest(m, { random: seededRandom(2), trees: 10 });
    expect(b.trees).not.toEqual(a.trees);
  });

  test.prop([matrices, fc.array(fc.double({ noNaN: true }), { minLength: 6, maxLength: 6 })], runs(80))('scores strictly inside (0, 1), for training rows and for any other row', (m, extra) => {
    const forest = trainIsolationForest(m, { random: seededRandom('in-range'), trees: 15 });
    const scores = [...forest.scoreBatch(m.data, m.width), forest.score(extra.slice(0, m.width))];
    for (const s of scores) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThan(1);
    }
  });

  test.prop([fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.string({ maxLength: 8 })], runs(30))(
    'scores points isolated far from a dense cluster above every point of the cluster',
    (width, outliers, seed) => {
      const n = 200;
      const inliers = cluster(n, width, `cluster-${seed}`); // uniform in [0, 1)^width
      const far = Float64Array.from({ length: outliers * width }, (_, i) => 20 + 10 * Math.floor(i / width) + (i % width)); // ≥ 20 in every coordinate
      const data = new Float64Array([...inliers, ...far]);
      const forest = trainIsolationForest({ data, rows: n + outliers, width }, { random: seededRandom(seed) });
      const scores = forest.scoreBatch(data, width);
      const clusterMax = Math.max(...scores.subarray(0, n));
      const farMin = Math.min(...scores.subarray(n));
      expect(farMin).toBeGreaterThan(clusterMax);
      expect(farMin).toBeGreaterThan(0.7); // the paper: s close to 1 marks a definite anomaly
    },
  );

  it('scores unseen far points above a cluster it was trained on alone', () => {
    const width = 5;
    const inliers = cluster(2000, width, 'trained-alone');
    const forest = trainIsolationForest({ data: inliers, rows: 2000, width }, { random: seededRandom('alone') });
    const inlierScores = forest.scoreBatch(inliers, width);
    const mean = inlierScores.reduce((a, b) => a + b) / inlierScores.length;
    for (const v of [5, -5, 100]) expect(forest.score(new Float64Array(width).fill(v))).toBeGreaterThan(mean);
  });

  it('scores 0.5 everywhere when every row is the same (E[h] = c(ψ))', () => {
    const forest = trainIsolationForest({ data: new Float64Array(300 * 3).fill(4), rows: 300, width: 3 }, { random: seededRandom('dup') });
    for (const tree of forest.trees) expect(tree.feature).toEqual(Int32Array.of(-1));
    expect(forest.score([4, 4, 4])).toBeCloseTo(0.5, 12);
    expect(forest.score([9, -9, 0])).toBeCloseTo(0.5, 12);
  });

  test.prop([matrices, fc.integer({ min: 2, max: 300 })], runs(40))('grows trees of the paper’s shape: ψ = min(ψ, n) at the root, no deeper than ceil(log2 ψ)', (m, psi) => {
    const forest = trainIsolationForest(m, { random: seededRandom('shape'), trees: 10, subsampleSize: psi });
    const expected = Math.min(psi, m.rows);
    expect(forest.params.subsampleSize).toBe(expected);
    expect(forest.params.heightLimit).toBe(Math.ceil(Math.log2(expected)));
    expect(forest.normaliser).toBe(averagePathLength(expected));
    for (const tree of forest.trees) {
      expect(tree.size[0]).toBe(expected);
      expect(depthOf(tree)).toBeLessThanOrEqual(forest.params.heightLimit);
      expect(tree.feature.length).toBeLessThanOrEqual(2 * expected - 1);
    }
  });

  test.prop([matrices], runs(40))('has path lengths equal to the paper’s Algorithm 3 on its own trees', (m) => {
    const forest = trainIsolationForest(m, { random: seededRandom('alg3'), trees: 12 });
    for (let r = 0; r < m.rows; r++) {
      const row = m.data.subarray(r * m.width, (r + 1) * m.width);
      const expected = forest.trees.reduce((sum, t) => sum + paperPathLength(row, t), 0) / forest.trees.length;
      expect(forest.pathLength(row)).toBeCloseTo(expected, 12);
      expect(forest.score(row)).toBeCloseTo(2 ** (-expected / forest.normaliser), 12);
    }
  });

  it('refuses options outside their ranges', () => {
    const m = { data: new Float64Array(10), rows: 10, width: 1 };
    const random = seededRandom(0);
    expect(() => trainIsolationForest(m, { random, trees: 0 })).toThrow(RangeError);
    expect(() => trainIsolationForest(m, { random, trees: 1.5 })).toThrow(RangeError);
    expect(() => trainIsolationForest(m, { random, subsampleSize: 1 })).toThrow(RangeError);
    expect(() => trainIsolationForest({ data: new Float64Array(1), rows: 1, width: 1 }, { random })).toThrow(RangeError);
    expect(() => trainIsolationForest({ data: new Float64Array(5), rows: 2, width: 2 }, { random })).toThrow(RangeError);
  });
});

describe('IsolationForest scoring', () => {
  const width = 7;
  const data = cluster(1000, width, 'batch');
  const forest: IsolationForest = trainIsolationForest({ data, rows: 1000, width }, { random: seededRandom('batch') });

  test.prop([fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 3 })], runs(40))('gives scoreBatch and score the same number, to the bit, at any batch length and stride', (rows, pad) => {
    const stride = width + pad;
    const batch = new Float64Array(rows * stride);
    for (let r = 0; r < rows; r++) batch.set(data.subarray(r * width, (r + 1) * width), r * stride);
    const scores = forest.scoreBatch(batch, stride);
    expect(scores).toHaveLength(rows);
    for (let r = 0; r < rows; r++) expect(scores[r]).toBe(forest.score(batch, r * stride));
  });

  it('scores Float32 rows', () => {
    const f32 = Float32Array.from(data.subarray(0, 8 * width));
    const scores = forest.scoreBatch(f32, width);
    for (let r = 0; r < 8; r++) expect(scores[r]).toBe(forest.score(f32, r * width));
  });

  it('refuses rows of the wrong shape', () => {
    expect(() => forest.score(new Float64Array(width - 1))).toThrow(RangeError);
    expect(() => forest.score(data, data.length - width + 1)).toThrow(RangeError);
    expect(() => forest.scoreBatch(new Float64Array(width * 2 + 1), width)).toThrow(RangeError);
    expect(() => forest.scoreBatch(data, width - 1)).toThrow(RangeError);
    expect(() => forest.scoreBatch(data, width, new Float64Array(3))).toThrow(RangeError);
  });
});
