/**
 * The evaluation figures (detect/detection-evaluation.ts) on a hand-checked example, the
 * normal-traffic threshold (normal-threshold.ts), and the flow schemas' refusal to use
 * identifiers (flow-features.ts).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { runs } from '../ledger/seeded.js';
import { calibrationRowsFor, CIC_FLOW_SCHEMA, displayScore, evaluateDetections, flowClass, flowFeatureRecord, thresholdLevel, normalQuantile, ZEEK_CONN_SCHEMA, FeatureEncoder, type DetectionScores, type FlowRecord } from '../../src/detect/index.js';

function scores(score: number[]): DetectionScores {
  return {
    rows: score.length,
    score: Float64Array.from(score),
    label: Uint8Array.from(score, (s) => (s > 0.5 ? 1 : 0)),
    classIndex: new Int32Array(score.length),
    detectedBy: new Uint8Array(score.length),
    attackProbability: new Float64Array(0),
    forestScore: new Float64Array(0),
  };
}

describe('evaluateDetections', () => {
  it('computes binary and per-class figures, with unknown predictions charged to recall only', () => {
    const truth = ['normal', 'normal', 'normal', 'DoS', 'DoS', 'R2L'];
    const predicted = ['normal', 'normal', 'unknown', 'DoS', 'normal', 'unknown'];
    const e = evaluateDetections(truth, predicted, scores([0.1, 0.2, 0.7, 0.9, 0.3, 0.6]));
    expect(e.binaryConfusion).toEqual([[2, 1], [1, 2]]);
    expect(e.precision).toBeCloseTo(2 / 3);
    expect(e.recall).toBeCloseTo(2 / 3);
    expect(e.falsePositiveRate).toBeCloseTo(1 / 3);
    expect(e.auc).toBeCloseTo(7 / 9); // positives 0.9, 0.3, 0.6 against 0.1, 0.2, 0.7
    expect(e.classes).toEqual(['normal', 'DoS', 'R2L', 'unknown']);
    expect(e.confusion).toEqual([[2, 0, 0, 1], [1, 1, 0, 0], [0, 0, 0, 1]]);
    const by = Object.fromEntries(e.perClass.map((c) => [c.class, c]));
    expect(by['normal']).toMatchObject({ support: 3, precision: 2 / 3, recall: 2 / 3, detectionRate: 1 / 3, auc: null });
    expect(by['DoS']).toMatchObject({ support: 2, precision: 1, recall: 0.5, detectionRate: 0.5 });
    expect(by['R2L']).toMatchObject({ support: 1, precision: 0, recall: 0, f1: 0, detectionRate: 1, auc: 2 / 3 });
    expect(e.macroF1).toBeCloseTo((2 / 3 + 2 / 3 + 0) / 3);
  });
});

describe('normal-traffic thresholds', () => {
  it('takes the order statistic at rank ceil(q·(n + 1)), the largest when there are too few, and maps the threshold to 0.5 monotonically', () => {
    const s = Float64Array.from({ length: 100 }, (_, i) => i / 100);
    expect(normalQuantile(s, 0.99)).toBe(0.99); // rank ⌈99.99⌉ = 100
    expect(normalQuantile(s, 0.98)).toBe(0.98); // rank ⌈98.98⌉ = 99
    expect(normalQuantile(s, 0.5)).toBe(0.5); // rank ⌈50.5⌉ = 51
    expect(normalQuantile(s.subarray(0, 50), 0.99)).toBe(0.49); // 50 < 99 rows: the largest
    // 0.995 · 200 is 199.00000000000003 in doubles: still rank 199 of 199, not past the end.
    expect(normalQuantile(Float64Array.from({ length: 199 }, (_, i) => i), 0.995)).toBe(198);
    expect(calibrationRowsFor(0.99)).toBe(99);
    expect(calibrationRowsFor(0.995)).toBe(199);
    expect(calibrationRowsFor(0.5)).toBe(1);
    expect(() => normalQuantile(s, 1)).toThrow(RangeError);
    expect(() => calibrationRowsFor(0)).toThrow(RangeError);
    expect(thresholdLevel(0.6, 0.6)).toBe(0.5);
    expect(thresholdLevel(0.3, 0.6)).toBeCloseTo(0.25);
    expect(thresholdLevel(0.8, 0.6)).toBeCloseTo(0.75);
    expect(thresholdLevel(1, 0.6)).toBe(1);
    // Where the formula would round to 0.5 just above the threshold, the level is still above it.
    expect(thresholdLevel(0.6 + 2 ** -52, 0.6)).toBeGreaterThan(0.5);
    expect(thresholdLevel(1e-300, Number.MIN_VALUE)).toBeGreaterThan(0.5);
  });

  // Split conformal (normal-threshold.ts): a fresh score exchangeable with n distinct ones is
  // equally likely to take each of the n + 1 ranks, and passes the k-th smallest in n + 1 − k
  // of them. The cut keeps that share at most 1 − q, and the rank below it would not.
  test.prop([fc.integer({ min: 1, max: 3000 }), fc.double({ min: 0.5, max: 0.9995, noNaN: true })], runs(500))('the cut keeps the budget with the fewest alerts it can, once there are enough rows', (n, q) => {
    const scores = Float64Array.from({ length: n }, (_, i) => (i + 1) / (n + 1));
    const k = Math.round(normalQuantile(scores, q) * (n + 1)); // the cut's rank
    if (n < calibrationRowsFor(q)) {
      expect(k).toBe(n);
      return;
    }
    expect((n + 1 - k) / (n + 1)).toBeLessThanOrEqual(1 - q + 1e-9);
    expect((n + 2 - k) / (n + 1)).toBeGreaterThan(1 - q - 1e-9);
  });

  test.prop([fc.double({ min: 0, max: 1, noNaN: true })], runs(500))('a displayed score stays on its side of 0.5, within a millionth', (x) => {
    expect([displayScore(0.5 + 2 ** -53), displayScore(0.5), displayScore(0.5000004), displayScore(0.4999996), displayScore(0.7654321)]).toEqual([0.500001, 0.5, 0.500001, 0.5, 0.765432]);
    const d = displayScore(x);
    expect(d > 0.5).toBe(x > 0.5);
    expect(Math.abs(d - x)).toBeLessThanOrEqual(1e-6);
    expect(Number(d.toFixed(6))).toBe(d);
  });

  const unit = fc.double({ min: 0, max: 1, noNaN: true });
  const cut = fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true });
  test.prop([unit, unit, cut], runs(500))('levels are in [0, 1], above 0.5 exactly above the threshold, and keep the order', (a, b, tau) => {
    const [la, lb] = [thresholdLevel(a, tau), thresholdLevel(b, tau)];
    expect(la >= 0 && la <= 1).toBe(true);
    expect(la > 0.5).toBe(a > tau);
    if (a <= b) expect(la).toBeLessThanOrEqual(lb);
  });
});

describe('flow features', () => {
  it('encodes Zeek and CICFlowMeter flows without their identifiers, unset counts as 0', () => {
    const zeek: FlowRecord = {
      source: 'zeek', line: 9, startTime: 1, endpoints: { origAddr: '10.0.0.5', origPort: 50000, respAddr: '10.0.0.9', respPort: 2575, flowId: 'C1' },
      features: { proto: 'tcp', conn_state: 'S0', orig_pkts: 1, orig_ip_bytes: 60 },
    };
    const names = ZEEK_CONN_SCHEMA.features.map((f) => f.name);
    for (const id of ['id.orig_h', 'id.resp_p', 'uid', 'orig_l2_addr']) expect(names).not.toContain(id);
    const row = new FeatureEncoder(ZEEK_CONN_SCHEMA).encode(flowFeatureRecord(zeek));
    expect(row[names.indexOf('service')]).toBe(0); // 'none'
    expect(row[names.indexOf('duration')]).toBe(0);
    expect(row[names.indexOf('orig_ip_bytes')]).toBeCloseTo(Math.log1p(60));
    expect(flowClass(zeek)).toBeUndefined();
    const cic: FlowRecord = { source: 'cicflowmeter', line: 2, endpoints: { respPort: 80 }, features: { flow_duration: 5 }, truth: { label: 'BENIGN' } };
    expect(new FeatureEncoder(CIC_FLOW_SCHEMA).encode(flowFeatureRecord(cic)).length).toBe(CIC_FLOW_SCHEMA.features.length);
    expect(flowClass(cic)).toBe('normal');
    expect(flowClass({ ...cic, truth: { label: 'PortScan' } })).toBe('PortScan');
  });
});
