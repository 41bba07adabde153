/**
 * Findings (detect/finding.ts, detect/finding-gate.ts): the analyst lifecycle, what makes
 * two detections the same finding, and the gate that keeps a flood from burying anything —
 * every detection is accounted for in exactly one finding's count, the severest one stays
 * visible, and another device's detection in the middle of a flood is still raised.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { FINDING_STATUSES, dedupKey, mergeRepeat, transition, type Finding, type FindingDraft, type FindingStatus, type Severity } from '../../src/detect/finding.js';
import { gate, RATE_LIMIT_DETECTOR } from '../../src/detect/finding-gate.js';
import { isCustodiaError } from '../../src/kernel/index.js';
import { runs } from '../ledger/seeded.js';

const draft = (over: Partial<FindingDraft> & { feature?: string; detector?: string; label?: string } = {}): FindingDraft => ({
  device: over.device ?? 'Device/infusion-pump-7',
  severity: over.severity ?? 'medium',
  start: over.start ?? 1_000,
  end: over.end ?? 2_000,
  summary: 'Outbound bytes far above this pump’s baseline',
  explanation: {
    detector: over.detector ?? 'isolation-forest',
    model: 'iforest-v1',
    score: 0.71,
    threshold: 0.62,
    ...(over.label === undefined ? {} : { label: over.label }),
    features: [{ feature: over.feature ?? 'orig_bytes', value: 9e6, baseline: 2e3, z: 41 }],
  },
});

const raised = (d: FindingDraft, status: FindingStatus = 'new'): Finding => ({ ...d, id: 'f1', status, count: 1, firstSeen: d.start, lastSeen: d.end, updatedAt: d.end });

describe('finding lifecycle', () => {
  const allowed: Record<FindingStatus, FindingStatus[]> = {
    new: ['triaged', 'false-positive', 'confirmed'],
    triaged: ['false-positive', 'confirmed'],
    'false-positive': ['triaged'],
    confirmed: ['triaged'],
  };
  for (const from of FINDING_STATUSES) {
    for (const to of FINDING_STATUSES) {
      const ok = allowed[from].includes(to);
      it(`${from} → ${to}: ${ok ? 'allowed' : 'refused (409)'}`, () => {
        const f = raised(draft(), from);
        if (ok) {
          expect(transition(f, to, 'user:secops', 5_000, 'checked the pump')).toMatchObject({ status: to, updatedBy: 'user:secops', updatedAt: 5_000, note: 'checked the pump' });
        } else {
          let error: unknown;
          try {
            transition(f, to, 'user:secops', 5_000);
          } catch (e) {
            error = e;
          }
          expect(isCustodiaError(error) && error.code).toBe('finding-transition-invalid');
        }
      });
    }
  }
});

describe('repeats', () => {
  it('are the same finding for the same device, detector, class and top feature, and news otherwise', () => {
    expect(dedupKey(draft({ start: 5, end: 9 }))).toBe(dedupKey(draft()));
    expect(dedupKey(draft({ device: 'Device/monitor-2' }))).not.toBe(dedupKey(draft()));
    expect(dedupKey(draft({ feature: 'resp_pkts' }))).not.toBe(dedupKey(draft()));
    expect(dedupKey(draft({ detector: 'baseline' }))).not.toBe(dedupKey(draft()));
    expect(dedupKey(draft({ label: 'DoS' }))).not.toBe(dedupKey(draft({ label: 'Probe' })));
  });

  it('merge into the open finding: one more, the wider window, the higher severity', () => {
    const f = mergeRepeat(raised(draft({ start: 1_000, end: 2_000, severity: 'high' })), draft({ start: 500, end: 3_000, severity: 'low' }), 3_100);
    expect(f).toMatchObject({ count: 2, start: 500, end: 3_000, lastSeen: 3_000, severity: 'high', updatedAt: 3_100 });
    expect(mergeRepeat(f, draft({ severity: 'critical' }), 3_200).severity).toBe('critical');
  });
});

/** A store of findings by key, gating every detection as the app does. */
function simulate(detections: readonly FindingDraft[], limitPerDevice: number): Finding[] {
  /** Every finding raised, by id; and the latest under each key (what the store looks up). */
  const all = new Map<string, Finding>();
  const byKey = new Map<string, Finding>();
  const spent = new Map<string, number>();
  let ids = 0;
  const policy = { dedupWindowMs: 60_000 };
  const put = (d: FindingDraft, limited: boolean): void => {
    const key = dedupKey(d);
    const within = (): boolean => {
      const n = spent.get(d.device) ?? 0;
      spent.set(d.device, n + 1);
      return !limited || n < limitPerDevice;
    };
    const decision = gate(d, byKey.get(key), policy, d.end, within, () => `f${++ids}`);
    if (decision.kind === 'over-limit') return put(decision.draft, false);
    byKey.set(decision.kind === 'raised' ? decision.key : key, decision.finding);
    all.set(decision.finding.id, decision.finding);
  };
  for (const d of detections) put(d, true);
  return [...all.values()];
}

