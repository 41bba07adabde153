/**
 * A robust baseline of one device (or device class): per feature, the median and the
 * median absolute deviation (MAD) over a sliding window of its recent samples, and each
 * new sample's robust z-score against them,
 *
 *     z = 0.6745 · (x − median) / MAD
 *
 * (Iglewicz & Hoaglin, "How to Detect and Handle Outliers", ASQC 1993: the "modified
 * z-score"; |z| > 3.5 flags a potential outlier). 0.6745 is Φ⁻¹(3/4), so z is in units of σ
 * for normal data, and the median and MAD ignore up to half the window being outliers —
 * a burst of attack traffic does not drag the baseline after it.
 *
 * The scale when MAD = 0. More than half the window sharing one value is common (a
 * counter that is nearly always 0, a vital sign reported in whole units), and MAD = 0
 * would make every other value infinitely anomalous. In order:
 * 1. MAD > 0: σ̂ = MAD / 0.6745 (= 1.4826 · MAD): the formula above.
 * 2. MAD = 0 but the mean absolute deviation from the median (MeanAD) is not: σ̂ =
 *    1.2533 · MeanAD, since E|X − μ| = σ·√(2/π) for a normal X. It still sees the minority
 *    of values that differ, at the price of less robustness, in exactly the case where
 *    the majority is one value.
 * 3. σ̂ is never below the feature's `resolution` (default 0): a spread smaller than the
 *    unit a value is measured in is quantisation, not stability — SpO2 at 98 % for an hour
 *    then 97 % is not an alarm.
 * 4. σ̂ = 0 still (every sample equal, no resolution): a value equal to the median has
 *    z = 0 and any other value z = ±maxZ — "never seen in this window" — capped so that
 *    scores stay finite numbers in JSON and comparisons.
 * Every deviation says which rule gave its scale, so an alert can explain itself.
 *
 * Bounded memory: at most `capacity` samples per feature (oldest dropped first), and
 * samples older than `windowMs` before the newest are dropped too. Time comes from the
 * records (`timeMs`), never from a clock, so replaying a log gives the same results. A
 * baseline with fewer than `minSamples` samples is learning: it reports, never alerts.
 */
import { INITIAL_SLOTS, SortedWindow } from './sorted-window.js';

export interface RobustBaselineOptions {
  /** The names of the row's columns, for explanations. */
  readonly features: readonly string[];
  /** The most samples kept (default 256). */
  readonly capacity?: number;
  /** Samples older than this before the newest sample are dropped (default: never). */
  readonly windowMs?: number;
  /** Samples needed before the baseline alerts: the learning period (default 30). */
  readonly minSamples?: number;
  /** |z| above which a feature deviates (default 3.5, Iglewicz & Hoaglin). */
  readonly threshold?: number;
  /** The cap on |z| (default 1000). */
  readonly maxZ?: number;
  /** Per feature, the smallest meaningful difference: the floor of the scale (default 0). */
  readonly resolution?: Readonly<Record<string, number>>;
}

/** Which rule gave a deviation its scale (see the header comment). */
export type ScaleRule = 'mad' | 'mean-absolute-deviation' | 'resolution' | 'constant';

export interface FeatureDeviation {
  readonly feature: string;
  readonly value: number;
  readonly median: number;
  /** Unscaled median absolute deviation. */
  readonly mad: number;
  /** The σ estimate the value was divided by (0 under rule `constant`). */
  readonly scale: number;
  readonly rule: ScaleRule;
  /** Robust z-score, in [−maxZ, maxZ]. */
  readonly z: number;
}

/**
 * What a baseline holds, to be stored and restored (baseline-snapshot.ts): its samples in
 * arrival order (times, and rows of `features.length` values, row-major) and the newest
 * time it has seen, which a dropped sample may have set.
 */
export interface BaselineState {
  readonly latest: number;
  readonly times: Float64Array;
  readonly rows: Float64Array;
}

export interface BaselineAssessment {
  /** True while the baseline has fewer than minSamples samples: nothing alerts. */
  readonly learning: boolean;
  /** Samples in the baseline the row was compared with. */
  readonly samples: number;
  /** Every feature's deviation, largest |z| first (empty while there are no samples). */
  readonly deviations: readonly FeatureDeviation[];
  /** The largest |z| (0 while there are no samples). */
  readonly maxAbsZ: number;
  /** Not learning, and some |z| above the threshold. */
  readonly anomalous: boolean;
}

/** √(π/2): σ / E|X − μ| for a normal X. */
const MEAN_AD_TO_SIGMA = Math.sqrt(Math.PI / 2);
/** Φ⁻¹(3/4): MAD / σ for a normal X. */
const MAD_TO_Z = 0.6745;

