/**
 * Scores device telemetry (issue 6 §2, §3) into explained finding drafts, per device:
 *
 * - `vital-signs` / implausible and inconsistent (vital-sign-checks.ts): no baseline needed,
 *   from the first message. Critical and high.
 * - `vital-signs` / deviation: the robust z-scores of the vital signs against the device's
 *   own baseline (robust-baseline.ts). A man-in-the-middle who rewrites plausible-looking
 *   values still moves them far from what this patient's monitor has been reporting. High.
 * - `flood`: a rate feature (packets, bytes, load, rate) far above the device's baseline:
 *   z above `floodZ` *and* at least `floodFactor` times its median, so that a quiet device's
 *   tiny MAD does not turn a doubling into a flood. High.
 * - `baseline` / network: any other network feature with |z| ≥ `networkZ`, where the
 *   scale is measured (not the "never seen" cap of a constant feature). Low.
 *
 * Baselines learn before they alert: until a device's baseline holds `minSamples`
 * samples, only the physiological checks can raise anything — unless the device has a
 * **class** (its FHIR `Device.type`) whose baseline is settled:
 *
 * - *Class baselines* pool the network features of the class's devices (the last
 *   `capacity` samples, no time window: a device's clock cannot flush them). They learn
 *   only from records of devices whose own baseline is settled and that raised nothing
 *   on the network, so a new device, a flooding one or one being judged cannot teach
 *   its class what is normal.
 * - A device still learning its own baseline, or refused one (the set full), is held to
 *   its class's: the same flood and network rules, labelled `class`. A new pump that
 *   floods or scans from its first message alerts, where it would have had a free
 *   learning period. Vital signs belong to a patient, not a class: they have no class
 *   baseline.
 *
 * A device's vital-sign baseline belongs to the patient it is attached to (FHIR
 * `Device.patient`): when the device is given to another patient (or taken off one), its
 * vital-sign baseline starts learning again, so that a monitor moved to the next bed does
 * not report the new patient's normal readings as an alteration of the last one's. The
 * network baseline is the device's and carries on. Snapshots record whose vital signs
 * they hold, and a restored one whose patient is no longer the device's is dropped by the
 * same rule at the device's next record.
 *
 * Time comes from the records. Pure: no clock, no I/O; the app feeds records in and
 * raises the drafts.
 */
import { decodeBaselines, encodeBaselines } from './baseline-snapshot.js';
import { DeviceBaselines, type DeviceAssessment } from './device-baselines.js';
import type { ExplainedFeature, FindingDraft, Severity } from './finding.js';
import type { FeatureDeviation } from './robust-baseline.js';
import { checkVitalSigns, PLAUSIBLE_VITALS, type PlausibleRange, type VitalSignIssue } from './vital-sign-checks.js';
import { NETWORK_FEATURES, VITAL_SIGNS, type NetworkFeature, type TelemetryRecord, type VitalSign } from './telemetry-record.js';

/** The network features a flood raises. */
export const RATE_FEATURES: readonly NetworkFeature[] = ['Rate', 'Load', 'SrcLoad', 'DstLoad', 'TotPkts', 'TotBytes', 'SrcBytes', 'DstBytes', 'Packet_num'];

export interface TelemetryScorerOptions {
  /** Samples before a device's baselines alert (default 30). */
  readonly minSamples?: number;
  /** Samples kept per device (default 256). */
  readonly capacity?: number;
  /** Baseline window (default 1 hour). */
  readonly windowMs?: number;
  /** |z| of a vital sign that counts as an alteration (default 5). */
  readonly vitalZ?: number;
  /** z of a rate feature, and its multiple of the median, that make a flood (defaults 5 and 5). */
  readonly floodZ?: number;
  readonly floodFactor?: number;
  /** |z| of another network feature that is reported (default 8). */
  readonly networkZ?: number;
  /** Devices with baselines (default 10,000; beyond, new devices are only checked physiologically). */
  readonly maxDevices?: number;
  /** Device classes with a pooled network baseline (default 1,000). */
  readonly maxClasses?: number;
  readonly plausible?: Readonly<Record<VitalSign, PlausibleRange>>;
}

/** Whole units for the vitals reported in whole units; a tenth of a degree; a hundredth of a mV. */
const VITAL_RESOLUTION: Record<VitalSign, number> = { Temp: 0.1, SpO2: 1, Pulse_Rate: 1, SYS: 1, DIA: 1, Heart_rate: 1, Resp_Rate: 1, ST: 0.01 };
/** Counts and sizes in whole packets and bytes. */
const NETWORK_RESOLUTION: Partial<Record<NetworkFeature, number>> = Object.fromEntries(
  (['SrcBytes', 'DstBytes', 'sMaxPktSz', 'dMaxPktSz', 'sMinPktSz', 'dMinPktSz', 'Trans', 'TotPkts', 'TotBytes', 'Packet_num', 'Loss', 'Rate', 'Load', 'SrcLoad', 'DstLoad'] as const).map((f) => [f, 1]),
);

