/**
 * How fast a device's messages arrive (issue 6 §2, §4: a flood), against the device's own
 * robust baseline of that rate (robust-baseline.ts).
 *
 * The flood check of telemetry-scorer.ts reads the rates a message *reports* (packets,
 * bytes, load). A device, or anyone publishing as it, that floods the broker with
 * ordinary-looking messages reports nothing unusual: only their arrival gives it away.
 * That is the shape of MQTT DDoS against healthcare IoT (Akhi, Eising, Dhirani, IEEE
 * Access 2025, whose UL-ECE dataset labels it by each node's share of the messages).
 * Arrivals are counted where messages arrive, on the vault's clock: a message's own
 * timestamp is the sender's to forge.
 *
 * Per device, arrivals are counted in consecutive windows of `windowMs`. When a window
 * closes its count joins the device's baseline, with a zero for each silent window in
 * between (at most `capacity` of them), so that a device reporting once a minute has a
 * baseline of mostly empty windows. The open window alerts once, as soon as its count
 * reaches all of: `minMessages`; `floodFactor` times the baseline's median (at least 1);
 * and a robust z of `floodZ`. The scale of z is never below one message (counts are whole
 * numbers), so a baseline of identical windows does not make one extra message a flood.
 * Until the baseline holds `minWindows` windows the device is learning and nothing
 * alerts: new devices learn before they alert, as every baseline here does. A sustained
 * flood alerts in each window (the finding service merges the repeats into one finding)
 * until it has filled half the baseline, which then takes it for the device's normal.
 *
 * Bounded: the baselines are a DeviceBaselines set (device-baselines.ts): at most
 * `maxDevices` devices, a new one beyond that refused and counted, never evicting one.
 */
import { DeviceBaselines } from './device-baselines.js';
import type { FindingDraft } from './finding.js';
import { positiveInteger, type RobustBaseline } from './robust-baseline.js';

export interface ArrivalRateOptions {
  /** The counting window (default 10 s). */
  readonly windowMs?: number;
  /** Closed windows a device's baseline needs before it alerts (default 30: five minutes). */
  readonly minWindows?: number;
  /** Windows kept per device (default 360: an hour). */
  readonly capacity?: number;
  /** The robust z, and the multiple of the median, a window's count must reach (defaults 5 and 5). */
  readonly floodZ?: number;
  readonly floodFactor?: number;
  /** The fewest messages in a window that can be a flood (default 20). */
  readonly minMessages?: number;
  /** Devices tracked at most (default 10,000). */
  readonly maxDevices?: number;
}

/** The feature an arrival flood names. */
export const ARRIVALS_FEATURE = 'messages_per_window';

/** A device's open window: its start (a multiple of windowMs), its count, and whether it has alerted. */
interface OpenWindow {
  start: number;
  count: number;
  alerted: boolean;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

export class ArrivalRates {
  readonly windowMs: number;
  readonly #capacity: number;
  readonly #floodZ: number;
  readonly #floodFactor: number;
  readonly #minMessages: number;
  readonly #baselines: DeviceBaselines;
  readonly #open = new Map<string, OpenWindow>();

  constructor(options: ArrivalRateOptions = {}) {
    this.windowMs = positiveInteger(options.windowMs ?? 10_000, 'windowMs');
    this.#capacity = positiveInteger(options.capacity ?? 360, 'capacity');
    this.#floodZ = options.floodZ ?? 5;
    this.#floodFactor = options.floodFactor ?? 5;
    this.#minMessages = positiveInteger(options.minMessages ?? 20, 'minMessages');
    if (!(this.#floodZ > 0) || !(this.#floodFactor >= 1)) throw new RangeError('floodZ must be positive and floodFactor at least 1');
    // Checks minWindows and capacity (positive, minWindows ≤ capacity) and maxDevices.
    this.#baselines = new DeviceBaselines({ features: [ARRIVALS_FEATURE], capacity: this.#capacity, minSamples: options.minWindows ?? 30, resolution: { [ARRIVALS_FEATURE]: 1 }, maxDevices: options.maxDevices ?? 10_000 });
  }

  /** Devices tracked, and new devices refused because the set was full. */
  get devices(): { readonly tracked: number; readonly refused: number } {
    return { tracked: this.#baselines.size, refused: this.#baselines.refused };
  }

  /**
   * Counts one message of `device` arriving at `nowMs` (the vault's clock); the flood it
   * reveals, once per window, as a draft about `device`.
   *
   * @example
   *   const flood = arrivals.observe(talkerKey, clock.now());
   *   if (flood !== undefined) await findings.raise({ ...flood, device: await deviceOf(talkerKey) });
   */
  observe(device: string, nowMs: number): FindingDraft | undefined {
    if (!Number.isFinite(nowMs)) throw new RangeError('time must be a finite number of milliseconds');
    const baseline = this.#baselines.admit(device);
    if (baseline === undefined) return undefined;
    const w = this.#windowOf(device, baseline, nowMs);
    w.count += 1;
    if (w.alerted || w.count < this.#minMessages) return undefined;
    const a = baseline.assess([w.count]);
    const d = a.deviations[0];
    if (a.learning || d === undefined) return undefined;
    // The scale is at least one message (resolution 1): z is then at most the excess in messages.
    if (d.z < this.#floodZ || w.count < this.#floodFactor * Math.max(d.median, 1)) return undefined;
    w.alerted = true;
    const seconds = this.windowMs / 1000;
    return {
      device,
      severity: 'high',
      start: w.start,
      end: nowMs,
      summary: `Messages arriving far faster than this device’s baseline (${w.count} in ${seconds} s, usually ${d.median}): possible flood`,
      explanation: { detector: 'flood', label: 'arrival-rate', score: round(d.z), threshold: this.#floodZ, features: [{ feature: ARRIVALS_FEATURE, value: w.count, baseline: d.median, z: round(d.z) }] },
    };
  }

  /** The open window of `device` at `nowMs`, the windows closed since learned by `baseline`. */
  #windowOf(device: string, baseline: RobustBaseline, nowMs: number): OpenWindow {
    const start = nowMs - (((nowMs % this.windowMs) + this.windowMs) % this.windowMs);
    let w = this.#open.get(device);
    if (w === undefined) {
      w = { start, count: 0, alerted: false };
      this.#open.set(device, w);
      return w;
    }
    // A clock that steps back counts into the open window; it never reopens a closed one.
    if (start <= w.start) return w;
    baseline.learn(w.start, [w.count]);
    const silent = Math.min(this.#capacity, (start - w.start) / this.windowMs - 1);
    for (let i = 1; i <= silent; i++) baseline.learn(w.start + i * this.windowMs, [0]);
    w.start = start;
    w.count = 0;
    w.alerted = false;
    return w;
  }
}
