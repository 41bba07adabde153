/**
 * One robust baseline per device or device class, with a bound on how many are kept.
 * Device keys come from traffic (an address, a MAC, an inventory id), so an attacker can
 * invent as many as he likes: when the set is full, a new key is *refused* and counted,
 * rather than evicting an existing device's baseline — evicting would let a flood of
 * spoofed talkers reset real devices to their silent learning period. Operators see the
 * refusals and raise the bound, or key baselines by device class instead.
 */
import { RobustBaseline, type BaselineAssessment, type RobustBaselineOptions } from './robust-baseline.js';

export interface DeviceBaselinesOptions extends RobustBaselineOptions {
  /** The most baselines kept (default 10,000). */
  readonly maxDevices?: number;
}

/** An assessment, or why there is none. */
export type DeviceAssessment = (BaselineAssessment & { readonly refused: false }) | { readonly refused: true };

export class DeviceBaselines {
  readonly maxDevices: number;
  readonly #options: RobustBaselineOptions;
  readonly #baselines = new Map<string, RobustBaseline>();
  #refused = 0;

  constructor(options: DeviceBaselinesOptions) {
    const { maxDevices = 10_000, ...baseline } = options;
    if (!Number.isSafeInteger(maxDevices) || maxDevices < 1) throw new RangeError('maxDevices must be a positive integer');
    this.maxDevices = maxDevices;
    this.#options = Object.freeze({ ...baseline });
    new RobustBaseline(this.#options); // check the options once, now
  }

  /** Baselines kept. */
  get size(): number {
    return this.#baselines.size;
  }

  /** New keys refused because the set was full. */
  get refused(): number {
    return this.#refused;
  }

  /** The baseline of `key`, if there is one. */
  get(key: string): RobustBaseline | undefined {
    return this.#baselines.get(key);
  }

  /**
   * {@link RobustBaseline.observe} on `key`'s baseline, created (learning) on first sight.
   *
   * @example
   *   const a = baselines.observe(`class:${device.type}`, flow.timeMs, row);
   *   if (!a.refused && a.anomalous) …
   */
  observe(key: string, timeMs: number, row: ArrayLike<number>): DeviceAssessment {
    const baseline = this.admit(key);
    return baseline === undefined ? { refused: true } : { ...baseline.observe(timeMs, row), refused: false };
  }

  /**
   * The baseline of `key`, created (learning) on first sight; undefined, and counted, when
   * the set is full — for callers that assess and learn at times of their own.
   *
   * @example
   *   const b = baselines.admit(device); // undefined: refused
   */
  admit(key: string): RobustBaseline | undefined {
    let baseline = this.#baselines.get(key);
    if (baseline === undefined) {
      if (this.#baselines.size >= this.maxDevices) {
        this.#refused += 1;
        return undefined;
      }
      baseline = new RobustBaseline(this.#options);
      this.#baselines.set(key, baseline);
    }
    return baseline;
  }

  /** Whether the set is full: a key without a baseline would be refused. */
  get full(): boolean {
    return this.#baselines.size >= this.maxDevices;
  }

  /** The keys with a baseline, in the order they were first seen. */
  keys(): IterableIterator<string> {
    return this.#baselines.keys();
  }

  /** Drops `key`'s baseline (a decommissioned device); true if there was one. */
  forget(key: string): boolean {
    return this.#baselines.delete(key);
  }
}
