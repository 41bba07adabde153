/**
 * The model file: a JSON round trip scores bit for bit as the original, and a file that
 * is malformed, out of bounds or inconsistent is refused whole as model-invalid (it is
 * attacker-controlled input), as is every random corruption that would not load as a
 * well-formed model.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isCustodiaError } from '../../src/kernel/index.js';
import { denseMatrix, gbdtModelFromJson, gbdtModelToJson, parseGbdtModel, trainGbdt, type GbdtModelJson, type GbdtTreeJson } from '../../src/detect/index.js';
import { runs } from '../ledger/seeded.js';
import { blobs, xor } from './gbdt-data.js';

const binary = trainGbdt(xor(600, 21, 1).x, xor(600, 21, 1).y, { rounds: 8, numLeaves: 6, featureNames: ['a', 'b', 'noise'] }).model;
const multi = trainGbdt(blobs(600, 3, 2, 22).x, blobs(600, 3, 2, 22).y, { rounds: 4, numLeaves: 4 }).model;
const text = JSON.stringify(gbdtModelToJson(binary));
type MutableTree = { -readonly [K in keyof GbdtTreeJson]: GbdtTreeJson[K] };
type MutableModel = { -readonly [K in keyof GbdtModelJson]: K extends 'trees' ? MutableTree[] : GbdtModelJson[K] } & Record<string, unknown>;
const fresh = (): MutableModel => JSON.parse(text);

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isCustodiaError(e, 'model-invalid')) return e.message;
    throw e;
  }
  throw new Error('the model was accepted');
}

describe('model file', () => {
  it('round-trips to identical predictions, binary and multiclass', () => {
    const probe = blobs(500, 2, 3, 23).x;
    const withNaN = denseMatrix(probe.data.map((v, i) => (i % 7 === 0 ? NaN : v)), 3);
    for (const model of [binary, multi]) {
      const again = parseGbdtModel(JSON.stringify(gbdtModelToJson(model)));
      const x = model.numFeatures === 3 ? withNaN : denseMatrix(withNaN.data.slice(0, 1000), 2);
      expect(again.predictRaw(x)).toEqual(model.predictRaw(x));
      expect(JSON.stringify(gbdtModelToJson(again))).toBe(JSON.stringify(gbdtModelToJson(model)));
    }
    expect(parseGbdtModel(text).featureNames).toEqual(['a', 'b', 'noise']);
  });

  it('names its format and version', () => {
    expect(fresh()).toMatchObject({ format: 'custodia-gbdt', version: 1, objective: 'binary', numClasses: 2, numFeatures: 3 });
  });

  const corruptions: [string, (j: ReturnType<typeof fresh>) => void, RegExp][] = [
    ['another format', (j) => ((j as { format: string }).format = 'lightgbm'), /\$\.format/],
    ['a future version', (j) => ((j as { version: number }).version = 2), /\$\.version/],
    ['an unknown member', (j) => (j['extra'] = 1), /exactly the members/],
    ['a missing member', (j) => delete (j as Record<string, unknown>)['initScore'], /exactly the members/],
    ['an unknown objective', (j) => ((j as { objective: string }).objective = 'regression'), /\$\.objective/],
    ['binary with 3 classes', (j) => ((j as { numClasses: number }).numClasses = 3), /\$\.numClasses/],
    ['feature names of the wrong length', (j) => j.featureNames!.pop(), /\$\.featureNames/],
    ['a score that is a string', (j) => ((j.initScore as unknown[])[0] = '0.1'), /initScore\[0\]/],
    ['no trees', (j) => (j.trees.length = 0), /\$\.trees/],
    ['a tree that is an array', (j) => ((j.trees as unknown[])[0] = []), /trees\[0\] is not an object/],
    ['arrays of different lengths', (j) => j.trees[0]!.value.pop(), /trees\[0\]\.value/],
    ['a feature out of range', (j) => (j.trees[0]!.feature[0] = 3), /feature\[0\]/],
    ['a fractional child', (j) => (j.trees[0]!.left[0] = 1.5), /left\[0\]/],
    ['a child out of range', (j) => (j.trees[0]!.right[0] = j.trees[0]!.feature.length), /right\[0\]/],
    ['a cycle back to the root', (j) => (j.trees[0]!.left[0] = 0), /not numbered after it/],
    ['a child numbered before its parent', (j) => {
      const t = j.trees[0]!;
      const inner = t.feature.findIndex((f, i) => i > 0 && f >= 0);
      t.left[inner] = 1;
    }, /not numbered after it|shares a child/],
    ['a shared child', (j) => {
      const t = j.trees[0]!;
      t.right[0] = t.left[0]!;
    }, /not numbered after it|shares a child/],
    ['a leaf with a child', (j) => {
      const t = j.trees[0]!;
      const leaf = t.feature.indexOf(-1);
      t.left[leaf] = t.feature.length - 1;
    }, /is a leaf with children/],
    ['counts that do not add up', (j) => (j.trees[0]!.count[0]! += 1), /count\[0\]/],
    ['a zero count', (j) => (j.trees[0]!.count[j.trees[0]!.feature.indexOf(-1)] = 0), /count\[/],
    ['an unreachable node', (j) => {
      const t = j.trees[0]!;
      for (const k of ['threshold', 'value', 'gain', 'count'] as const) t[k].push(k === 'count' ? 1 : 0);
      for (const k of ['left', 'right'] as const) t[k].push(-1);
      t.feature.push(-1), t.defaultLeft.push(0);
    }, /not reachable/],
    ['a default side of 2', (j) => (j.trees[0]!.defaultLeft[0] = 2), /defaultLeft\[0\]/],
    ['trees that are not whole rounds', (j) => {
      (j as { objective: string }).objective = 'multiclass';
      (j as { numClasses: number }).numClasses = 3;
      j.initScore.push(0, 0);
    }, /whole rounds/],
    ['a huge tree', (j) => (j.trees[0]!.feature = new Array(200_000).fill(-1)), /trees\[0\]\.feature must be/],
  ];

  it.each(corruptions)('refuses %s', (_, corrupt, where) => {
    const j = fresh();
    corrupt(j);
    expect(refusal(() => gbdtModelFromJson(j))).toMatch(where);
    expect(refusal(() => parseGbdtModel(JSON.stringify(j)))).toMatch(where);
  });

  it('refuses what is not JSON, or not an object', () => {
    for (const bad of ['', '{', 'null', '[]', '"model"', text.slice(0, -1)]) refusal(() => parseGbdtModel(bad));
    refusal(() => gbdtModelFromJson(Object.assign(Object.create({ polluted: true }), fresh())));
  });

  // Any one number replaced by any JSON value either is refused as model-invalid, or loads a model that scores finitely.
  const paths: [number, string, number][] = fresh().trees.flatMap((t, i) => (['feature', 'threshold', 'left', 'right', 'defaultLeft', 'value', 'count', 'gain'] as const).flatMap((k) => t[k].map((_, n) => [i, k, n] as [number, string, number])));
  test.prop([fc.constantFrom(...paths), fc.oneof(fc.integer({ min: -3, max: 40 }), fc.double(), fc.constant(null), fc.string(), fc.constant([]))], runs(300))(
    'a corrupted number is refused, or gives a model that scores finitely',
    ([tree, key, node], replacement) => {
      const j = fresh();
      (j.trees[tree] as unknown as Record<string, unknown[]>)[key]![node] = replacement;
      let model;
      try {
        model = parseGbdtModel(JSON.stringify(j));
      } catch (e) {
        expect(isCustodiaError(e, 'model-invalid')).toBe(true);
        return;
      }
      const raw = model.predictRaw(denseMatrix(Float64Array.of(0.3, -0.2, NaN, -1, 1, 0.5), 3));
      expect(raw.every(Number.isFinite)).toBe(true);
    },
  );
});