describe('the gate', () => {
  it('folds a flood into the device’s rate-limit finding, keeps its severest detection visible, and still raises another device’s', () => {
    const flood = Array.from({ length: 10_000 }, (_, i) => draft({ feature: `f${i % 500}`, start: i, end: i + 1, severity: i === 7_777 ? 'critical' : 'low' }));
    flood.splice(5_000, 0, draft({ device: 'Device/monitor-2', feature: 'SpO2', severity: 'high', start: 5_000, end: 5_001 }));
    const findings = simulate(flood, 5);
    const pump = findings.filter((f) => f.device === 'Device/infusion-pump-7');
    // Five raised (features f0–f4); their repeats merged into them, every other detection folded.
    const own = pump.filter((f) => f.explanation.detector !== RATE_LIMIT_DETECTOR);
    expect(own.map((f) => f.explanation.features[0]!.feature)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    expect(own.every((f) => f.count === 20)).toBe(true);
    const folded = pump.find((f) => f.explanation.detector === RATE_LIMIT_DETECTOR)!;
    expect(folded.count).toBe(10_000 - 100);
    expect(folded.severity).toBe('critical');
    expect(findings.find((f) => f.device === 'Device/monitor-2')).toMatchObject({ severity: 'high', count: 1, status: 'new' });
  });

  it('raises a repeat of a closed finding anew', () => {
    const byKey = new Map<string, Finding>([[dedupKey(draft()), raised(draft(), 'false-positive')]]);
    const d = gate(draft({ start: 2_500, end: 2_600 }), byKey.get(dedupKey(draft())), { dedupWindowMs: 60_000 }, 2_600, () => true, () => 'f2');
    expect(d).toMatchObject({ kind: 'raised', finding: { id: 'f2', status: 'new', count: 1 } });
  });

  const severities: Severity[] = ['low', 'medium', 'high', 'critical'];
  const detection = fc.record({
    device: fc.constantFrom('Device/a', 'Device/b', 'Device/c'),
    feature: fc.constantFrom('orig_bytes', 'resp_pkts', 'SpO2', 'duration'),
    severity: fc.constantFrom(...severities),
    at: fc.integer({ min: 0, max: 600_000 }),
  });
  test.prop([fc.array(detection, { maxLength: 300 }), fc.integer({ min: 0, max: 10 })], runs(200))(
    'accounts for every detection exactly once, and no finding is less severe than what it stands for',
    (ds, limit) => {
      const drafts = [...ds].sort((a, b) => a.at - b.at).map((d) => draft({ device: d.device, feature: d.feature, severity: d.severity, start: d.at, end: d.at + 1 }));
      const findings = simulate(drafts, limit);
      expect(findings.reduce((n, f) => n + f.count, 0)).toBe(drafts.length);
      const worst = (device: string): number => Math.max(-1, ...drafts.filter((d) => d.device === device).map((d) => severities.indexOf(d.severity)));
      for (const device of ['Device/a', 'Device/b', 'Device/c']) {
        expect(Math.max(-1, ...findings.filter((f) => f.device === device).map((f) => severities.indexOf(f.severity)))).toBe(worst(device));
      }
    },
  );
});
