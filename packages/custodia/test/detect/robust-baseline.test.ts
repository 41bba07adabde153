/**
 * Robust baselines: the sorted window's median, MAD and mean absolute deviation against
 * brute force; the modified z-score of Iglewicz & Hoaglin; the MAD-of-zero rules; the
 * learning period; bounded memory by count and by time; robustness to a burst; the
 * per-device set's refusal of new keys when full.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DeviceBaselines, RobustBaseline, SortedWindow } from '../../src/detect/index.js';
import { runs } from '../ledger/seeded.js';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

const values = fc.oneof(fc.constantFrom(0, 1, 2, 2, 5, -3), fc.double({ min: -1e6, max: 1e6, noNaN: true }));

describe('SortedWindow', () => {
  test.prop([fc.array(fc.record({ value: values, removeAt: fc.option(fc.nat(), { freq: 3 }) }), { minLength: 1, maxLength: 120 })], runs(200))(
    'has the median, MAD and mean absolute deviation of its contents after any inserts and removals',
    (ops) => {
      const w = new SortedWindow(200);
      const contents: number[] = [];
      for (const { value, removeAt } of ops) {
        if (removeAt !== null && contents.length > 0) {
          const [gone] = contents.splice(removeAt % contents.length, 1);
          w.remove(gone!);
        } else {
          w.insert(value);
          contents.push(value);
        }
        expect(w.size).toBe(contents.length);
        if (contents.length === 0) continue;
        const m = median(contents);
        expect(w.median()).toBe(m);
        expect(w.mad()).toBe(median(contents.map((x) => Math.abs(x - m))));
        expect(w.meanAbsoluteDeviation()).toBeCloseTo(contents.reduce((s, x) => s + Math.abs(x - m), 0) / contents.length, 6);
      }
    },
  );

  it('refuses to overfill, and to remove what it does not hold', () => {
    const w = new SortedWindow(2);
    w.insert(1);
    w.insert(2);
    expect(() => w.insert(3)).toThrow(RangeError);
    expect(() => w.remove(7)).toThrow(RangeError);
    expect(new SortedWindow(1).median()).toBeNaN();
  });
});

/** A baseline over one feature, fed `xs` one per second. */
function fed(xs: readonly number[], options: Partial<ConstructorParameters<typeof RobustBaseline>[0]> = {}): RobustBaseline {
  const b = new RobustBaseline({ features: ['x'], minSamples: 5, ...options });
  xs.forEach((x, i) => b.learn(i * 1000, [x]));
  return b;
}

