/**
 * Imported ONNX models explain their alerts by Shapley values against the reference row of
 * their sidecar (detect/shapley-explanation.ts), on the real scikit-learn model of
 * test/fixtures/onnx scored by the real onnxruntime-node: the explanations are
 * deterministic and do not depend on the batch, an alert's values add up to its score
 * minus the reference's (checked against the model's own scores of the two rows), a
 * normal record made an alert by one change names that change first, and a sidecar whose
 * reference is not one float per feature is `model-invalid`, as any bad model file is.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDetectorScorer } from '../../src/app/index.js';
import { readAllFlowRows } from '../../src/app/flow-rows.js';
import { shapleyValues, type DetectionExplanation, type FeatureMatrix, type Scorer } from '../../src/detect/index.js';
import { ONNX_FIXTURE, ONNX_RUNTIME_MISSING } from '../helpers/onnx-runtime.js';

const KDD = new URL('../fixtures/nsl-kdd/KDDTrain+_20Percent.txt', import.meta.url).pathname;
const SIDECAR = JSON.parse(readFileSync(`${ONNX_FIXTURE}.json`, 'utf8')) as Record<string, unknown> & { reference: number[] };

describe.skipIf(ONNX_RUNTIME_MISSING !== undefined)(`ONNX explanations by Shapley values${ONNX_RUNTIME_MISSING === undefined ? '' : ` — SKIPPED: ${ONNX_RUNTIME_MISSING}`}`, () => {
  let dir: string;
  let scorer: Scorer;
  let records: FeatureMatrix;
  const w = 39;
  const rowOf = (r: number): Float64Array => records.data.slice(r * w, (r + 1) * w);
  const one = (row: Float64Array): FeatureMatrix => ({ data: row, rows: 1, width: w });
  const explainAll = async (m: FeatureMatrix): Promise<readonly (DetectionExplanation | undefined)[]> => scorer.explain!(m, await scorer.score(m), 5);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-onnx-explain-'));
    scorer = await readDetectorScorer(ONNX_FIXTURE);
    records = (await readAllFlowRows(KDD, 'nsl-kdd', scorer.schema)).matrix;
  });
  afterAll(async () => {
    await scorer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('explains every alert of a batch and nothing else, the same way every time', async () => {
    const first = { data: records.data.slice(0, 500 * w), rows: 500, width: w };
    const scores = await scorer.score(first);
    const a = await explainAll(first);
    const b = await explainAll(first);
    expect(b).toEqual(a);
    expect(a.map((e) => e !== undefined)).toEqual(Array.from(scores.label, (l) => l === 1));
    const alerts = a.filter((e): e is DetectionExplanation => e !== undefined);
    expect(alerts.length).toBeGreaterThan(100);
    for (const e of alerts) {
      expect(e).toMatchObject({ model: 'onnx', threshold: 0.5, label: 1, class: 'unknown' });
      expect(e.score).toBeGreaterThan(0.5);
      expect(e.features.length).toBeGreaterThan(0);
      expect(e.features.length).toBeLessThanOrEqual(5);
      for (const f of e.features) expect(f).toMatchObject({ source: 'shapley', reference: expect.anything() });
    }
  });

  it("an alert's values add up to its score minus the reference's, and a row is explained the same alone as in a batch", async () => {
    const first = { data: records.data.slice(0, 100 * w), rows: 100, width: w };
    const scores = await scorer.score(first);
    const explained = await explainAll(first);
    const reference = Float64Array.from(SIDECAR.reference);
    const referenceScore = (await scorer.score(one(reference.slice()))).score[0]!;
    const alerts = Array.from(scores.label, (l, r) => (l === 1 ? r : -1)).filter((r) => r >= 0).slice(0, 5);
    expect(alerts).toHaveLength(5);
    const values = await shapleyValues(scorer, reference, referenceScore, first, alerts, (r) => scores.score[r]!);
    for (const [i, r] of alerts.entries()) {
      const v = values[i]!;
      expect(v.reduce((a, b) => a + b, 0)).toBeCloseTo(scores.score[r]! - referenceScore, 9);
      rowOf(r).forEach((x, f) => x === reference[f] && expect(v[f]).toBe(0));
      // The explanation lists the largest positive values, in order.
      const top = explained[r]!.features;
      expect(top.map((f) => f.contribution)).toEqual(top.map((f) => v[scorer.schema.features.findIndex((s) => s.name === f.feature)]));
      expect(top[0]!.contribution).toBe(Math.max(...v));
      // The same row alone: the same explanation.
      expect((await explainAll(one(rowOf(r))))[0]).toEqual(explained[r]);
    }
  });

  // Two normal records of the fixture that one change makes alerts. Not every such change
  // comes first: the values are against the reference, not against the record before the
  // change (docs/detect.md).
  for (const { line, feature, value, observed, reference } of [
    { line: 137, feature: 'src_bytes', value: 0, observed: 0, reference: 234 },
    { line: 56, feature: 'dst_bytes', value: 0, observed: 0, reference: 382 },
  ]) {
    it(`names the one change first: the normal record at line ${line} with ${feature} ${observed}`, async () => {
      const normal = rowOf(line - 1);
      expect((await scorer.score(one(normal))).label[0]).toBe(0);
      const changed = normal.slice();
      changed[scorer.schema.features.findIndex((s) => s.name === feature)] = value;
      const [e] = await explainAll(one(changed));
      expect(e).toMatchObject({ model: 'onnx', label: 1, threshold: 0.5 });
      expect(e!.features[0]).toMatchObject({ feature, value: observed, reference, source: 'shapley' });
    });
  }

  it('refuses a sidecar whose reference is not one float32 per feature, each category in its vocabulary: model-invalid', async () => {
    const ref = SIDECAR.reference;
    for (const [bad, why] of [
      [ref.slice(1), /reference must be an array of 39 numbers/],
      [[...ref.slice(0, 5), '5', ...ref.slice(6)], /reference 5 \(dst_bytes\) must be a finite number/],
      [[...ref.slice(0, 5), 1e39, ...ref.slice(6)], /reference 5 \(dst_bytes\) must be a finite number a float32 can hold/],
      [[...ref.slice(0, 2), 70, ...ref.slice(3)], /reference 2 \(service\) must be the index of one of its \d+ categories/],
      [[...ref.slice(0, 1), 0.5, ...ref.slice(2)], /reference 1 \(protocol_type\)/],
      [null, /reference must be an array/],
    ] as const) {
      const model = join(dir, 'bad-reference.onnx');
      copyFileSync(ONNX_FIXTURE, model);
      writeFileSync(`${model}.json`, JSON.stringify({ ...SIDECAR, reference: bad }));
      const refused = await readDetectorScorer(model).then(
        () => undefined,
        (e: { code: string; message: string }) => e,
      );
      expect(refused?.code).toBe('model-invalid');
      expect(refused?.message).toMatch(/^Invalid ONNX sidecar: /);
      expect(refused?.message).toMatch(why);
    }
  });

  it('without a reference the model scores as before, and cannot explain', async () => {
    const model = join(dir, 'no-reference.onnx');
    copyFileSync(ONNX_FIXTURE, model);
    const { reference: _, ...plain } = SIDECAR;
    writeFileSync(`${model}.json`, JSON.stringify(plain));
    const bare = await readDetectorScorer(model);
    try {
      expect(bare.explain).toBeUndefined();
      expect((await bare.score(one(rowOf(0)))).score[0]).toBe((await scorer.score(one(rowOf(0)))).score[0]);
    } finally {
      await bare.close();
    }
  });
});