/** What guards one device now, and the samples behind it (TelemetryScorer.states). */
export interface DeviceState {
  readonly device: string;
  /** `baseline`: its own; `class`: its class's (network), its own still learning; `learning`: the physiological checks alone. */
  readonly guard: 'baseline' | 'class' | 'learning';
  readonly samples: { readonly vitals: number; readonly network: number; readonly needed: number };
  readonly deviceClass?: string;
  readonly classSamples?: number;
  /** Whether its vital-sign baseline is a patient's (Device.patient); which patient is not said. */
  readonly attached: boolean;
}

/** What the app knows of a device beyond its record: its class (Device.type, `system|code`) and the patient it is attached to (`Patient/<id>`). */
export interface DeviceContext {
  readonly deviceClass?: string | undefined;
  readonly patient?: string | undefined;
}

/** The snapshot part of the vital signs: `vitals`, or `vitals of Patient/<id>` when they are a patient's. */
const VITALS_PART = 'vitals';
const OWNED_VITALS = /^vitals of (Patient\/[A-Za-z0-9\-.]{1,64})$/;

const explained = (d: FeatureDeviation): ExplainedFeature => ({ feature: d.feature, value: d.value, baseline: d.median, z: round(d.z) });
const round = (x: number): number => Math.round(x * 1000) / 1000;

export class TelemetryScorer {
  readonly #network: DeviceBaselines;
  readonly #vitals: DeviceBaselines;
  readonly #classes: DeviceBaselines;
  /** The patient whose vital signs each device's vital-sign baseline holds, for devices attached to one. */
  readonly #owners = new Map<string, string>();
  #reassigned = 0;
  readonly #vitalZ: number;
  readonly #floodZ: number;
  readonly #floodFactor: number;
  readonly #networkZ: number;
  readonly #plausible: Readonly<Record<VitalSign, PlausibleRange>>;
  readonly #capacity: number;
  readonly #minSamples: number;

  constructor(options: TelemetryScorerOptions = {}) {
    const common = { minSamples: options.minSamples ?? 30, capacity: options.capacity ?? 256, windowMs: options.windowMs ?? 3_600_000, maxDevices: options.maxDevices ?? 10_000 };
    this.#network = new DeviceBaselines({ ...common, features: NETWORK_FEATURES, resolution: NETWORK_RESOLUTION });
    this.#vitals = new DeviceBaselines({ ...common, features: VITAL_SIGNS, resolution: VITAL_RESOLUTION });
    const { windowMs: _perDevice, ...pooled } = common;
    this.#classes = new DeviceBaselines({ ...pooled, maxDevices: options.maxClasses ?? 1000, features: NETWORK_FEATURES, resolution: NETWORK_RESOLUTION });
    this.#vitalZ = options.vitalZ ?? 5;
    this.#floodZ = options.floodZ ?? 5;
    this.#floodFactor = options.floodFactor ?? 5;
    this.#networkZ = options.networkZ ?? 8;
    this.#plausible = options.plausible ?? PLAUSIBLE_VITALS;
    this.#capacity = common.capacity;
    this.#minSamples = common.minSamples;
  }

  /** Whether `device` has baselines here. */
  has(device: string): boolean {
    return this.#vitals.get(device) !== undefined;
  }

  /** Whether a device without baselines would be refused them (the set is full). */
  get full(): boolean {
    return this.#vitals.full;
  }

  /** `device`'s baselines as bytes to keep (baseline-snapshot.ts); undefined when it has none. */
  snapshot(device: string): Uint8Array | undefined {
    const vitals = this.#vitals.get(device);
    const network = this.#network.get(device);
    if (vitals === undefined || network === undefined) return undefined;
    const owner = this.#owners.get(device);
    return encodeBaselines([
      { name: owner === undefined ? VITALS_PART : `${VITALS_PART} of ${owner}`, features: vitals.features, state: vitals.state() },
      { name: 'network', features: network.features, state: network.state() },
    ]);
  }

