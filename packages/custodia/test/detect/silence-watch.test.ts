/**
 * Devices that fall silent (detect/silence-watch.ts), on a clock the test drives: a device
 * silent for the allowed time is handed back once for that silence, again only after it
 * was heard again; a late or out-of-order sighting never moves its last-heard time back;
 * the set is bounded; and a forgotten device is no longer watched.
 */
import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SILENCE_FEATURE, SilenceWatch } from '../../src/detect/index.js';

const T0 = 1_764_000_000_000;

describe('silence watch', () => {
  it('raises a device once per silence, explained, and again only after it was heard again', () => {
    const w = new SilenceWatch({ silenceMs: 60_000 });
    w.heard('Device/pump-1', T0);
    w.heard('Device/monitor-1', T0 + 30_000);
    expect(w.silent(T0 + 59_999)).toEqual([]);
    const [draft, ...rest] = w.silent(T0 + 60_000);
    expect(rest).toEqual([]);
    expect(draft).toEqual({
      device: 'Device/pump-1',
      severity: 'medium',
      start: T0,
      end: T0 + 60_000,
      summary: 'No telemetry for 60 s (expected within 60 s): unplugged, failed, or its traffic blocked',
      explanation: { detector: 'silence', score: 60, threshold: 60, features: [{ feature: SILENCE_FEATURE, value: 60 }] },
    });
    expect(w.silent(T0 + 80_000)).toEqual([]); // the same silence: not again
    expect(w.silent(T0 + 90_000).map((d) => d.device)).toEqual(['Device/monitor-1']);
    expect(w.devices).toEqual({ watched: 2, silent: 2, refused: 0 });
    w.heard('Device/pump-1', T0 + 100_000);
    expect(w.devices.silent).toBe(1);
    expect(w.silent(T0 + 159_999)).toEqual([]);
    expect(w.silent(T0 + 160_000).map((d) => [d.device, d.start])).toEqual([['Device/pump-1', T0 + 100_000]]);
  });

  it('never moves a device’s last sighting back, is bounded, and forgets', () => {
    const w = new SilenceWatch({ silenceMs: 1_000, maxDevices: 2 });
    w.heard('Device/a', T0 + 5_000);
    w.heard('Device/a', T0); // out of order: still last heard at +5 s
    expect(w.silent(T0 + 5_999)).toEqual([]);
    w.heard('Device/b', T0);
    w.heard('Device/c', T0);
    expect(w.devices).toEqual({ watched: 2, silent: 0, refused: 1 });
    w.forget('Device/b');
    expect(w.silent(T0 + 10_000).map((d) => d.device)).toEqual(['Device/a']);
    expect(() => new SilenceWatch({ silenceMs: 0 })).toThrow(RangeError);
  });

  it('raises each silent device exactly once, whatever the order of sightings and looks (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 100 }), fc.boolean()), { maxLength: 60 }), (steps) => {
        const w = new SilenceWatch({ silenceMs: 10 });
        const last = new Map<string, number>();
        const raisedSince = new Set<string>();
        let now = 0;
        for (const [device, dt, look] of steps) {
          now += dt;
          if (look) {
            for (const d of w.silent(now)) {
              // Raised only when silent long enough, and only once since last heard.
              expect(now - last.get(d.device)!).toBeGreaterThanOrEqual(10);
              expect(raisedSince.has(d.device)).toBe(false);
              raisedSince.add(d.device);
            }
          } else {
            w.heard(device, now);
            last.set(device, now);
            raisedSince.delete(device);
          }
        }
        // Nothing silent long enough is left unraised.
        for (const d of w.silent(now)) raisedSince.add(d.device);
        for (const [d, t] of last) if (now - t >= 10) expect(raisedSince.has(d)).toBe(true);
      }),
    );
  });
});