describe('RobustBaseline', () => {
  it('scores with the modified z-score 0.6745 · (x − median) / MAD', () => {
    const b = fed([1, 2, 3, 4, 100]); // median 3, MAD 1
    const [d] = b.assess([10]).deviations;
    expect(d).toMatchObject({ feature: 'x', value: 10, median: 3, mad: 1, rule: 'mad' });
    expect(d!.z).toBeCloseTo((0.6745 * (10 - 3)) / 1, 12);
  });

  it('alerts only after its learning period, then names the deviating features, largest first', () => {
    const b = new RobustBaseline({ features: ['bytes', 'packets', 'spo2'], minSamples: 20 });
    const normal = (i: number): number[] => [1000 + (i % 7) * 10, 10 + (i % 3), 97 + (i % 2)];
    for (let i = 0; i < 19; i++) {
      const a = b.observe(i * 1000, i === 10 ? [1e9, 10, 97] : normal(i));
      expect(a.learning).toBe(true);
      expect(a.anomalous).toBe(false);
    }
    b.observe(19_000, normal(19));
    expect(b.observe(20_000, normal(20))).toMatchObject({ learning: false, anomalous: false });
    const attack = b.observe(21_000, [1000, 10, 80]); // a vital sign altered in transit
    expect(attack.anomalous).toBe(true);
    expect(attack.deviations[0]).toMatchObject({ feature: 'spo2', value: 80 });
    expect(attack.deviations[0]!.z).toBeLessThan(-3.5);
  });

  it('falls back to the mean absolute deviation when MAD is 0', () => {
    const b = fed([...new Array<number>(30).fill(0), 1, 1, 1, 1, 1]); // MAD 0, MeanAD 5/35
    const [d] = b.assess([4]).deviations;
    expect(d).toMatchObject({ mad: 0, rule: 'mean-absolute-deviation', median: 0 });
    expect(d!.z).toBeCloseTo(4 / (Math.sqrt(Math.PI / 2) * (5 / 35)), 9);
  });

  it('never lets the scale fall below the feature’s resolution', () => {
    const b = fed(new Array<number>(30).fill(98), { features: ['x'], resolution: { x: 1 } });
    expect(b.assess([97]).deviations[0]).toMatchObject({ rule: 'resolution', scale: 1, z: -1 });
    expect(b.assess([97]).anomalous).toBe(false);
    expect(b.assess([85]).anomalous).toBe(true);
  });

  it('gives a constant window z = 0 for its value and ±maxZ for any other', () => {
    const b = fed(new Array<number>(30).fill(0), { maxZ: 50 });
    expect(b.assess([0]).deviations[0]).toMatchObject({ rule: 'constant', z: 0 });
    expect(b.assess([3]).deviations[0]).toMatchObject({ rule: 'constant', z: 50 });
    expect(b.assess([-1e-9]).deviations[0]!.z).toBe(-50);
  });

  // Values in thousandths: no subnormal that a change of units would flush to zero.
  const milli = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min: min * 1000, max: max * 1000 }).map((v) => v / 1000);
  test.prop([fc.array(milli(-1000, 1000), { minLength: 5, maxLength: 60 }), milli(-1000, 1000), milli(0.01, 100), milli(-1000, 1000)], runs(150))(
    'gives the same z after any change of units (x → a·x + b, a > 0)',
    (xs, x, a, shift) => {
      const z = fed(xs).assess([x]).deviations[0]!;
      const zt = fed(xs.map((v) => a * v + shift)).assess([a * x + shift]).deviations[0]!;
      if (z.rule === 'constant' || Math.abs(z.z) >= 1000) return; // capped or degenerate: not a ratio to compare
      expect(zt.z).toBeCloseTo(z.z, 4);
    },
  );

  test.prop([fc.array(values, { maxLength: 200 }), fc.integer({ min: 5, max: 40 })], runs(100))('keeps at most `capacity` samples: it equals a baseline fed only the last ones', (xs, capacity) => {
    const b = fed(xs, { capacity });
    const last = fed(xs.slice(-capacity), { capacity });
    expect(b.samples).toBe(Math.min(xs.length, capacity));
    expect(b.assess([1.5])).toEqual(last.assess([1.5]));
  });

  test.prop([fc.array(fc.tuple(fc.oneof({ arbitrary: fc.integer({ min: 0, max: 2_000 }), weight: 9 }, { arbitrary: fc.integer({ min: 0, max: 45_000 }), weight: 1 }), values), { maxLength: 300 }), fc.integer({ min: 5, max: 100 })], runs(100))(
    'grows its memory as samples come, never past capacity, and keeps exactly the samples a brute force keeps (by count and by time)',
    (steps, capacity) => {
      const windowMs = 60_000;
      const b = new RobustBaseline({ features: ['x'], minSamples: 5, capacity, windowMs });
      const kept: [number, number][] = [];
      let t = 0;
      let latest = -Infinity;
      for (const [dt, x] of steps) {
        t += dt;
        b.learn(t, [x]);
        latest = Math.max(latest, t);
        while (kept.length > 0 && kept[0]![0] < latest - windowMs) kept.shift();
        if (kept.length === capacity) kept.shift();
        kept.push([t, x]);
        expect(b.samples).toBe(kept.length);
        expect(b.allocated).toBeLessThanOrEqual(capacity);
        expect(b.allocated).toBeGreaterThanOrEqual(kept.length);
      }
      const fresh = new RobustBaseline({ features: ['x'], minSamples: 5, capacity, windowMs });
      for (const [tk, x] of kept) fresh.learn(tk, [x]);
      expect(b.assess([1.5])).toEqual(fresh.assess([1.5]));
    },
  );

  it('grows correctly after samples have left by time (the ring wrapped): the same as a baseline fed only what is left', () => {
    const b = new RobustBaseline({ features: ['x'], minSamples: 5, capacity: 64, windowMs: 10_000 });
    for (let i = 0; i < 10; i++) b.learn(i * 1000, [i]); // 0–9 s
    for (let i = 0; i < 10; i++) b.learn(15_000, [100 + i]); // samples before 5 s leave, and the ring wraps
    expect(b.samples).toBe(15);
    expect(b.allocated).toBe(16);
    for (let i = 0; i < 10; i++) b.learn(20_000, [200 + i]); // grows while wrapped
    expect(b.allocated).toBe(32);
    expect(b.samples).toBe(20); // the 0–9 s samples have left (before 10 s)
    b.advance(25_500); // everything before 15.5 s leaves: the oldest slots must be the right ones
    const fresh = new RobustBaseline({ features: ['x'], minSamples: 5, capacity: 64, windowMs: 10_000 });
    for (let i = 0; i < 10; i++) fresh.learn(20_000, [200 + i]);
    expect(b.samples).toBe(10);
    for (const x of [0, 105, 204, 1e6]) expect(b.assess([x])).toEqual(fresh.assess([x]));
  });

  it('takes memory as samples come: a device that sent one message holds 16 slots, not its capacity', () => {
    const one = fed([7], { capacity: 256 });
    expect(one.allocated).toBe(16);
    const full = fed(Array.from({ length: 1000 }, (_, i) => i % 13), { capacity: 256 });
    expect(full.allocated).toBe(256);
    expect(full.samples).toBe(256);
    const w = new SortedWindow(100);
    expect(w.allocated).toBe(16);
    for (let i = 0; i < 17; i++) w.insert(i);
    expect(w.allocated).toBe(32);
  });

  it('forgets samples older than windowMs, and learns again after a silence', () => {
    const b = fed(new Array<number>(30).fill(5), { windowMs: 60_000, minSamples: 10 });
    expect(b.samples).toBe(30);
    b.advance(29_000 + 45_000); // the window is now [14 s, 74 s]: samples at 0–13 s leave
    expect(b.samples).toBe(16);
    const after = b.observe(29_000 + 3_600_000, [5]);
    expect(after).toMatchObject({ learning: true, samples: 0, anomalous: false });
    expect(b.samples).toBe(1);
  });

  it('does not learn a record older than the window (far out of order)', () => {
    const b = fed([1, 2, 3], { windowMs: 10_000 });
    b.learn(100_000, [4]);
    b.learn(50_000, [1e9]);
    expect(b.samples).toBe(1);
  });

  it('keeps flagging a burst shorter than half the window: median and MAD do not follow it', () => {
    const b = new RobustBaseline({ features: ['rate'], capacity: 100, minSamples: 30 });
    let t = 0;
    for (let i = 0; i < 100; i++) b.observe((t += 1000), [10 + ((i * 7) % 5)]);
    for (let i = 0; i < 45; i++) expect(b.observe((t += 1000), [500]).anomalous, `burst sample ${i}`).toBe(true);
  });

  it('refuses rows of the wrong length or with non-finite values, and bad options', () => {
    const b = fed([1, 2, 3]);
    expect(() => b.assess([1, 2])).toThrow(RangeError);
    expect(() => b.observe(0, [Number.NaN])).toThrow(RangeError);
    expect(() => b.observe(Number.POSITIVE_INFINITY, [1])).toThrow(RangeError);
    expect(() => new RobustBaseline({ features: [] })).toThrow(RangeError);
    expect(() => new RobustBaseline({ features: ['a', 'a'] })).toThrow(RangeError);
    expect(() => new RobustBaseline({ features: ['a'], capacity: 10, minSamples: 11 })).toThrow(RangeError);
    expect(() => new RobustBaseline({ features: ['a'], resolution: { b: 1 } })).toThrow(RangeError);
    expect(() => new RobustBaseline({ features: ['a'], windowMs: 0 })).toThrow(RangeError);
  });
});

describe('DeviceBaselines', () => {
  it('keeps one baseline per key, and refuses (and counts) new keys when full instead of evicting', () => {
    const set = new DeviceBaselines({ features: ['x'], minSamples: 3, maxDevices: 2 });
    for (let i = 0; i < 5; i++) {
      set.observe('pump-1', i, [1]);
      set.observe('monitor-7', i, [100]);
    }
    expect(set.size).toBe(2);
    expect(set.observe('spoofed-1', 6, [1])).toEqual({ refused: true });
    expect(set.observe('spoofed-2', 6, [1])).toEqual({ refused: true });
    expect(set.refused).toBe(2);
    expect(set.get('pump-1')!.samples).toBe(5);
    expect(set.observe('pump-1', 7, [100])).toMatchObject({ refused: false, anomalous: true });
    expect(set.observe('monitor-7', 7, [100])).toMatchObject({ refused: false, anomalous: false });
    expect(set.forget('monitor-7')).toBe(true);
    expect(set.observe('new-device', 8, [1])).toMatchObject({ refused: false, learning: true });
  });
});
