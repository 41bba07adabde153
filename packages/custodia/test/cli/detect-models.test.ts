/**
 * `custodia detect train|score|evaluate` as an operator runs them (the built binary):
 * on NSL-KDD (every fifth line of the 20% fixture for training, to keep the test short;
 * the whole fixture for evaluation), on Zeek conn.log (unlabelled: unsupervised only) and
 * on a small labelled CICFlowMeter file. Refused input is one line on stderr, exit 2, no
 * stack trace, and no output file left behind.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCustodia } from '../helpers/spawn-cli.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
const KDD = join(FIXTURES, 'nsl-kdd/KDDTrain+_20Percent.txt');
const ZEEK = join(FIXTURES, 'flows/zeek-conn.log');
const ZEEK_JSON = join(FIXTURES, 'flows/zeek-conn.json.log');

let dir: string;
let kddPart: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'custodia-detect-models-'));
  kddPart = join(dir, 'kdd-part.txt');
  writeFileSync(kddPart, readFileSync(KDD, 'utf8').split('\n').filter((l, i) => l !== '' && i % 5 === 0).join('\n') + '\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csv(path: string): string[][] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
}

describe('custodia detect train|score|evaluate on NSL-KDD', () => {
  it('trains a hybrid model, the same file for the same seed', () => {
    const a = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'a.json'), '--hybrid', '--seed', '7']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^Trained a hybrid model on 5039 of 5039 flows \(normal \d+, DoS \d+/);
    expect(a.stderr).toBe(''); // no progress bar when stderr is not a terminal
    const b = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'b.json'), '--hybrid', '--seed', '7']);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe(readFileSync(join(dir, 'a.json'), 'utf8'));
    expect(JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'))).toMatchObject({ format: 'custodia-detect-model', version: 1, kind: 'hybrid', schema: { id: 'nsl-kdd' }, classes: ['normal', 'DoS', 'Probe', 'R2L', 'U2R'] });
  });

  it('says where the model alerts, and takes a false-positive budget that it splits between the trees and the forest', () => {
    const a = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'budget-default.json'), '--hybrid', '--seed', '7']);
    expect(a.stdout).toMatch(/It alerts when the boosted trees and the random forest \(100 trees\) give, on average, a flow an attack probability above 0\.\d+ \(the 0\.995 quantile of normal flows they did not fit\), or the forest scores it above 0\.\d+ \(the 0\.995 quantile/);
    expect(a.stdout).toMatch(/It also alerts on a flow that departs from what normal flows almost always hold \([^)]*wrong_fragment 0[^)]*\), which the forest cannot split on\./);
    const wide = join(dir, 'budget-4.json');
    const r = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', wide, '--hybrid', '--seed', '7', '--false-positive-budget', '0.04']);
    expect(r.code, r.stderr).toBe(0);
    type Cuts = { model: { normalQuantile: number; treesQuantile: number; treesThreshold: number; forestThreshold: number } };
    const narrow = (JSON.parse(readFileSync(join(dir, 'budget-default.json'), 'utf8')) as Cuts).model;
    const wider = (JSON.parse(readFileSync(wide, 'utf8')) as Cuts).model;
    expect(wider).toMatchObject({ normalQuantile: 0.98, treesQuantile: 0.98 });
    // A larger budget can only lower the cuts.
    expect(wider.treesThreshold).toBeLessThanOrEqual(narrow.treesThreshold);
    expect(wider.forestThreshold).toBeLessThanOrEqual(narrow.forestThreshold);
    // A forest alone keeps the whole budget: its threshold at the 1 − b quantile.
    const forestAt = (budget: string[]): number => {
      const out = join(dir, 'budget-forest.json');
      const f = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', out, '--unsupervised', '--seed', '7', ...budget]);
      expect(f.code, f.stderr).toBe(0);
      expect(f.stdout).toMatch(/It alerts when the forest scores a flow above 0\.\d+\. It also alerts on a flow that departs from what normal flows almost always hold \([^)]*num_failed_logins 0/);
      return (JSON.parse(readFileSync(out, 'utf8')) as { threshold: number }).threshold;
    };
    expect(forestAt(['--false-positive-budget', '.1'])).toBeLessThan(forestAt([]));
    for (const bad of ['0', '0.0', '0.3', '1', '1e-2', '0x1', '-0.01', 'Infinity', '0.01%', '']) {
      expectOneLineError(runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'no.json'), '--false-positive-budget', bad]), /--false-positive-budget is a share above 0 and at most 0\.2/);
    }
    expectOneLineError(runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'no.json'), '--supervised', '--false-positive-budget', '0.01']), /a supervised model has no false-positive budget/);
    expect(existsSync(join(dir, 'no.json'))).toBe(false);
    // Sixteen CLI runs, four of them trainings: a minute or more on a loaded 2-core CI machine (64 s seen), not a measure of speed.
  }, 180_000);

  it('warns when a cut was set on too few normal flows to keep its budget, and how many it would take', () => {
    const small = join(dir, 'kdd-small.txt');
    writeFileSync(small, readFileSync(KDD, 'utf8').split('\n').filter((l, i) => l !== '' && i % 25 === 0).join('\n') + '\n');
    const r = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', small, '--model', join(dir, 'small.json'), '--hybrid', '--seed', '7']);
    expect(r.code, r.stderr).toBe(0);
    // 565 normal flows: a tenth validate the trees, a fifth calibrate the forest; a 0.5% budget needs 199.
    expect(r.stderr).toMatch(/^Warning: The trees' cut was set on \d{2} normal flows it did not train on; a budget of 0\.5% needs at least 199, so expect about \d(\.\d)?% of normal flows to alert there\./m);
    expect(r.stderr).toMatch(/^Warning: The forest's cut was set on 113 normal flows it did not train on; a budget of 0\.5% needs at least 199/m);
    // A forest alone spends the whole 1%, which needs 99: 113 are enough.
    const f = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', small, '--model', join(dir, 'small-forest.json'), '--unsupervised', '--seed', '7']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stderr).toBe('');
  });

  it('sizes the hybrid\'s random forest with --random-forest, 0 for none, and refuses it elsewhere', () => {
    const sized = join(dir, 'rf-20.json');
    const r = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', sized, '--hybrid', '--seed', '7', '--random-forest', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the boosted trees and the random forest \(20 trees\) give, on average,/);
    type File = { model: { randomForest?: { trees: unknown[] } } };
    expect((JSON.parse(readFileSync(sized, 'utf8')) as File).model.randomForest!.trees.length).toBe(20);
    expect((JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as File).model.randomForest!.trees.length).toBe(100);
    const none = join(dir, 'rf-0.json');
    const n = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', none, '--hybrid', '--seed', '7', '--random-forest', '0']);
    expect(n.code, n.stderr).toBe(0);
    expect(n.stdout).toMatch(/It alerts when the trees give a flow an attack probability above/);
    expect((JSON.parse(readFileSync(none, 'utf8')) as File).model.randomForest).toBeUndefined();
    for (const bad of ['1001', '1.5', 'x', '-1', '']) {
      expectOneLineError(runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'no.json'), '--random-forest', bad]), /--random-forest is a whole number of trees from 0 to 1000/);
    }
    for (const mode of ['--supervised', '--unsupervised']) {
      expectOneLineError(runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'no.json'), mode, '--random-forest', '10']), /only a hybrid model has a random forest/);
    }
    expect(existsSync(join(dir, 'no.json'))).toBe(false);
  });

  it('averages boosted ensembles with --bags: another model than one ensemble, still one per seed', () => {
    const one = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as { model: { gbdt: { trees: unknown[] } } };
    const bagged = join(dir, 'bagged.json');
    const r = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', bagged, '--hybrid', '--seed', '7', '--bags', '2']);
    expect(r.code, r.stderr).toBe(0);
    const two = JSON.parse(readFileSync(bagged, 'utf8')) as { model: { gbdt: { trees: unknown[] } } };
    expect(two.model.gbdt.trees.length).not.toBe(one.model.gbdt.trees.length);
    const again = join(dir, 'bagged-again.json');
    expect(runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', again, '--hybrid', '--seed', '7', '--bags', '2']).code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(bagged, 'utf8'));
    for (const bad of ['0', '17', '1.5', 'x', '-1']) {
      expectOneLineError(runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'no.json'), '--bags', bad]), /--bags is a whole number from 1 to 16/);
    }
    expect(existsSync(join(dir, 'no.json'))).toBe(false);
  });

  it('raises an explained finding for every attack row in the vault, folded by dedup and rate limits, listed by detect findings', () => {
    const vault = join(dir, 'vault');
    const out = join(dir, 'raised.csv');
    const r = runCustodia(['detect', 'score', '--model', join(dir, 'a.json'), '--input', join(FIXTURES, 'flows/nsl-kdd-excerpt.txt'), '--output', out, '--raise-findings', '--data-dir', vault]);
    expect(r.code, r.stderr).toBe(0);
    const attacks = csv(out).slice(1).filter((row) => row[2] === '1').length;
    expect(attacks).toBeGreaterThan(5);
    // Without --explain the CSV has no explanation column; the findings are explained all the same.
    expect(csv(out)[0]).toEqual(['line', 'score', 'label', 'class', 'detected_by']);
    const [, raised, findings] = /Raised (\d+) alert\(s\) as (\d+) finding\(s\)/.exec(r.stderr) ?? [];
    expect(Number(raised)).toBe(attacks);
    expect(Number(findings)).toBeGreaterThan(0);
    expect(Number(findings)).toBeLessThanOrEqual(attacks);
    const listed = runCustodia(['detect', 'findings', 'list', '--json', '--limit', '1000', '--data-dir', vault]);
    expect(listed.code, listed.stderr).toBe(0);
    const list = listed.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(list).toHaveLength(Number(findings));
    expect(list.reduce((n: number, f: { count: number }) => n + f.count, 0)).toBe(attacks);
    for (const f of list) {
      // NSL-KDD has no endpoints: the findings are about the file.
      expect(f).toMatchObject({ device: 'flows:nsl-kdd-excerpt.txt', status: 'new', explanation: { detector: 'flow-hybrid', threshold: 0.5 } });
      expect(f.explanation.features.length).toBeGreaterThan(0);
      expect(f.explanation.score).toBeGreaterThan(0.5);
    }
  });

  it('scores one row per input row, with score, label, class and explanations', () => {
    const out = join(dir, 'scores.csv');
    const r = runCustodia(['detect', 'score', '--model', join(dir, 'a.json'), '--input', join(FIXTURES, 'flows/nsl-kdd-excerpt.txt'), '--output', out, '--explain', '2']);
    expect(r.code, r.stderr).toBe(0);
    const rows = csv(out);
    expect(rows[0]).toEqual(['line', 'score', 'label', 'class', 'detected_by', 'explanation']);
    expect(rows).toHaveLength(61);
    expect(rows.slice(1).map((row) => Number(row[0]))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const labels = readFileSync(join(FIXTURES, 'flows/nsl-kdd-excerpt.txt'), 'utf8').trim().split('\n').map((l) => l.split(',')[41]);
    let agree = 0;
    rows.slice(1).forEach((row, i) => {
      expect(Number(row[2])).toBe(Number(row[1]) > 0.5 ? 1 : 0);
      if ((row[2] === '1') === (labels[i] !== 'normal')) agree++;
      if (row[2] === '1') expect(row.slice(5).join(',')).toMatch(/=.*\((trees|forest) /);
    });
    expect(agree).toBeGreaterThanOrEqual(57);
  });

  it('evaluates on the whole fixture: AUC, precision, recall, macro-F1, confusion matrix, per class', () => {
    const r = runCustodia(['detect', 'evaluate', '--model', join(dir, 'a.json'), '--input', KDD, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout) as { auc: number; precision: number; recall: number; macroF1: number; rows: number; classes: string[]; confusion: number[][]; perClass: { class: string; recall: number }[] };
    expect(e.rows).toBe(25192);
    expect(e.auc).toBeGreaterThan(0.99);
    expect(e.precision).toBeGreaterThan(0.95);
    expect(e.recall).toBeGreaterThan(0.95);
    expect(e.macroF1).toBeGreaterThan(0.6);
    expect(e.perClass.map((c) => c.class)).toEqual(['normal', 'DoS', 'Probe', 'R2L', 'U2R']);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(25192);
    const text = runCustodia(['detect', 'evaluate', '--model', join(dir, 'a.json'), '--input', join(FIXTURES, 'flows/nsl-kdd-excerpt.txt')]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/attack vs normal: AUC [\d.]+ +precision/);
    expect(text.stdout).toMatch(/confusion matrix/);
  });

  it('trains an unsupervised forest on the normal rows of a labelled file', () => {
    const r = runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', kddPart, '--model', join(dir, 'u.json'), '--unsupervised']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Trained an isolation-forest model on (\d+) of 5039 flows/);
    const e = JSON.parse(runCustodia(['detect', 'evaluate', '--model', join(dir, 'u.json'), '--input', KDD, '--json']).stdout) as { auc: number };
    expect(e.auc).toBeGreaterThan(0.95);
  });
});

describe('custodia detect on Zeek and CICFlowMeter flows', () => {
  it('trains unsupervised on an unlabelled conn.log and scores the JSON log with it', () => {
    const model = join(dir, 'zeek.json');
    const r = runCustodia(['detect', 'train', '--format', 'zeek', '--input', ZEEK, '--model', model]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/isolation-forest model on 8 of 8 flows/);
    const out = join(dir, 'zeek.csv');
    const s = runCustodia(['detect', 'score', '--model', model, '--input', ZEEK_JSON, '--output', out]);
    expect(s.code, s.stderr).toBe(0);
    const rows = csv(out);
    expect(rows[0]).toEqual(['line', 'score', 'label', 'class', 'detected_by']);
    expect(rows).toHaveLength(7);
    for (const row of rows.slice(1)) expect(['normal', 'unknown']).toContain(row[3]);
  });

  it('refuses supervised training without labels, a format other than the model’s, and hostile model files', () => {
    expectOneLineError(runCustodia(['detect', 'train', '--format', 'zeek', '--input', ZEEK, '--model', join(dir, 'no.json'), '--supervised']), /needs labelled flows/);
    expectOneLineError(runCustodia(['detect', 'train', '--format', 'zeek', '--input', ZEEK, '--model', join(dir, 'no.json'), '--hybrid']), /needs labelled flows/);
    expect(existsSync(join(dir, 'no.json'))).toBe(false);
    expectOneLineError(runCustodia(['detect', 'train', '--format', 'zeek', '--input', ZEEK, '--model', join(dir, 'no.json'), '--hybrid', '--supervised']), /choose one/);
    expectOneLineError(runCustodia(['detect', 'train', '--format', 'zeek', '--input', join(dir, 'missing.log'), '--model', join(dir, 'no.json')]), /cannot read the flow file/);
    expect(runCustodia(['detect', 'train', '--format', 'pcap', '--input', ZEEK, '--model', join(dir, 'no.json')]).code).toBe(2);
    expectOneLineError(runCustodia(['detect', 'score', '--model', join(dir, 'zeek.json'), '--input', KDD, '--format', 'nsl-kdd', '--output', join(dir, 'no.csv')]), /trained on zeek flows, not nsl-kdd/);
    const hostile = join(dir, 'hostile.json');
    const model = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as Record<string, any>;
    model['model'].forest.trees[0].left[0] = 0;
    writeFileSync(hostile, JSON.stringify(model));
    expectOneLineError(runCustodia(['detect', 'score', '--model', hostile, '--input', kddPart, '--output', join(dir, 'no.csv')]), /Invalid isolation tree 0/);
    writeFileSync(hostile, '{"format": "custodia-detect-model", "version": 1, "kind": "hybrid", "__proto__": {}}');
    expectOneLineError(runCustodia(['detect', 'evaluate', '--model', hostile, '--input', kddPart]), /Invalid model file/);
    expect(existsSync(join(dir, 'no.csv'))).toBe(false);
    expectOneLineError(runCustodia(['detect', 'evaluate', '--model', join(dir, 'zeek.json'), '--input', ZEEK]), /needs labelled flows/);
    // A refusal after reading names the records it skipped: here they are why.
    const broken = join(dir, 'broken.txt');
    writeFileSync(broken, `${readFileSync(KDD, 'utf8').split('\n')[0]}\n1,2,3\n"unterminated,\n`);
    expectOneLineError(
      runCustodia(['detect', 'train', '--format', 'nsl-kdd', '--input', broken, '--model', join(dir, 'no.json'), '--unsupervised']),
      /at least 4 normal rows .*\(2 bad records were skipped; line 2: 3 fields, not 41 to 43; line 3: unterminated quoted field\)/,
    );
    expect(existsSync(join(dir, 'no.json'))).toBe(false);
  });

  it('trains a hybrid on labelled CICFlowMeter flows and evaluates it', () => {
    const [header, ...rows] = readFileSync(join(FIXTURES, 'flows/cic-ids2017-style.csv'), 'utf8').trim().split(/\r?\n/);
    const benign = rows.find((r) => r.endsWith(',BENIGN'))!;
    const attacks = rows.filter((r) => r.endsWith(',DoS Hulk') || r.endsWith(',PortScan'));
    // Flow Duration (column 2) varied so that the rows are not all duplicates.
    const vary = (row: string, i: number): string => row.split(',').map((v, c) => (c === 1 ? String(Number(v) + i * 1000) : v)).join(',');
    const lines = [header!, ...Array.from({ length: 30 }, (_, i) => vary(benign, i)), ...attacks.flatMap((a) => Array.from({ length: 10 }, (_, i) => vary(a, i)))];
    const file = join(dir, 'cic.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const model = join(dir, 'cic.json');
    const r = runCustodia(['detect', 'train', '--format', 'cicflowmeter', '--input', file, '--model', model, '--seed', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hybrid model on 50 of 50 flows \(normal 30, DoS Hulk 10, PortScan 10\)/);
    const e = runCustodia(['detect', 'evaluate', '--model', model, '--input', file, '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect((JSON.parse(e.stdout) as { perClass: { class: string }[] }).perClass.map((c) => c.class)).toEqual(['normal', 'DoS Hulk', 'PortScan']);
  });
});