  /**
   * Gives `device`, which has no baselines here yet, the ones a snapshot kept. The bytes
   * come from storage: a RangeError says what is wrong with them (another version's
   * features, too many samples, values that are not finite), and the device is then left
   * without baselines, to learn afresh. False, and nothing restored, when the set is full.
   */
  restore(device: string, bytes: Uint8Array): boolean {
    if (this.has(device)) throw new RangeError('the device already has baselines here');
    const parts = decodeBaselines(bytes, this.#capacity);
    const part = (name: string, features: readonly string[], matches = (n: string) => n === name) => {
      const p = parts.find((x) => matches(x.name));
      if (p === undefined || p.features.length !== features.length || p.features.some((f, i) => f !== features[i])) throw new RangeError(`the snapshot's ${name} baseline has other features than this version's`);
      return p;
    };
    // Whose vital signs: the part's name is snapshot content, checked against the one form it may take.
    const vitalsPart = part(VITALS_PART, VITAL_SIGNS, (n) => n === VITALS_PART || OWNED_VITALS.test(n));
    const owner = OWNED_VITALS.exec(vitalsPart.name)?.[1];
    const vitals = vitalsPart.state;
    const network = part('network', NETWORK_FEATURES).state;
    if (parts.length !== 2) throw new RangeError('a device snapshot holds the vitals and network baselines only');
    const v = this.#vitals.admit(device);
    const n = v === undefined ? undefined : this.#network.admit(device);
    if (v === undefined || n === undefined) {
      this.#vitals.forget(device);
      return false;
    }
    try {
      v.restore(vitals);
      n.restore(network);
    } catch (e) {
      this.#vitals.forget(device);
      this.#network.forget(device);
      throw e;
    }
    if (owner !== undefined) this.#owners.set(device, owner);
    return true;
  }

  /** Drops `device`'s baselines (another scorer carries on with them); true if it had some. */
  forget(device: string): boolean {
    this.#owners.delete(device);
    this.#network.forget(device);
    return this.#vitals.forget(device);
  }

  /** Devices with baselines, devices refused one (the set full), device classes with a pooled baseline, and vital-sign baselines started afresh for another patient. */
  get devices(): { readonly baselines: number; readonly refused: number; readonly classes: number; readonly reassigned: number } {
    return { baselines: this.#vitals.size, refused: this.#vitals.refused, classes: this.#classes.size, reassigned: this.#reassigned };
  }

  /** The devices with baselines here. */
  deviceKeys(): string[] {
    return [...this.#vitals.keys()];
  }

  /**
   * What guards each device with baselines here now: its own baselines once settled
   * (`baseline`), else its class's while that is settled (`class`, the network side only),
   * else the physiological checks alone (`learning`); with the samples each holds.
   * `deviceClass` says a device's class (the scorer keeps none of its own).
   */
  states(deviceClass: (device: string) => string | undefined): DeviceState[] {
    const out: DeviceState[] = [];
    for (const device of this.#vitals.keys()) {
      const vitals = this.#vitals.get(device)!.samples;
      const network = this.#network.get(device)?.samples ?? 0;
      const cls = deviceClass(device);
      const classSamples = cls === undefined ? undefined : this.#classes.get(cls)?.samples;
      const settled = Math.min(vitals, network) >= this.#minSamples;
      const classSettled = classSamples !== undefined && classSamples >= this.#minSamples;
      out.push({
        device,
        guard: settled ? 'baseline' : classSettled ? 'class' : 'learning',
        samples: { vitals, network, needed: this.#minSamples },
        ...(cls === undefined ? {} : { deviceClass: cls, classSamples: classSamples ?? 0 }),
        attached: this.#owners.has(device),
      });
    }
    return out;
  }

  /** The devices whose vital-sign baselines hold `patient`'s readings (to forget them when the patient is erased). */
  devicesOf(patient: string): string[] {
    return [...this.#owners].filter(([, p]) => p === patient).map(([d]) => d);
  }

  /**
   * Scores one record of `device` (a `Device/<id>` or an inventory entry), of its class
   * and attached to its patient when it has them: the drafts it raises, most severe
   * first; an empty list for a normal record, or a learning device with no settled class
   * baseline.
   *
   * @example
   *   for (const draft of scorer.score('Device/monitor-1', record, { deviceClass: 'http://snomed.info/sct|706172005', patient: 'Patient/p1' })) await findings.raise(draft);
   */
  score(device: string, r: TelemetryRecord, context: DeviceContext = {}): FindingDraft[] {
    const { deviceClass, patient } = context;
    this.#attach(device, patient);
    const window = { device, start: r.timeMs, end: r.timeMs };
    // Findings that hold vital-sign readings name whose they are (sealed under that patient's key).
    const vitalWindow = patient === undefined ? window : { ...window, patient };
    const drafts: FindingDraft[] = checkVitalSigns(r.vitals, this.#plausible).map((issue) => this.#physiology(vitalWindow, issue));
    const vitals = this.#vitals.observe(device, r.timeMs, VITAL_SIGNS.map((f) => r.vitals[f]));
    // Whose readings the baseline now holds (only for a device that has one: refused devices are not remembered).
    if (patient !== undefined && !vitals.refused) this.#owners.set(device, patient);
    else this.#owners.delete(device);
    const row = NETWORK_FEATURES.map((f) => r.network[f]);
    const network = this.#network.observe(device, r.timeMs, row);
    const alteration = this.#alteration(vitalWindow, vitals);
    if (alteration !== undefined) drafts.push(alteration);
    const own = this.#networkDrafts(window, network, 'device');
    drafts.push(...own);
    if (deviceClass !== undefined) drafts.push(...this.#byClass(window, deviceClass, network, r.timeMs, row, own.length === 0));
    return drafts;
  }

  /** Starts `device`'s vital-sign baseline afresh when the patient it is attached to is not the one its baseline learned. */
  #attach(device: string, patient: string | undefined): void {
    if (this.#vitals.get(device) !== undefined && this.#owners.get(device) !== patient) {
      // A fresh baseline in the same place, so that the device still has baselines here (nothing is restored over its network baseline).
      this.#vitals.forget(device);
      this.#vitals.admit(device);
      this.#reassigned += 1;
    }
  }

  /** A settled device's normal record teaches its class; a learning (or refused) device is held to its settled class. */
  #byClass(w: Window, deviceClass: string, own: DeviceAssessment, timeMs: number, row: readonly number[], normal: boolean): FindingDraft[] {
    if (!own.refused && !own.learning) {
      if (normal) this.#classes.admit(deviceClass)?.learn(timeMs, row);
      return [];
    }
    const pooled = this.#classes.get(deviceClass);
    return pooled === undefined ? [] : this.#networkDrafts(w, { ...pooled.assess(row), refused: false }, 'class');
  }

  #physiology(w: Window, issue: VitalSignIssue): FindingDraft {
    const implausible = issue.kind === 'implausible';
    const names = issue.features.map((f) => f.feature).join(' and ');
    return {
      ...w,
      severity: implausible ? 'critical' : 'high',
      summary: implausible ? `${names} outside what a patient can show (possible alteration in transit, or a failed sensor)` : `${names} contradict each other (possible alteration in transit)`,
      explanation: {
        detector: 'vital-signs',
        label: issue.kind,
        score: round(issue.excess),
        threshold: round(issue.tolerance),
        features: issue.features.map((f) => ({ feature: f.feature, value: f.value })),
      },
    };
  }

  #alteration(w: Window, a: DeviceAssessment): FindingDraft | undefined {
    if (a.refused || a.learning || a.maxAbsZ < this.#vitalZ) return undefined;
    const top = a.deviations.filter((d) => Math.abs(d.z) >= this.#vitalZ).slice(0, 3);
    return {
      ...w,
      severity: 'high',
      summary: `Vital signs far from this device’s own baseline (${top.map((d) => d.feature).join(', ')}): possible alteration in transit`,
      explanation: { detector: 'vital-signs', label: 'deviation', score: round(a.maxAbsZ), threshold: this.#vitalZ, features: a.deviations.slice(0, 5).map(explained) },
    };
  }

  /** Flood and network drafts against `basis`: the device's own baseline, or (while it learns) its class's. */
  #networkDrafts(w: Window, a: DeviceAssessment, basis: 'device' | 'class'): FindingDraft[] {
    if (a.refused || a.learning) return [];
    const whose = basis === 'device' ? 'this device’s baseline' : 'the baseline of its device class (it is still learning its own)';
    const flood = a.deviations.filter((d) => RATE_FEATURES.includes(d.feature as NetworkFeature) && d.z >= this.#floodZ && d.value >= this.#floodFactor * Math.max(d.median, 1));
    const out: FindingDraft[] = [];
    if (flood.length > 0) {
      out.push({
        ...w,
        severity: 'high',
        summary: `Traffic far above ${whose} (${flood.map((d) => d.feature).slice(0, 3).join(', ')}): possible flood`,
        explanation: { detector: 'flood', ...(basis === 'class' ? { label: 'class' } : {}), score: round(flood[0]!.z), threshold: this.#floodZ, features: flood.slice(0, 5).map(explained) },
      });
      return out;
    }
    const odd = a.deviations.filter((d) => d.rule !== 'constant' && Math.abs(d.z) >= this.#networkZ);
    if (odd.length > 0) {
      out.push({
        ...w,
        severity: 'low' satisfies Severity,
        summary: `Network behaviour unlike ${whose} (${odd.map((d) => d.feature).slice(0, 3).join(', ')})`,
        explanation: { detector: 'baseline', label: basis === 'device' ? 'network' : 'class-network', score: round(Math.abs(odd[0]!.z)), threshold: this.#networkZ, features: odd.slice(0, 5).map(explained) },
      });
    }
    return out;
  }
}

interface Window {
  readonly device: string;
  readonly start: number;
  readonly end: number;
  readonly patient?: string;
}
