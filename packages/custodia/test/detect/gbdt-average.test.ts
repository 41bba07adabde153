/**
 * Averaging boosted ensembles into one (detect/gbdt-average.ts): its raw scores are the
 * mean of the parts', to rounding, for binary and multiclass; its explanations stay
 * additive (contributions sum to its raw score); its probabilities are a proper
 * distribution; and parts that do not fit together are refused.
 */
import { describe, expect, it } from 'vitest';
import { isCustodiaError, seededRandom } from '../../src/kernel/index.js';
import { averageGbdtModels, gbdtModelToJson, parseGbdtModel, trainGbdt } from '../../src/detect/index.js';
import { blobs, xor } from './gbdt-data.js';

const parts = (d: ReturnType<typeof xor>, n: number) =>
  Array.from({ length: n }, (_, b) => trainGbdt(d.x, d.y, { rounds: 20 + 7 * b, numLeaves: 7, subsample: 0.8, featureFraction: 0.8, random: seededRandom(`part-${b}`) }).model);

describe('averaged boosted ensembles', () => {
  for (const [name, d] of [
    ['binary', xor(800, 11)],
    ['multiclass', blobs(800, 4, 3, 12)],
  ] as const) {
    it(`${name}: the raw score of the average is the mean of the parts' raw scores`, () => {
      const ps = parts(d, 3);
      const avg = averageGbdtModels(ps);
      expect(avg.trees).toHaveLength(ps.reduce((n, p) => n + p.trees.length, 0));
      const raws = ps.map((p) => p.predictRaw(d.x));
      const raw = avg.predictRaw(d.x);
      expect(raw.length).toBe(raws[0]!.length);
      for (let i = 0; i < raw.length; i++) expect(raw[i]).toBeCloseTo((raws[0]![i]! + raws[1]![i]! + raws[2]![i]!) / 3, 10);
      // Not any one part: averaging changes the scores.
      expect(raws.every((r) => r.some((v, i) => Math.abs(v - raw[i]!) > 1e-3))).toBe(true);
    });

    it(`${name}: contributions still sum to the raw score, and probabilities to 1`, () => {
      const avg = averageGbdtModels(parts(d, 2));
      const raw = avg.predictRaw(d.x);
      const phi = avg.contributions(d.x);
      const width = d.x.features + 1;
      for (let r = 0; r < 50; r++) {
        for (let o = 0; o < avg.outputs; o++) {
          let sum = 0;
          for (let f = 0; f < width; f++) sum += phi[(r * avg.outputs + o) * width + f]!;
          expect(sum).toBeCloseTo(raw[r * avg.outputs + o]!, 8);
        }
      }
      const p = avg.predictProba(d.x);
      const k = avg.numClasses;
      for (let r = 0; r < d.x.rows; r++) expect(p.subarray(r * k, (r + 1) * k).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    });
  }

  it('is one model: it round-trips through the model file, and one part is itself', () => {
    const d = xor(600, 13);
    const avg = averageGbdtModels(parts(d, 2));
    const back = parseGbdtModel(JSON.stringify(gbdtModelToJson(avg)));
    expect(Array.from(back.predictRaw(d.x))).toEqual(Array.from(avg.predictRaw(d.x)));
    const [one] = parts(d, 1);
    expect(averageGbdtModels([one!])).toBe(one);
  });

  it('refuses nothing, and parts of another objective or feature count', () => {
    const refused = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isCustodiaError(e)).toBe(true);
      }
    };
    refused(() => averageGbdtModels([]));
    const [binary] = parts(xor(400, 14), 1);
    const multi = trainGbdt(blobs(400, 3, 3, 15).x, blobs(400, 3, 3, 15).y, { rounds: 5 }).model;
    refused(() => averageGbdtModels([binary!, multi]));
  });
});
