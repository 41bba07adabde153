/**
 * `custodia detect score|evaluate --model x.onnx` as an operator runs them (the built
 * binary), with the imported scikit-learn model of test/fixtures/onnx. Scores and metrics
 * come out as for our own models, and so do explanations and findings (by Shapley values against
 * the sidecar's reference row); a malformed model, a sidecar naming the wrong number of
 * features and a missing sidecar are each one line on stderr and exit 2. `detect reference`
 * computes the reference row from normal traffic into the sidecar.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCustodia } from '../helpers/spawn-cli.js';
import { ONNX_FIXTURE, ONNX_RUNTIME_MISSING } from '../helpers/onnx-runtime.js';

const EXCERPT = new URL('../fixtures/flows/nsl-kdd-excerpt.txt', import.meta.url).pathname;
const KDD = new URL('../fixtures/nsl-kdd/KDDTrain+_20Percent.txt', import.meta.url).pathname;
const EXPECTED = JSON.parse(readFileSync(ONNX_FIXTURE.replace(/\.onnx$/, '.expected.json'), 'utf8')) as { attackProbability: number[] };

describe.skipIf(ONNX_RUNTIME_MISSING !== undefined)(`custodia detect score|evaluate with an ONNX model${ONNX_RUNTIME_MISSING === undefined ? '' : ` — SKIPPED: ${ONNX_RUNTIME_MISSING}`}`, () => {
  let dir: string;
  /** A copy of the fixture model and sidecar under `name` in the temporary folder. */
  const copy = (name: string, sidecar?: (s: Record<string, unknown>) => unknown): string => {
    const model = join(dir, name);
    copyFileSync(ONNX_FIXTURE, model);
    const s = JSON.parse(readFileSync(`${ONNX_FIXTURE}.json`, 'utf8')) as Record<string, unknown>;
    writeFileSync(`${model}.json`, JSON.stringify(sidecar === undefined ? s : sidecar(s)));
    return model;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-detect-onnx-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('score writes one CSV row per flow, the scores being the model\'s', () => {
    const input = join(dir, 'first.txt');
    writeFileSync(input, readFileSync(KDD, 'utf8').split('\n').slice(0, 200).join('\n') + '\n');
    const out = join(dir, 'scores.csv');
    const r = runCustodia(['detect', 'score', '--model', ONNX_FIXTURE, '--input', input, '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Scored 200 flows with an onnx model: \d+ labelled attack\.\n$/);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['line', 'score', 'label', 'class', 'detected_by']);
    expect(rows).toHaveLength(201);
    rows.slice(1).forEach((row, i) => {
      expect(Number(row[0])).toBe(i + 1);
      expect(Math.abs(Number(row[1]) - EXPECTED.attackProbability[i]!)).toBeLessThan(1e-6 + 5e-7); // CSV keeps 6 decimals
      expect(row.slice(2)).toEqual(Number(row[1]) > 0.5 ? ['1', 'unknown', 'trees'] : ['0', 'normal', '']);
    });
  });

  it('a model without the .onnx name is still recognised by its first byte', () => {
    const model = copy('imported-model.bin');
    const r = runCustodia(['detect', 'score', '--model', model, '--input', EXCERPT, '--output', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(61);
  });

  it('evaluate prints the metrics on the labelled file (and as JSON)', () => {
    const r = runCustodia(['detect', 'evaluate', '--model', ONNX_FIXTURE, '--input', EXCERPT]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^onnx model on 60 labelled flows \(\d+ attacks\)/);
    expect(r.stdout).toMatch(/attack vs normal: AUC 0\.\d{4}  precision/);
    expect(r.stdout).toContain('confusion matrix');
    const j = runCustodia(['detect', 'evaluate', '--model', ONNX_FIXTURE, '--input', EXCERPT, '--json']);
    expect(j.code, j.stderr).toBe(0);
    const e = JSON.parse(j.stdout) as { model: string; rows: number; auc: number; classes: string[] };
    expect(e).toMatchObject({ model: 'onnx', rows: 60 });
    expect(e.auc).toBeGreaterThan(0.9);
    expect(e.classes).toContain('unknown');
  });

  it('a five-class model names its alerts, is evaluated per class, and explains them', () => {
    const classes = ONNX_FIXTURE.replace(/\.onnx$/, '-classes.onnx');
    const j = runCustodia(['detect', 'evaluate', '--model', classes, '--input', EXCERPT, '--json']);
    expect(j.code, j.stderr).toBe(0);
    const e = JSON.parse(j.stdout) as { model: string; classes: string[] };
    expect(e.model).toBe('onnx');
    expect(e.classes).toEqual(expect.arrayContaining(['normal', 'DoS']));
    expect(e.classes).not.toContain('unknown');
    const r = runCustodia(['detect', 'score', '--model', classes, '--input', EXCERPT, '--output', '-', '--explain', '2']);
    expect(r.code, r.stderr).toBe(0);
    const attacks = r.stdout.trim().split('\n').slice(1).filter((l) => l.split(',')[2] === '1');
    expect(attacks.length).toBeGreaterThan(5);
    for (const l of attacks) expect(l).toMatch(/^\d+,[\d.]+,1,(DoS|Probe|R2L|U2R),trees,.* vs .*\(shapley \+/);
  });

  it('refuses a malformed ONNX file: exit 2, one line, no output file', () => {
    const model = copy('broken.onnx');
    writeFileSync(model, readFileSync(ONNX_FIXTURE).subarray(0, 1000));
    const out = join(dir, 'never.csv');
    expectOneLineError(runCustodia(['detect', 'score', '--model', model, '--input', EXCERPT, '--output', out]), /Invalid ONNX model: the ONNX runtime refused it/);
    expect(existsSync(out)).toBe(false);
    writeFileSync(model, 'not protobuf at all');
    expectOneLineError(runCustodia(['detect', 'evaluate', '--model', model, '--input', EXCERPT]), /Invalid ONNX model: the ONNX runtime refused it/);
  });

  it('refuses a sidecar naming the wrong number of features: exit 2', () => {
    const model = copy('narrow.onnx', (s) => ({ ...s, features: (s['features'] as string[]).slice(0, 38) }));
    expectOneLineError(runCustodia(['detect', 'score', '--model', model, '--input', EXCERPT, '--output', '-']), 'Invalid ONNX sidecar: it names 38 features; schema nsl-kdd has 39');
    expectOneLineError(runCustodia(['detect', 'evaluate', '--model', model, '--input', EXCERPT]), 'it names 38 features');
  });

  it('refuses an ONNX model without its sidecar: exit 2, naming the file it looked for', () => {
    const model = join(dir, 'alone.onnx');
    copyFileSync(ONNX_FIXTURE, model);
    expectOneLineError(runCustodia(['detect', 'score', '--model', model, '--input', EXCERPT, '--output', '-']), `its sidecar ${model}.json is missing`);
    expectOneLineError(runCustodia(['detect', 'evaluate', '--model', model, '--input', EXCERPT]), 'is missing');
  });

  it('--explain names the top features of each attack row, the value against the reference, by Shapley values', () => {
    const out = join(dir, 'explained.csv');
    const r = runCustodia(['detect', 'score', '--model', ONNX_FIXTURE, '--input', EXCERPT, '--output', out, '--explain', '3']);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('line,score,label,class,detected_by,explanation');
    const rows = lines.slice(1).map((l) => /^(\d+),([\d.]+),([01]),(\w+),(\w*),(.*)$/.exec(l)!);
    expect(rows.filter((m) => m[3] === '1').length).toBeGreaterThan(5);
    for (const m of rows) {
      if (m[3] === '0') expect(m[6]).toBe('');
      else for (const f of m[6]!.replace(/^"|"$/g, '').split('; ')) expect(f).toMatch(/^\w+=[\w.]+ vs [\w.]+ \(shapley \+\d\.\d+(e-\d+)?\)$/);
    }
  });

  it('--raise-findings raises explained findings from an ONNX model, with reference values as baselines', () => {
    const vault = join(dir, 'vault');
    const r = runCustodia(['detect', 'score', '--model', ONNX_FIXTURE, '--input', EXCERPT, '--output', join(dir, 'raised.csv'), '--raise-findings', '--data-dir', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Raised \d+ alert\(s\) as \d+ finding\(s\)/);
    const listed = runCustodia(['detect', 'findings', 'list', '--json', '--limit', '1000', '--data-dir', vault]);
    expect(listed.code, listed.stderr).toBe(0);
    const list = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { explanation: { detector: string; threshold: number; score: number; features: { baseline?: number }[] } });
    expect(list.length).toBeGreaterThan(0);
    for (const f of list) {
      expect(f.explanation).toMatchObject({ detector: 'flow-onnx', threshold: 0.5 });
      expect(f.explanation.score).toBeGreaterThan(0.5);
      expect(f.explanation.features.length).toBeGreaterThan(0);
      for (const x of f.explanation.features) expect(typeof x.baseline).toBe('number');
    }
  });

  it('refuses --explain and --raise-findings when the sidecar has no reference row: exit 2', () => {
    const model = copy('no-reference.onnx', (s) => ({ ...s, reference: undefined }));
    expectOneLineError(runCustodia(['detect', 'score', '--model', model, '--input', EXCERPT, '--output', '-', '--explain', '3']), /onnx model cannot explain its scores.*reference row/);
    expectOneLineError(runCustodia(['detect', 'score', '--model', model, '--input', EXCERPT, '--output', '-', '--raise-findings', '--data-dir', join(dir, 'vault-never')]), /--raise-findings needs a model that explains its alerts/);
    expect(existsSync(join(dir, 'vault-never'))).toBe(false);
  });

  it('reference computes the reference row from the normal rows of a labelled file into the sidecar, and the model then explains', () => {
    const fixture = JSON.parse(readFileSync(`${ONNX_FIXTURE}.json`, 'utf8')) as { reference: number[] };
    const model = copy('made-reference.onnx', (s) => ({ ...s, reference: undefined }));
    const r = runCustodia(['detect', 'reference', '--model', model, '--input', KDD]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`Reference row from 13449 normal flows written to ${model}.json.\n`);
    const written = JSON.parse(readFileSync(`${model}.json`, 'utf8')) as Record<string, unknown>;
    // The same row the fixture's script computed from the same file, and every other member kept.
    expect(written).toEqual({ ...JSON.parse(readFileSync(`${ONNX_FIXTURE}.json`, 'utf8')), reference: fixture.reference });
    const scored = runCustodia(['detect', 'score', '--model', model, '--input', EXCERPT, '--output', '-', '--explain', '2']);
    expect(scored.code, scored.stderr).toBe(0);
    expect(scored.stdout).toMatch(/ vs [^ ]+ \(shapley [+-]/);
  });

  it('reference takes an unlabelled file only with --all-normal, and leaves the sidecar as it was when it refuses', () => {
    const model = copy('unlabelled-reference.onnx', (s) => ({ ...s, reference: undefined }));
    const before = readFileSync(`${model}.json`, 'utf8');
    // The first 100 normal records without their label and difficulty columns.
    const normal = readFileSync(KDD, 'utf8').split('\n').filter((l) => l.split(',')[41] === 'normal').slice(0, 100);
    const input = join(dir, 'unlabelled-normal.txt');
    writeFileSync(input, `${normal.map((l) => l.split(',').slice(0, 41).join(',')).join('\n')}\n`);
    expectOneLineError(runCustodia(['detect', 'reference', '--model', model, '--input', input]), /has no labels: give --all-normal/);
    expect(readFileSync(`${model}.json`, 'utf8')).toBe(before);
    const r = runCustodia(['detect', 'reference', '--model', model, '--input', input, '--all-normal']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Reference row from 100 normal flows written to /);
    expect((JSON.parse(readFileSync(`${model}.json`, 'utf8')) as { reference: number[] }).reference).toHaveLength(39);
    expectOneLineError(runCustodia(['detect', 'reference', '--model', join(dir, 'absent.onnx'), '--input', input, '--all-normal']), /sidecar .* is missing/);
  });
});