/** An option that must be a positive integer (RangeError naming it otherwise). */
export function positiveInteger(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer`);
  return v;
}

function positiveNumber(v: number, what: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`${what} must be a positive number`);
  return v;
}

export class RobustBaseline {
  readonly features: readonly string[];
  readonly capacity: number;
  readonly windowMs: number;
  readonly minSamples: number;
  readonly threshold: number;
  readonly maxZ: number;
  readonly #resolution: Float64Array;
  readonly #windows: SortedWindow[];
  /**
   * Arrival-order ring of sample times and values (value of feature f at slot s: s·k + f),
   * of `#slots` slots: it starts small and doubles up to `capacity` as samples come (see
   * sorted-window.ts for why memory is not taken up front).
   */
  #times: Float64Array;
  #ring: Float64Array;
  #slots: number;
  #head = 0;
  #count = 0;
  #latest = -Infinity;

  constructor(options: RobustBaselineOptions) {
    const features = options.features;
    if (features.length < 1 || new Set(features).size !== features.length) throw new RangeError('features must be distinct names, at least one');
    this.features = Object.freeze([...features]);
    this.capacity = positiveInteger(options.capacity ?? 256, 'capacity');
    this.windowMs = options.windowMs === undefined ? Infinity : positiveNumber(options.windowMs, 'windowMs');
    this.minSamples = positiveInteger(options.minSamples ?? 30, 'minSamples');
    if (this.minSamples > this.capacity) throw new RangeError('minSamples cannot exceed capacity');
    this.threshold = positiveNumber(options.threshold ?? 3.5, 'threshold');
    this.maxZ = positiveNumber(options.maxZ ?? 1000, 'maxZ');
    const resolution = options.resolution ?? {};
    for (const name of Object.keys(resolution)) if (!features.includes(name)) throw new RangeError('a resolution names an unknown feature');
    this.#resolution = Float64Array.from(features, (f) => {
      const r = Object.hasOwn(resolution, f) ? resolution[f]! : 0;
      if (!(r >= 0) || !Number.isFinite(r)) throw new RangeError('a resolution must be a finite number ≥ 0');
      return r;
    });
    this.#windows = features.map(() => new SortedWindow(this.capacity));
    this.#slots = Math.min(this.capacity, INITIAL_SLOTS);
    this.#times = new Float64Array(this.#slots);
    this.#ring = new Float64Array(this.#slots * features.length);
  }

  /** Samples the baseline has room for now (it grows up to {@link capacity}). */
  get allocated(): number {
    return this.#slots;
  }

  /** Doubles the ring (up to capacity), unrolled so the oldest sample is in slot 0. */
  #grow(): void {
    const k = this.features.length;
    const slots = Math.min(this.capacity, 2 * this.#slots);
    const times = new Float64Array(slots);
    const ring = new Float64Array(slots * k);
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#head + i) % this.#slots;
      times[i] = this.#times[from]!;
      ring.set(this.#ring.subarray(from * k, from * k + k), i * k);
    }
    this.#times = times;
    this.#ring = ring;
    this.#slots = slots;
    this.#head = 0;
  }

  /** Samples currently in the baseline. */
  get samples(): number {
    return this.#count;
  }

  /** Its samples in arrival order and the newest time seen: what {@link restore} takes back. */
  state(): BaselineState {
    const k = this.features.length;
    const times = new Float64Array(this.#count);
    const rows = new Float64Array(this.#count * k);
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#head + i) % this.#slots;
      times[i] = this.#times[from]!;
      rows.set(this.#ring.subarray(from * k, from * k + k), i * k);
    }
    return { latest: this.#latest, times, rows };
  }

  /**
   * Takes back what {@link state} gave, into a baseline that has no samples yet, exactly:
   * the same samples in the same order and the same newest time, so that it assesses and
   * learns as the one it came from would have. The state may come from storage, so it is
   * checked: at most `capacity` samples, finite values, no time after `latest`
   * (RangeError otherwise, and the baseline stays empty).
   */
  restore(s: BaselineState): void {
    if (this.#count !== 0 || this.#latest !== -Infinity) throw new RangeError('only an empty baseline can be restored');
    const k = this.features.length;
    const n = s.times.length;
    if (n > this.capacity || s.rows.length !== n * k) throw new RangeError(`a baseline state holds at most ${this.capacity} samples of ${k} values`);
    if (n === 0) {
      if (s.latest !== -Infinity && !Number.isFinite(s.latest)) throw new RangeError('the newest time must be a finite number');
      this.#latest = s.latest;
      return;
    }
    if (!Number.isFinite(s.latest)) throw new RangeError('the newest time must be a finite number');
    for (let i = 0; i < n; i++) if (!Number.isFinite(s.times[i]!) || s.times[i]! > s.latest) throw new RangeError('sample times must be finite and not after the newest');
    for (let i = 0; i < s.rows.length; i++) if (!Number.isFinite(s.rows[i]!)) throw new RangeError('row values must be finite numbers');
    let slots = this.#slots;
    while (slots < n) slots = Math.min(this.capacity, 2 * slots);
    this.#slots = slots;
    this.#times = new Float64Array(slots);
    this.#ring = new Float64Array(slots * k);
    this.#times.set(s.times);
    for (let i = 0; i < s.rows.length; i++) this.#ring[i] = s.rows[i]! === 0 ? 0 : s.rows[i]!; // one zero, as learn stores it
    const column = new Float64Array(n);
    for (let f = 0; f < k; f++) {
      for (let i = 0; i < n; i++) column[i] = this.#ring[i * k + f]!;
      this.#windows[f]!.fill(column);
    }
    this.#head = 0;
    this.#count = n;
    this.#latest = s.latest;
  }

  #checkRow(row: ArrayLike<number>): void {
    if (row.length !== this.features.length) throw new RangeError(`a row has ${this.features.length} values`);
    for (let f = 0; f < row.length; f++) if (!Number.isFinite(row[f]!)) throw new RangeError('row values must be finite numbers');
  }

  #dropOldest(): void {
    const k = this.features.length;
    const slot = this.#head;
    for (let f = 0; f < k; f++) this.#windows[f]!.remove(this.#ring[slot * k + f]!);
    this.#head = (slot + 1) % this.#slots;
    this.#count -= 1;
  }

  /**
   * Moves the window to `timeMs` (the newest time seen, if that is later): samples older
   * than windowMs before it are dropped. A time earlier than the newest (records out of
   * order) does not move the window back.
   */
  advance(timeMs: number): void {
    if (!Number.isFinite(timeMs)) throw new RangeError('time must be a finite number of milliseconds');
    if (timeMs > this.#latest) this.#latest = timeMs;
    const oldest = this.#latest - this.windowMs;
    while (this.#count > 0 && this.#times[this.#head]! < oldest) this.#dropOldest();
  }

  /**
   * Compares `row` with the baseline as it stands, without changing it.
   *
   * @example
   *   const { anomalous, deviations } = baseline.assess(row);
   *   if (anomalous) explain(deviations.slice(0, 3)); // the top contributing features
   */
  assess(row: ArrayLike<number>): BaselineAssessment {
    this.#checkRow(row);
    const samples = this.#count;
    const learning = samples < this.minSamples;
    if (samples === 0) return { learning, samples, deviations: [], maxAbsZ: 0, anomalous: false };
    const deviations = this.features.map((feature, f) => this.#deviation(feature, f, row[f]!));
    deviations.sort((a, b) => Math.abs(b.z) - Math.abs(a.z));
    const maxAbsZ = Math.abs(deviations[0]!.z);
    return { learning, samples, deviations, maxAbsZ, anomalous: !learning && maxAbsZ > this.threshold };
  }

  #deviation(feature: string, f: number, value: number): FeatureDeviation {
    const w = this.#windows[f]!;
    const median = w.median();
    const mad = w.mad();
    let rule: ScaleRule = 'mad';
    let scale = mad / MAD_TO_Z;
    if (mad === 0) {
      rule = 'mean-absolute-deviation';
      scale = MEAN_AD_TO_SIGMA * w.meanAbsoluteDeviation();
    }
    if (this.#resolution[f]! > scale) {
      rule = 'resolution';
      scale = this.#resolution[f]!;
    }
    const diff = value - median;
    let z: number;
    if (scale === 0) {
      rule = 'constant';
      z = diff === 0 ? 0 : Math.sign(diff) * this.maxZ;
    } else {
      z = Math.max(-this.maxZ, Math.min(this.maxZ, diff / scale));
    }
    return { feature, value, median, mad, scale, rule, z };
  }

  /**
   * Adds a sample taken at `timeMs` (dropping the oldest when full). A sample already
   * older than the window (a record far out of order) is not added.
   */
  learn(timeMs: number, row: ArrayLike<number>): void {
    this.#checkRow(row);
    this.advance(timeMs);
    if (timeMs < this.#latest - this.windowMs) return;
    if (this.#count === this.#slots) {
      if (this.#slots < this.capacity) this.#grow();
      else this.#dropOldest();
    }
    const k = this.features.length;
    const slot = (this.#head + this.#count) % this.#slots;
    this.#times[slot] = timeMs;
    for (let f = 0; f < k; f++) {
      const v = row[f]! === 0 ? 0 : row[f]!; // one zero: -0 and 0 would be two values to remove
      this.#ring[slot * k + f] = v;
      this.#windows[f]!.insert(v);
    }
    this.#count += 1;
  }

  /**
   * The usual step for a new record: move the window to its time, assess it against
   * the baseline before it, then learn it.
   *
   * @example
   *   for (const r of records) if (baseline.observe(r.timeMs, r.row).anomalous) alert(r);
   */
  observe(timeMs: number, row: ArrayLike<number>): BaselineAssessment {
    this.#checkRow(row);
    this.advance(timeMs);
    const assessment = this.assess(row);
    this.learn(timeMs, row);
    return assessment;
  }
}
