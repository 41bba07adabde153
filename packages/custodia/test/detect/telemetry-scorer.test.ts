/**
 * The telemetry scorer (detect/telemetry-scorer.ts): devices learn before their baselines
 * alert; a man-in-the-middle's alteration of vital signs (implausible, inconsistent, or far
 * from the device's own baseline) and a flood each raise an explained draft; normal
 * telemetry raises nothing.
 */
import { describe, expect, it } from 'vitest';
import { checkVitalSigns, decodeBaselines, encodeBaselines, InProcessBus, TelemetryScorer, type TelemetryRecord } from '../../src/detect/index.js';
import { parseTelemetryMessage } from '../../src/ingest/index.js';
import { ManualClock, systemClock } from '../../src/kernel/index.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';

const monitor = { mac: '02:00:00:00:00:aa', addr: '10.0.4.17' };
const T0 = 1_764_000_000_000;
let seq = 0;
const record = (o: Record<string, unknown>, i: number): TelemetryRecord =>
  parseTelemetryMessage(encode({ ...o, ts: T0 + i * 1000 }), { position: { topic: 't', sequence: ++seq }, fallbackId: `f-${seq}`, receivedMs: 0 });

describe('telemetry scorer', () => {
  it('raises nothing on normal telemetry, and nothing from its baselines while learning', () => {
    const s = new TelemetryScorer({ minSamples: 30 });
    const rand = jitter(11);
    for (let i = 0; i < 300; i++) expect(s.score('Device/m1', record(normalMessage(monitor, rand), i)), `record ${i}`).toEqual([]);
    // A flood during the learning period of a new device: no baseline yet, no alert.
    const fresh = new TelemetryScorer({ minSamples: 30 });
    for (let i = 0; i < 29; i++) fresh.score('Device/m2', record(normalMessage(monitor, rand), i));
    expect(fresh.score('Device/m2', record(normalMessage(monitor, rand, { Rate: 9000, TotPkts: 50_000 }), 29))).toEqual([]);
  });

  it('explains a vital-sign alteration against the device baseline, and a flood', () => {
    const s = new TelemetryScorer({ minSamples: 30 });
    const rand = jitter(12);
    for (let i = 0; i < 60; i++) s.score('Device/m1', record(normalMessage(monitor, rand), i));
    // Plausible on their own, and consistent (pulse = heart rate), but not this patient's.
    const [altered, ...rest] = s.score('Device/m1', record(normalMessage(monitor, rand, { SpO2: 84, Pulse_Rate: 128, Heart_rate: 128 }), 60));
    expect(rest).toEqual([]);
    expect(altered).toMatchObject({ device: 'Device/m1', severity: 'high', explanation: { detector: 'vital-signs', label: 'deviation', threshold: 5 } });
    const top = altered!.explanation.features.map((f) => f.feature);
    expect(top.slice(0, 3).sort()).toEqual(['Heart_rate', 'Pulse_Rate', 'SpO2']);
    const spo2 = altered!.explanation.features.find((f) => f.feature === 'SpO2')!;
    expect(spo2).toMatchObject({ value: 84, baseline: 97 });
    expect(spo2.z!).toBeLessThan(-5);

    const [flood] = s.score('Device/m1', record(normalMessage(monitor, rand, { Rate: 4000, TotPkts: 9000, TotBytes: 1_200_000, Load: 4_000_000 }), 61));
    expect(flood).toMatchObject({ severity: 'high', explanation: { detector: 'flood', threshold: 5 } });
    expect(flood!.explanation.features.map((f) => f.feature)).toEqual(expect.arrayContaining(['Rate', 'TotPkts']));
    const rate = flood!.explanation.features.find((f) => f.feature === 'Rate')!;
    expect(rate.value).toBe(4000);
    expect(rate.baseline!).toBeLessThan(14);
  });

  it('holds a new device of a known class to its class’s pooled baseline from its first message', () => {
    const PUMP = 'http://snomed.info/sct|69805005'; // insulin pump
    const s = new TelemetryScorer({ minSamples: 30 });
    const rand = jitter(21);
    // Two settled pumps: their first 30 records learn their own baselines, the next 20 each teach the class.
    for (let i = 0; i < 50; i++) for (const d of ['Device/p1', 'Device/p2']) expect(s.score(d, record(normalMessage(monitor, rand), i), { deviceClass: PUMP })).toEqual([]);
    expect(s.devices).toEqual({ baselines: 2, refused: 0, classes: 1, reassigned: 0 });
    // A new pump, normal: nothing. The same pump flooding on its second message: a flood, against the class.
    expect(s.score('Device/p3', record(normalMessage(monitor, rand), 50), { deviceClass: PUMP })).toEqual([]);
    const [flood, ...rest] = s.score('Device/p3', record(normalMessage(monitor, rand, { Rate: 4000, TotPkts: 9000, TotBytes: 1_200_000, Load: 4_000_000 }), 51), { deviceClass: PUMP });
    expect(rest).toEqual([]);
    expect(flood).toMatchObject({ device: 'Device/p3', severity: 'high', explanation: { detector: 'flood', label: 'class', threshold: 5 } });
    expect(flood!.summary).toMatch(/^Traffic far above the baseline of its device class \(it is still learning its own\)/);
    expect(flood!.explanation.features.find((f) => f.feature === 'Rate')).toMatchObject({ value: 4000 });
    expect(flood!.explanation.features.find((f) => f.feature === 'Rate')!.baseline!).toBeLessThan(14);
    // Without a class, or of a class no settled device has taught, the same flood is the learning period's.
    const flooding = normalMessage(monitor, rand, { Rate: 4000, TotPkts: 9000, TotBytes: 1_200_000, Load: 4_000_000 });
    expect(s.score('Device/p4', record(flooding, 52))).toEqual([]);
    expect(s.score('Device/p5', record(flooding, 52), { deviceClass: 'http://snomed.info/sct|numbers-unheard-of' })).toEqual([]);
    expect(s.devices.classes).toBe(1);
  });

  it('lets only settled devices’ normal records teach a class', () => {
    const PUMP = 'http://snomed.info/sct|69805005';
    const rand = jitter(22);
    const flood = { Rate: 4000, TotPkts: 9000, TotBytes: 1_200_000, Load: 4_000_000 };
    // Learning devices teach nothing: 40 new pumps that flood from birth leave the class without a baseline.
    const s = new TelemetryScorer({ minSamples: 30 });
    for (let i = 0; i < 29; i++) for (let d = 0; d < 40; d++) s.score(`Device/new-${d}`, record(normalMessage(monitor, rand, flood), i), { deviceClass: PUMP });
    expect(s.devices.classes).toBe(0);
    // A settled pump that floods raises against its own baseline and does not teach the class its flood.
    for (let i = 0; i < 60; i++) s.score('Device/p1', record(normalMessage(monitor, rand), i), { deviceClass: PUMP });
    for (let i = 60; i < 100; i++) expect(s.score('Device/p1', record(normalMessage(monitor, rand, flood), i), { deviceClass: PUMP }).map((d) => [d.explanation.detector, d.explanation.label]), `record ${i}`).toContainEqual(['flood', undefined]);
    // The class learned 30 of p1's normal records and none of its floods: a new pump's flood still stands out.
    const [classFlood] = s.score('Device/p9', record(normalMessage(monitor, rand, flood), 100), { deviceClass: PUMP });
    expect(classFlood).toMatchObject({ explanation: { detector: 'flood', label: 'class' } });
  });

  it('starts a device’s vital-sign baseline afresh when it is given to another patient, and keeps its network baseline', () => {
    const rand = jitter(23);
    const A = { patient: 'Patient/a' };
    const B = { patient: 'Patient/b' };
    const tachycardic = { Pulse_Rate: 121, Heart_rate: 120, SYS: 150, DIA: 95 }; // patient b's normal
    const s = new TelemetryScorer({ minSamples: 30 });
    for (let i = 0; i < 60; i++) s.score('Device/m1', record(normalMessage(monitor, rand), i), A);
    // The same readings on the same patient would be an alteration…
    const control = new TelemetryScorer({ minSamples: 30 });
    for (let i = 0; i < 60; i++) control.score('Device/m1', record(normalMessage(monitor, jitter(23)), i), A);
    expect(control.score('Device/m1', record(normalMessage(monitor, rand, tachycardic), 60), A).map((d) => d.explanation.label)).toContain('deviation');
    // …on the next patient they are that patient's first readings: learning, not an alarm.
    for (let i = 60; i < 89; i++) expect(s.score('Device/m1', record(normalMessage(monitor, rand, tachycardic), i), B), `record ${i}`).toEqual([]);
    expect(s.devices).toMatchObject({ baselines: 1, reassigned: 1 });
    expect(s.devicesOf('Patient/b')).toEqual(['Device/m1']);
    expect(s.devicesOf('Patient/a')).toEqual([]);
    // The network baseline is the device's: a flood right after the move still alerts.
    const [flood] = s.score('Device/m1', record(normalMessage(monitor, rand, { ...tachycardic, Rate: 4000, TotPkts: 9000, TotBytes: 1_200_000, Load: 4_000_000 }), 89), B);
    expect(flood).toMatchObject({ explanation: { detector: 'flood' } });
    expect(flood!.explanation.label).toBeUndefined();
    expect(flood!.patient).toBeUndefined(); // network counters are the device's, not the patient's
    // Once settled on patient b, b's own deviation alerts.
    for (let i = 90; i < 100; i++) s.score('Device/m1', record(normalMessage(monitor, rand, tachycardic), i), B);
    expect(s.score('Device/m1', record(normalMessage(monitor, rand, { ...tachycardic, SpO2: 84 }), 100), B).map((d) => [d.explanation.label, d.patient])).toEqual([['deviation', 'Patient/b']]);
    // Taken off every patient: afresh again.
    s.score('Device/m1', record(normalMessage(monitor, rand), 101));
    expect(s.devices.reassigned).toBe(2);
    expect(s.devicesOf('Patient/b')).toEqual([]);
  });

  it('keeps whose vital signs a snapshot holds, and drops them at the next record when the device has another patient', () => {
    const rand = jitter(24);
    const s = new TelemetryScorer({ minSamples: 30 });
    for (let i = 0; i < 40; i++) s.score('Device/m1', record(normalMessage(monitor, rand), i), { patient: 'Patient/a' });
    for (let i = 0; i < 40; i++) s.score('Device/m2', record(normalMessage(monitor, rand), i));
    const owned = s.snapshot('Device/m1')!;
    const unowned = s.snapshot('Device/m2')!;
    expect(decodeBaselines(owned, 256).map((p) => p.name)).toEqual(['vitals of Patient/a', 'network']);
    expect(decodeBaselines(unowned, 256).map((p) => p.name)).toEqual(['vitals', 'network']);
    // Restored while still on patient a: its deviations alert at once.
    const same = new TelemetryScorer({ minSamples: 30 });
    expect(same.restore('Device/m1', owned)).toBe(true);
    expect(same.devicesOf('Patient/a')).toEqual(['Device/m1']);
    expect(same.score('Device/m1', record(normalMessage(monitor, rand, { SpO2: 84 }), 40), { patient: 'Patient/a' }).map((d) => d.explanation.label)).toEqual(['deviation']);
    // Restored after the device moved to patient c: a's readings are dropped, c's learned.
    const moved = new TelemetryScorer({ minSamples: 30 });
    moved.restore('Device/m1', owned);
    expect(moved.score('Device/m1', record(normalMessage(monitor, rand, { SpO2: 84 }), 40), { patient: 'Patient/c' })).toEqual([]);
    expect(moved.devices.reassigned).toBe(1);
    // The name is snapshot content: anything but the two forms is refused.
    const parts = decodeBaselines(owned, 256);
    for (const name of ['vitals of Patient/a b', 'vitals of Observation/x', 'vitals of Patient/', 'vitalsof Patient/a']) {
      const forged = encodeBaselines([{ ...parts[0]!, name }, parts[1]!]);
      expect(() => new TelemetryScorer().restore('Device/m1', forged), name).toThrow(RangeError);
    }
  });

  it('raises implausible and inconsistent vital signs from the first message', () => {
    const s = new TelemetryScorer();
    const drafts = s.score('talker:mac:02:00:00:00:00:bb', record(normalMessage(monitor, jitter(13), { SpO2: 140, Pulse_Rate: 150, Heart_rate: 75 }), 0));
    expect(drafts.map((d) => [d.severity, d.explanation.label, d.explanation.features.map((f) => f.feature)])).toEqual([
      ['critical', 'implausible', ['SpO2']],
      ['high', 'inconsistent', ['Pulse_Rate', 'Heart_rate']],
    ]);
    expect(checkVitalSigns({ Temp: 36.6, SpO2: 97, Pulse_Rate: 80, SYS: 70, DIA: 90, Heart_rate: 80, Resp_Rate: 14, ST: 0 }).map((i) => i.features.map((f) => f.feature))).toEqual([['SYS', 'DIA']]);
    // A pulse deficit within max(20, 25 %) is not a contradiction.
    expect(checkVitalSigns({ Temp: 36.6, SpO2: 97, Pulse_Rate: 110, SYS: 120, DIA: 80, Heart_rate: 140, Resp_Rate: 14, ST: 0 })).toEqual([]);
  });
});

