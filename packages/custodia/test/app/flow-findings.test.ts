/**
 * Flow alerts as findings (app/flow-findings.ts) on both databases: an attack row about a
 * flow whose originator's MAC a FHIR Device carries is a finding about that Device; one
 * from an address no Device names is about the unknown talker (and inventoried); one
 * without endpoints (NSL-KDD) is about the file; a normal row raises nothing; and the
 * finding carries the flow's start, the model, score, threshold, class and features.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETHERNET_ADDRESS_SYSTEM, flowFindingDraft, listInventory, withFindings, withFlowAlerts, type ScoredBatch } from '../../src/app/index.js';
import type { DetectionExplanation } from '../../src/detect/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { startListeningVault, type ListeningVault } from '../helpers/listening-vault.js';

const explanation = (score: number, cls: string): DetectionExplanation =>
  ({
    model: 'hybrid',
    score,
    threshold: 0.5,
    label: 1,
    class: cls,
    features: [
      { feature: 'orig_bytes', value: 123456, contribution: 0.41234, source: 'trees' },
      { feature: 'proto', value: 'tcp', contribution: 0.1, source: 'forest' },
    ],
  }) as unknown as DetectionExplanation;

function batch(): ScoredBatch {
  const label = Uint8Array.from([1, 1, 0, 1]);
  const score = Float64Array.from([0.97, 0.62, 0.1, 0.8]);
  return {
    lines: [3, 4, 5, 6],
    endpoints: [{ origMac: '02:00:00:00:04:17', origAddr: '10.0.4.17' }, { origAddr: '10.9.9.9' }, { origAddr: '10.0.4.17' }, {}],
    startTimes: [1_800_000_000_000, undefined, undefined, undefined],
    scores: { rows: 4, score, label, classIndex: Int32Array.from([1, -1, 0, 1]), detectedBy: Uint8Array.from([1, 2, 0, 1]), attackProbability: score, forestScore: new Float64Array(0) },
    classNames: ['DoS', 'unknown', 'normal', 'Probe'],
    explanations: [explanation(0.97, 'DoS'), explanation(0.62, 'unknown'), undefined, explanation(0.8, 'Probe')],
  };
}

it("a Shapley explanation's reference values become the finding's baselines (a category's one-hot column: 1 or 0)", () => {
  const e: DetectionExplanation = {
    model: 'onnx', score: 0.8, threshold: 0.5, label: 1, class: 'unknown',
    features: [
      { feature: 'src_bytes', value: 0, reference: 234, contribution: 0.36216, source: 'shapley' },
      { feature: 'protocol_type', value: 'udp', reference: 'tcp', contribution: 0.1, source: 'shapley' },
      { feature: 'flag', value: 'SF', reference: 'SF', contribution: 0.01, source: 'shapley' },
    ],
  };
  const draft = flowFindingDraft(batch(), 1, e, 'flows:x', 0, 'x');
  expect(draft.summary).toMatch(/unlike the normal traffic the onnx model learnt/);
  expect(draft.explanation).toEqual({
    detector: 'flow-onnx', score: 0.8, threshold: 0.5, label: 'unknown',
    features: [
      { feature: 'src_bytes', value: 0, baseline: 234, contribution: 0.362 },
      { feature: 'protocol_type=udp', value: 1, baseline: 0, contribution: 0.1 },
      { feature: 'flag=SF', value: 1, baseline: 1, contribution: 0.01 },
    ],
  });
});

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`flow findings on ${dialect}`, () => {
    let lv: ListeningVault;
    beforeAll(async () => {
      lv = await startListeningVault(dialect);
      const device = { resourceType: 'Device', id: 'monitor-1', status: 'active', identifier: [{ system: ETHERNET_ADDRESS_SYSTEM, value: '02-00-00-00-04-17' }] };
      expect((await lv.http('PUT', '/fhir/Device/monitor-1', device)).status).toBe(201);
    });
    afterAll(async () => {
      await lv?.close();
    });

    it('raises one finding per attack row, about its Device, its unknown talker or its file', async () => {
      const counts = await withFlowAlerts(lv.config, '/captures/conn.log', async (alerts) => {
        await alerts.raise(batch());
        return { raised: alerts.raised, findings: alerts.findings };
      });
      expect(counts).toEqual({ raised: 3, findings: 3 });
      const found = await withFindings(lv.config, (svc, op) => svc.list(op, { limit: 100 }));
      const byDevice = new Map(found.map((f) => [f.device, f]));
      expect([...byDevice.keys()].sort()).toEqual(['Device/monitor-1', 'flows:conn.log', 'talker:ip:10.9.9.9']);
      expect(byDevice.get('Device/monitor-1')).toMatchObject({
        severity: 'high',
        start: 1_800_000_000_000,
        explanation: { detector: 'flow-hybrid', label: 'DoS', score: 0.97, threshold: 0.5, features: [{ feature: 'orig_bytes', value: 123456, contribution: 0.412 }, { feature: 'proto=tcp', value: 1, contribution: 0.1 }] },
      });
      expect(byDevice.get('Device/monitor-1')!.summary).toMatch(/classified as DoS by the hybrid model \(conn\.log, line 3\)/);
      // A forest-only alert is medium, and says it is unlike the learnt traffic rather than naming a class.
      expect(byDevice.get('talker:ip:10.9.9.9')).toMatchObject({ severity: 'medium', explanation: { label: 'unknown' } });
      expect(byDevice.get('talker:ip:10.9.9.9')!.summary).toMatch(/unlike the normal traffic/);
      expect(byDevice.get('flows:conn.log')).toMatchObject({ severity: 'medium', explanation: { label: 'Probe' } });
      // The unknown talker is in the inventory.
      expect(JSON.stringify(await listInventory(lv.config, { limit: 100 }))).toContain('10.9.9.9');
    });
  });
}
