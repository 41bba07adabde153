/**
 * The ONNX adapter behind the Scorer port, on a real model trained elsewhere: a
 * scikit-learn random forest exported as an ai.onnx.ml TreeEnsembleClassifier
 * (test/fixtures/onnx/README.md). onnxruntime's scores of the fixture's first 500 NSL-KDD
 * records, encoded by Custodia, equal scikit-learn's predict_proba to 1e-6: that proves the
 * adapter, the feature encoding and the column order at once; the same for a five-class
 * model, whose alerts are named after their most probable attack class. Hostile model bytes and a
 * model whose signature disagrees with its sidecar are `model-invalid`; no runtime is
 * `model-unsupported`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDetectorScorer, scoreFlowFile } from '../../src/app/index.js';
import { parseOnnxSidecar, type OnnxSidecar } from '../../src/detect/index.js';
import { loadOnnxRuntime, openOnnxScorer, type OnnxRuntime } from '../../src/onnx/index.js';
import { ONNX_FIXTURE, ONNX_RUNTIME_MISSING } from '../helpers/onnx-runtime.js';

const KDD = new URL('../fixtures/nsl-kdd/KDDTrain+_20Percent.txt', import.meta.url).pathname;
const EXPECTED = JSON.parse(readFileSync(ONNX_FIXTURE.replace(/\.onnx$/, '.expected.json'), 'utf8')) as { rows: number; attackProbability: number[] };

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error('accepted');
}

it('without the runtime package, an ONNX model is model-unsupported, saying how to install it', async () => {
  const r = await refusal(loadOnnxRuntime('custodia-no-such-onnx-runtime'));
  expect(r.code).toBe('model-unsupported');
  expect(r.message).toMatch(/onnxruntime-node.*ONNXRUNTIME_NODE_INSTALL=skip/);
});

describe.skipIf(ONNX_RUNTIME_MISSING !== undefined)(`ONNX scorer (onnxruntime-node)${ONNX_RUNTIME_MISSING === undefined ? '' : ` — SKIPPED: ${ONNX_RUNTIME_MISSING}`}`, () => {
  let dir: string;
  let ort: OnnxRuntime;
  let sidecar: OnnxSidecar;
  const model = readFileSync(ONNX_FIXTURE);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-onnx-'));
    ort = await loadOnnxRuntime();
    sidecar = parseOnnxSidecar(readFileSync(`${ONNX_FIXTURE}.json`));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("scores the fixture's first 500 records as scikit-learn did, to 1e-6, labelled above the threshold", async () => {
    const input = join(dir, 'first.txt');
    writeFileSync(input, readFileSync(KDD, 'utf8').split('\n').slice(0, EXPECTED.rows).join('\n') + '\n');
    const scorer = await readDetectorScorer(ONNX_FIXTURE);
    expect(scorer).toMatchObject({ kind: 'onnx', threshold: 0.5 });
    expect(scorer.schema.id).toBe('nsl-kdd');
    const score: number[] = [];
    const names: string[] = [];
    try {
      const report = await scoreFlowFile({ scorer, input, format: 'nsl-kdd', onBatch: (b) => {
        score.push(...b.scores.score);
        names.push(...b.classNames);
        for (let r = 0; r < b.lines.length; r++) expect(b.scores.label[r]).toBe(b.scores.score[r]! > 0.5 ? 1 : 0);
      } });
      expect(report).toMatchObject({ rows: EXPECTED.rows, badRecords: 0 });
    } finally {
      await scorer.close();
      await scorer.close(); // idempotent
    }
    expect(score).toHaveLength(EXPECTED.rows);
    const worst = Math.max(...score.map((s, i) => Math.abs(s - EXPECTED.attackProbability[i]!)));
    expect(worst).toBeLessThan(1e-6);
    expect(new Set(names)).toEqual(new Set(['normal', 'unknown']));
  });

  it("scores the five-class fixture as scikit-learn did: 1 − P(normal) to 1e-6, each alert named after its most probable attack class", async () => {
    const classes = ONNX_FIXTURE.replace(/\.onnx$/, '-classes.onnx');
    const expected = JSON.parse(readFileSync(classes.replace(/\.onnx$/, '.expected.json'), 'utf8')) as { rows: number; attackProbability: number[]; attackClass: string[] };
    const input = join(dir, 'first-classes.txt');
    writeFileSync(input, readFileSync(KDD, 'utf8').split('\n').slice(0, expected.rows).join('\n') + '\n');
    const scorer = await readDetectorScorer(classes);
    const score: number[] = [];
    const names: string[] = [];
    try {
      await scoreFlowFile({ scorer, input, format: 'nsl-kdd', onBatch: (b) => {
        score.push(...b.scores.score);
        names.push(...b.classNames);
      } });
    } finally {
      await scorer.close();
    }
    expect(score).toHaveLength(expected.rows);
    expect(Math.max(...score.map((s, i) => Math.abs(s - expected.attackProbability[i]!)))).toBeLessThan(1e-6);
    expect(names).toEqual(score.map((s, i) => (s > 0.5 ? expected.attackClass[i] : 'normal')));
    expect(new Set(names)).toEqual(new Set(['normal', 'DoS', 'Probe', 'R2L']));
  });

  it('refuses bytes that are not an ONNX model, without crashing', async () => {
    for (const bad of [Buffer.from('not a model'), Buffer.alloc(0), model.subarray(0, model.length >> 1), Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]) {
      const r = await refusal(openOnnxScorer(ort, bad, sidecar));
      expect(r.code).toBe('model-invalid');
      expect(r.message).toMatch(/^Invalid ONNX model: /);
      expect(r.message).not.toMatch(/\n/);
    }
  });

  it("refuses a model whose signature is not the sidecar's", async () => {
    expect((await refusal(openOnnxScorer(ort, model, { ...sidecar, input: 'features' }))).message).toMatch(/one input, named features/);
    expect((await refusal(openOnnxScorer(ort, model, { ...sidecar, output: 'scores' }))).message).toMatch(/no output named scores/);
    expect((await refusal(openOnnxScorer(ort, model, { ...sidecar, output: 'label' }))).message).toMatch(/output label is int64/);
    expect((await refusal(openOnnxScorer(ort, model, { ...sidecar, normalColumn: 2 }))).message).toMatch(/has 2 columns; the sidecar's normal column is 2/);
    expect((await refusal(openOnnxScorer(ort, model, { ...sidecar, classes: ['normal', 'DoS', 'Probe'] }))).message).toMatch(/has 2 columns; the sidecar names 3 classes/);
    const narrow = { ...sidecar, schema: { ...sidecar.schema, features: sidecar.schema.features.slice(1) } };
    expect((await refusal(openOnnxScorer(ort, model, narrow))).message).toMatch(/takes 39 features; the sidecar's schema nsl-kdd has 38/);
  });
});