describe('in-process bus', () => {
  it('shares records between consumers, each once, and redelivers what a failing handler gave back', async () => {
    const bus = new InProcessBus({ clock: systemClock });
    const rand = jitter(14);
    const all = Array.from({ length: 200 }, (_, i) => record(normalMessage(monitor, rand, { FlowId: `b-${i}` }), i));
    const seen: string[][] = [[], []];
    let failures = 0;
    const a = await bus.consume(async (r) => {
      if (r.id.endsWith('3') && failures < 10) {
        failures += 1;
        throw new Error('try elsewhere');
      }
      seen[0]!.push(r.id);
      await new Promise((res) => setImmediate(res));
    });
    const b = await bus.consume(async (r) => {
      seen[1]!.push(r.id);
      await new Promise((res) => setImmediate(res));
    });
    for (const r of all) await bus.publish(r);
    expect(await bus.publish(all[0]!)).toBe('duplicate'); // a duplicate still queued or in flight is dropped, and says so
    while (seen[0]!.length + seen[1]!.length < 200) await new Promise((res) => setTimeout(res, 5));
    await a.stop();
    await b.stop();
    const union = [...seen[0]!, ...seen[1]!];
    expect(union.length).toBeGreaterThanOrEqual(200);
    expect(new Set(union)).toEqual(new Set(all.map((r) => r.id)));
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[1]!.length).toBeGreaterThan(0);
    await bus.close();
  });

  it('drops a flow id published again within its duplicate window, handled or not, and says so; remembers a bounded number of ids', async () => {
    const clock = new ManualClock(1_790_000_000_000);
    const bus = new InProcessBus({ clock, duplicateWindowMs: 120_000, maxRememberedIds: 3 });
    const handled: string[] = [];
    const c = await bus.consume(async (r) => void handled.push(r.id));
    const flow = (id: string): TelemetryRecord => record(normalMessage(monitor, jitter(1), { FlowId: id }), 0);
    expect(await bus.publish(flow('x'))).toBe('held');
    while (handled.length < 1) await new Promise((res) => setImmediate(res));
    clock.advance(60_000);
    expect(await bus.publish(flow('x'))).toBe('duplicate'); // handled a minute ago: still within the window
    clock.advance(60_001);
    expect(await bus.publish(flow('x'))).toBe('held'); // the window has passed
    for (const id of ['a', 'b', 'c']) expect(await bus.publish(flow(id))).toBe('held');
    expect(await bus.publish(flow('x'))).toBe('held'); // forgotten: only the three newest ids are remembered
    expect(await bus.publish(flow('c'))).toBe('duplicate');
    while (handled.length < 6) await new Promise((res) => setImmediate(res));
    expect(handled).toEqual(['x', 'x', 'a', 'b', 'c', 'x']);
    await c.stop();
    await bus.close();
  });
});
