/**
 * The packed scoring loop (detect/packed-trees.ts) against the plain walk of each tree,
 * for any trees and rows: boosted trees (one value a leaf, missing values to each node's
 * side) and classification trees (a vector a leaf, missing values right). Row counts
 * cross the eight-row groups and the blocks; values hit the thresholds exactly, and
 * include NaN and both infinities.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { denseMatrix } from '../../src/detect/gbdt-matrix.js';
import { leafOf, type GbdtTree } from '../../src/detect/gbdt-tree.js';
import { packClassTrees, packForest, scoreRaw } from '../../src/detect/packed-trees.js';

const WIDTH = 3;
/** Thresholds and row values share these, so that `x === threshold` happens often. */
const VALUES = [-1, 0, 0.5, 1, 2.25];

/** A tree of up to `splits` splits, children numbered after their parent; `pick` drives every choice. */
function tree(picks: number[], splits: number): GbdtTree {
  const feature = [-1];
  const threshold = [0];
  const left = [-1];
  const right = [-1];
  const defaultLeft = [0];
  let p = 0;
  const pick = (n: number): number => picks[p++ % picks.length]! % n;
  for (let s = 0; s < splits; s++) {
    const leaves = feature.flatMap((f, i) => (f < 0 ? [i] : []));
    const at = leaves[pick(leaves.length)]!;
    feature[at] = pick(WIDTH);
    threshold[at] = VALUES[pick(VALUES.length)]!;
    defaultLeft[at] = pick(2);
    left[at] = feature.length;
    right[at] = feature.length + 1;
    for (let c = 0; c < 2; c++) {
      feature.push(-1);
      threshold.push(0);
      left.push(-1);
      right.push(-1);
      defaultLeft.push(0);
    }
  }
  const n = feature.length;
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    defaultLeft: Uint8Array.from(defaultLeft),
    value: Float64Array.from({ length: n }, (_, i) => (i + 1) / 7 + picks[i % picks.length]! / 1000),
    count: new Float64Array(n),
    gain: new Float64Array(n),
  };
}

const picks = fc.array(fc.nat(1_000), { minLength: 1, maxLength: 64 });
const trees = fc.array(fc.tuple(picks, fc.integer({ min: 0, max: 20 })).map(([p, s]) => tree(p, s)), { minLength: 1, maxLength: 12 });
const cell = fc.oneof(fc.constantFrom(...VALUES, NaN, Infinity, -Infinity), fc.double({ min: -3, max: 3, noNaN: true }));
const rows = fc.integer({ min: 0, max: 300 }).chain((n) => fc.array(cell, { minLength: n * WIDTH, maxLength: n * WIDTH }));

/** The walk of classification trees: `x <= threshold` left, greater and missing right. */
function classLeaf(t: GbdtTree, data: Float64Array, offset: number): number {
  let n = 0;
  while (t.feature[n]! >= 0) n = data[offset + t.feature[n]!]! <= t.threshold[n]! ? t.left[n]! : t.right[n]!;
  return n;
}

describe('packed trees', () => {
  test.prop([trees, rows, fc.integer({ min: 1, max: 4 })])('boosted trees: each row the sum, tree after tree, of the leaves the plain walk reaches', (ts, cells, outputs) => {
    const data = Float64Array.from(cells);
    const m = denseMatrix(data, WIDTH);
    const out = new Float64Array(m.rows * outputs).fill(0.25);
    scoreRaw(packForest(ts, outputs, WIDTH), m, out, outputs);
    const expected = new Float64Array(m.rows * outputs).fill(0.25);
    for (let r = 0; r < m.rows; r++) ts.forEach((t, i) => (expected[r * outputs + (i % outputs)]! += t.value[leafOf(t, data, r * WIDTH)]!));
    expect(out).toEqual(expected);
  });

  test.prop([trees, rows, fc.integer({ min: 2, max: 5 })])('classification trees: each row the sum, tree after tree, of its leaves\u2019 vectors, missing values right', (ts, cells, classes) => {
    const data = Float64Array.from(cells);
    const m = denseMatrix(data, WIDTH);
    const leafValues = ts.map((t) => Float64Array.from({ length: t.feature.length * classes }, (_, i) => t.value[Math.floor(i / classes)]! * (1 + (i % classes))));
    const out = new Float64Array(m.rows * classes);
    scoreRaw(packClassTrees(ts, leafValues, classes, WIDTH), m, out, classes);
    const expected = new Float64Array(m.rows * classes);
    for (let r = 0; r < m.rows; r++) {
      ts.forEach((t, i) => {
        const n = classLeaf(t, data, r * WIDTH);
        for (let c = 0; c < classes; c++) expected[r * classes + c]! += leafValues[i]![n * classes + c]!;
      });
    }
    expect(out).toEqual(expected);
  });
});
