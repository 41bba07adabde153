/**
 * Kept baselines (detect/baseline-snapshot.ts, RobustBaseline.state / restore,
 * TelemetryScorer.snapshot / restore): a baseline restored from its bytes assesses and
 * learns exactly as the one it was taken from, whatever came before (out-of-order times,
 * a full window, samples aged out); a device restored into a fresh scorer alerts at once
 * instead of learning again; and bytes that are not a snapshot of this version are
 * refused with a RangeError, never a crash, with the device left to learn afresh.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decodeBaselines, encodeBaselines, RobustBaseline, SortedWindow, TelemetryScorer, type TelemetryRecord } from '../../src/detect/index.js';
import { parseTelemetryMessage } from '../../src/ingest/index.js';
import { runs } from '../ledger/seeded.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';

const FEATURES = ['a', 'b', 'c'];
const options = { features: FEATURES, capacity: 24, windowMs: 5_000, minSamples: 5 };
const value = fc.oneof(fc.constantFrom(0, -0, 1, 2, 2, 7), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
const step = fc.record({ dt: fc.integer({ min: -3_000, max: 4_000 }), row: fc.array(value, { minLength: 3, maxLength: 3 }) });

function feed(b: RobustBaseline, steps: readonly { dt: number; row: number[] }[], t0: number): number {
  let t = t0;
  for (const s of steps) {
    t += s.dt;
    b.observe(t, s.row);
  }
  return t;
}

describe('baseline state', () => {
  test.prop([fc.array(step, { maxLength: 80 }), fc.array(step, { minLength: 1, maxLength: 40 })], runs(200))(
    'a baseline restored from its snapshot assesses and learns as the original does',
    (before, after) => {
      const original = new RobustBaseline(options);
      const t = feed(original, before, 1_000_000);
      const [part] = decodeBaselines(encodeBaselines([{ name: 'x', features: FEATURES, state: original.state() }]), options.capacity);
      const restored = new RobustBaseline(options);
      restored.restore(part!.state);
      expect(restored.samples).toBe(original.samples);
      let now = t;
      for (const s of after) {
        now += s.dt;
        expect(restored.observe(now, s.row)).toEqual(original.observe(now, s.row));
      }
      expect(restored.state()).toEqual(original.state());
    },
  );

  it('refuses a state that does not fit: too many samples, values not finite, times after the newest, or a baseline already in use', () => {
    const b = () => new RobustBaseline(options);
    const state = (n: number, latest = 10, v = 1) => ({ latest, times: new Float64Array(n).fill(5), rows: new Float64Array(n * 3).fill(v) });
    expect(() => b().restore(state(25))).toThrow(/at most 24 samples/);
    expect(() => b().restore({ ...state(2), rows: new Float64Array(5) })).toThrow(/at most 24 samples of 3/);
    expect(() => b().restore(state(2, 10, Number.NaN))).toThrow(/finite/);
    expect(() => b().restore(state(2, 4))).toThrow(/not after the newest/);
    expect(() => b().restore(state(2, Number.POSITIVE_INFINITY))).toThrow(/finite/);
    const used = b();
    used.learn(1, [1, 2, 3]);
    expect(() => used.restore(state(1))).toThrow(/only an empty baseline/);
    const ok = b();
    ok.restore(state(24));
    expect(ok.samples).toBe(24);
    expect(ok.allocated).toBe(24);
  });
});

describe('a sorted window filled at once', () => {
  test.prop([fc.array(value, { maxLength: 40 })], runs(200))('holds what inserting one by one would', (values) => {
    const filled = new SortedWindow(40);
    filled.fill(Float64Array.from(values, (v) => (v === 0 ? 0 : v)));
    const inserted = new SortedWindow(40);
    for (const v of values) inserted.insert(v === 0 ? 0 : v);
    expect([filled.size, filled.median(), filled.mad(), filled.meanAbsoluteDeviation()]).toEqual([inserted.size, inserted.median(), inserted.mad(), inserted.meanAbsoluteDeviation()]);
    if (values.length > 0) {
      filled.remove(values[0] === 0 ? 0 : values[0]!); // it stays a working window
      expect(filled.size).toBe(values.length - 1);
    }
  });

  it('is only for an empty window, within its capacity', () => {
    const w = new SortedWindow(2);
    expect(() => w.fill(Float64Array.of(1, 2, 3))).toThrow(/more values/);
    w.insert(1);
    expect(() => w.fill(Float64Array.of(1))).toThrow(/only an empty window/);
  });
});

describe('baseline snapshot bytes', () => {
  const one = encodeBaselines([{ name: 'vitals', features: FEATURES, state: { latest: 9, times: Float64Array.of(8, 9), rows: Float64Array.of(1, 2, 3, 4, 5, 6) } }]);

  it('has a length fixed by the sample counts, not the values', () => {
    const other = encodeBaselines([{ name: 'vitals', features: FEATURES, state: { latest: 1e300, times: Float64Array.of(-5, 1e300), rows: Float64Array.of(0, 0, 0, 1e-300, 7, 0) } }]);
    expect(other.length).toBe(one.length);
  });

  it('refuses what is not a whole snapshot of this version, naming the fault', () => {
    const bad = (bytes: Uint8Array, pattern: RegExp) => expect(() => decodeBaselines(bytes, 24)).toThrow(pattern);
    bad(new Uint8Array(0), /ends inside its header/);
    bad(Buffer.from('CDB2\u0001'), /another version/);
    bad(Buffer.concat([one.subarray(0, 4), Buffer.of(0), one.subarray(5)]), /1 to 8 baselines/);
    bad(one.subarray(0, one.length - 1), /ends inside its samples/);
    bad(one.subarray(0, 9), /ends inside its name/);
    bad(Buffer.concat([one, Buffer.of(0)]), /bytes after/);
    expect(() => decodeBaselines(one, 1)).toThrow(/2 samples, more than the 1 kept/);
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 255 })], runs(300))('never crashes on hostile bytes: a snapshot, or a RangeError', (noise, at, byte) => {
    const mutated = Buffer.from(one);
    mutated[at % mutated.length] = byte;
    for (const bytes of [noise, mutated, Buffer.concat([one.subarray(0, 5), noise])]) {
      try {
        decodeBaselines(bytes, 24);
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
      }
    }
  });
});

describe('a device kept between scorers', () => {
  const monitor = { mac: '02:00:00:00:00:aa', addr: '10.0.4.17' };
  const T0 = 1_764_000_000_000;
  let seq = 0;
  const record = (o: Record<string, unknown>, i: number): TelemetryRecord =>
    parseTelemetryMessage(encode({ ...o, ts: T0 + i * 1000 }), { position: { topic: 't', sequence: ++seq }, fallbackId: `f-${seq}`, receivedMs: 0 });

  it('alerts on its first altered record in a scorer that restored it, where a fresh one is still learning', () => {
    const first = new TelemetryScorer({ minSamples: 30 });
    const rand = jitter(21);
    for (let i = 0; i < 60; i++) first.score('Device/m1', record(normalMessage(monitor, rand), i));
    const kept = first.snapshot('Device/m1')!;
    expect(first.snapshot('Device/other')).toBeUndefined();

    const altered = record(normalMessage(monitor, rand, { SpO2: 84, Pulse_Rate: 128, Heart_rate: 128 }), 60);
    const fresh = new TelemetryScorer({ minSamples: 30 });
    expect(fresh.score('Device/m1', altered)).toEqual([]);

    const next = new TelemetryScorer({ minSamples: 30 });
    expect(next.restore('Device/m1', kept)).toBe(true);
    expect(next.has('Device/m1')).toBe(true);
    const [draft] = next.score('Device/m1', altered);
    expect(draft).toMatchObject({ device: 'Device/m1', severity: 'high', explanation: { detector: 'vital-signs', label: 'deviation' } });
    expect(draft).toEqual(first.score('Device/m1', altered)[0]);
    expect(() => next.restore('Device/m1', kept)).toThrow(/already has baselines/);
  });

  it('refuses another version’s features, and restores nothing into a full set', () => {
    const s = new TelemetryScorer({ maxDevices: 1 });
    const foreign = encodeBaselines([
      { name: 'vitals', features: ['Temp'], state: { latest: 1, times: Float64Array.of(1), rows: Float64Array.of(36.6) } },
      { name: 'network', features: ['Rate'], state: { latest: 1, times: Float64Array.of(1), rows: Float64Array.of(3) } },
    ]);
    expect(() => s.restore('Device/a', foreign)).toThrow(/other features than this version/);
    expect(s.has('Device/a')).toBe(false);
    const source = new TelemetryScorer();
    source.score('Device/a', record(normalMessage(monitor, jitter(3)), 0));
    const kept = source.snapshot('Device/a')!;
    // A state that fails its checks after the vitals were restored leaves no half device.
    const broken = Buffer.from(kept);
    broken.writeDoubleLE(Number.NaN, broken.length - 8);
    expect(() => s.restore('Device/a', broken)).toThrow(/finite/);
    expect(s.has('Device/a')).toBe(false);
    expect(s.devices.baselines).toBe(0);
    expect(s.restore('Device/a', kept)).toBe(true);
    expect(s.full).toBe(true);
    expect(s.restore('Device/b', kept)).toBe(false);
    expect(s.has('Device/b')).toBe(false);
  });
});
