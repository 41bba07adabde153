/**
 * Message arrival rate per device (detect/arrival-rate.ts): learns before it alerts,
 * alerts once per window on a count far above the device's own baseline, counts silent
 * windows as empty ones, and bounds what it tracks.
 */
import { fc, test as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ArrivalRates, ARRIVALS_FEATURE } from '../../src/detect/index.js';

const W = 10_000;
const T0 = 1_790_000_000_000; // a multiple of W

/** Sends `n` messages of `device` spread over the window starting at `start`; the drafts raised. */
function burst(a: ArrivalRates, device: string, start: number, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const d = a.observe(device, start + Math.floor((i * W) / Math.max(n, 1)));
    if (d !== undefined) out.push(d);
  }
  return out;
}

/** `windows` windows of `perWindow` messages each from T0; the drafts raised. */
function steady(a: ArrivalRates, device: string, windows: number, perWindow: number) {
  const out = [];
  for (let k = 0; k < windows; k++) out.push(...burst(a, device, T0 + k * W, perWindow));
  return out;
}

describe('arrival rate per device', () => {
  it('learns before it alerts: a new device flooding from its first message raises nothing', () => {
    const a = new ArrivalRates();
    expect(burst(a, 'talker:02:00:00:00:00:01', T0, 5000)).toEqual([]);
    expect(steady(a, 'talker:02:00:00:00:00:02', 29, 2).concat(burst(a, 'talker:02:00:00:00:00:02', T0 + 29 * W, 500))).toEqual([]);
  });

  it('alerts once in a window whose count is far above the baseline, and explains it against the median', () => {
    const a = new ArrivalRates();
    expect(steady(a, 'Device/monitor-1', 40, 2)).toEqual([]);
    const start = T0 + 40 * W;
    const drafts = burst(a, 'Device/monitor-1', start, 300);
    expect(drafts).toHaveLength(1);
    const [d] = drafts;
    // 2 a window, MAD 0: the scale is one message; the 20th message makes z = 18 ≥ 5 and 20 ≥ 5 × 2.
    expect(d).toMatchObject({ device: 'Device/monitor-1', severity: 'high', start, explanation: { detector: 'flood', label: 'arrival-rate', threshold: 5, score: 18, features: [{ feature: ARRIVALS_FEATURE, value: 20, baseline: 2, z: 18 }] } });
    expect(d!.end).toBeGreaterThanOrEqual(start);
    expect(d!.end).toBeLessThan(start + W);
    expect(d!.summary).not.toMatch(/\d{2,3}\.\d/); // counts, no readings
    // The flood goes on: the next window alerts again (the finding service merges the repeat).
    expect(burst(a, 'Device/monitor-1', start + W, 300)).toHaveLength(1);
  });

  it('does not alert on a busy device at its usual rate, nor on a rise below five times its median', () => {
    const a = new ArrivalRates();
    for (let k = 0; k < 60; k++) expect(burst(a, 'Device/gateway', T0 + k * W, 100 + (k % 7) * 5)).toEqual([]);
    expect(burst(a, 'Device/gateway', T0 + 60 * W, 450)).toEqual([]);
    expect(burst(a, 'Device/gateway', T0 + 61 * W, 700)).toHaveLength(1);
  });

  it('counts silent windows as empty ones: a device that reports once a minute floods at 20 messages in 10 s', () => {
    const a = new ArrivalRates();
    for (let m = 0; m < 40; m++) expect(a.observe('talker:10.0.4.9', T0 + m * 60_000)).toBeUndefined();
    const start = T0 + 40 * 60_000;
    expect(burst(a, 'talker:10.0.4.9', start, 19)).toEqual([]); // under minMessages
    const drafts = burst(a, 'talker:10.0.4.9', start + W, 25);
    expect(drafts).toHaveLength(1);
    expect(drafts[0]!.explanation.features[0]).toMatchObject({ value: 20, baseline: 0 });
  });

  it('counts a clock that steps back into the open window', () => {
    const a = new ArrivalRates({ minWindows: 3, minMessages: 5 });
    steady(a, 'd', 5, 1);
    const start = T0 + 5 * W;
    for (let i = 0; i < 5; i++) expect(a.observe('d', start + 5000)).toBeUndefined();
    // Back into an earlier window: counted in the open one, whose sixth message is a flood (z = 6 − 1 = 5).
    expect(a.observe('d', start - 3 * W)).toMatchObject({ start, explanation: { features: [{ value: 6 }] } });
  });

  it('refuses devices beyond its bound without evicting one it tracks', () => {
    const a = new ArrivalRates({ maxDevices: 2, minWindows: 3, minMessages: 5 });
    steady(a, 'a', 4, 1);
    steady(a, 'b', 4, 1);
    expect(a.observe('c', T0)).toBeUndefined();
    expect(a.devices).toEqual({ tracked: 2, refused: 1 });
    expect(burst(a, 'a', T0 + 4 * W, 10)).toHaveLength(1);
  });

  it('refuses options that make no sense', () => {
    expect(() => new ArrivalRates({ windowMs: 0 })).toThrow(RangeError);
    expect(() => new ArrivalRates({ minWindows: 400, capacity: 360 })).toThrow(RangeError);
    expect(() => new ArrivalRates({ floodFactor: 0.5 })).toThrow(RangeError);
    expect(() => new ArrivalRates().observe('d', Number.NaN)).toThrow(RangeError);
  });

  prop.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 9_999 })), { maxLength: 400 })], { numRuns: 200 })(
    'never alerts while learning, at most once per device and window, and only at minMessages or more',
    (arrivals) => {
      const opts = { minWindows: 4, minMessages: 6 };
      const a = new ArrivalRates(opts);
      const first = new Map<string, number>();
      const alerted = new Set<string>();
      let clock = T0;
      for (const [dev, windowStep, offset] of arrivals) {
        const device = `d${dev}`;
        clock = Math.max(clock, T0 + Math.floor(windowStep / 3) * W + offset); // time only moves on
        const start = clock - (clock % W);
        if (!first.has(device)) first.set(device, start);
        const d = a.observe(device, clock);
        if (d === undefined) continue;
        // Every window from the device's first to this one's has closed into its baseline (silent ones as empty).
        expect((start - first.get(device)!) / W).toBeGreaterThanOrEqual(opts.minWindows);
        expect(alerted.has(`${device}@${start}`)).toBe(false);
        expect(d.explanation.features[0]!.value).toBeGreaterThanOrEqual(opts.minMessages);
        expect(d.start).toBe(start);
        alerted.add(`${device}@${start}`);
      }
    },
  );
});
