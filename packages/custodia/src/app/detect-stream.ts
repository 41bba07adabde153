/**
 * The detection stream (issue 6 §1–§3), as the spec reads:
 *
 *   MQTT telemetry (parsed as hostile input) → bus (in-process, or NATS JetStream
 *   partitioned by device and shared by several scorers) → which Device sent it (by MAC, else IP), or an inventory entry for
 *   an unknown talker → per-device scoring (robust baselines that learn before they alert,
 *   physiological checks, flood) → explained findings through the FindingService (where
 *   repeats merge and each device's rate limit applies).
 *
 * How fast each device's messages arrive is counted where they arrive, before the bus, on
 * the vault's clock (detect/arrival-rate.ts): a flood of ordinary-looking messages reports
 * nothing unusual in any one of them. With several vaults subscribed, each counts what it
 * receives.
 *
 * Each device's baselines are kept in the vault's database (store/baseline-store.ts,
 * sealed) every `keepEveryMs` and when the stream closes, and a device this process has
 * no baselines for takes back the ones kept before its first record is scored: a restart,
 * or a partition of the bus moving to another vault sharing the database, no longer sends
 * every device back to its learning period. What it can lose is what was learned since
 * the last keep (at most `keepEveryMs`, 30 s by default, when a process dies).
 *
 * Built by the composition root (vault.ts) from a validated config; `start` connects.
 * A failure while scoring one record (the database down when a finding is stored) is
 * counted and handed to `onError`; it does not stop the stream.
 */
import { ArrivalRates, InProcessBus, partitionOf, senderKey, TelemetryScorer, type ArrivalRateOptions, type BusConsumer, type TelemetryBus, type TelemetryRecord, type TelemetryReport, type TelemetryScorerOptions } from '../detect/index.js';
import { NatsTelemetryBus, openMqttTelemetry, type MqttTelemetrySource } from '../ingest/index.js';
import { isCustodiaError, type Clock, type Random } from '../kernel/index.js';
import type { BaselineStore } from '../store/index.js';
import type { DetectStreamConfig } from './detect-stream-config.js';
import type { DeviceDirectory } from './device-directory.js';
import type { FindingService } from './finding-service.js';
import type { TalkerInventory } from './talker-inventory.js';

export interface DetectStreamReport {
  /** What the MQTT subscription received, handed to the bus, refused (with where and why) and dropped. */
  readonly source: TelemetryReport;
  /** Per scorer of this process: records taken from the bus and handled. */
  readonly scorers: readonly TelemetryReport[];
  /** Records the bus dropped because it already held one with their flow id (a device, or someone, repeating a FlowId). */
  readonly duplicates: number;
  /** Records scored, each counted once its findings were stored. */
  readonly scored: number;
  readonly findings: number;
  readonly failures: number;
  readonly devices: { readonly baselines: number; readonly refused: number };
  /**
   * Baselines taken back from the database, snapshots written to it, and kept snapshots
   * refused (they did not open for their device, or were not a snapshot of this version:
   * those devices learned afresh).
   */
  readonly kept: { readonly restored: number; readonly saved: number; readonly refused: number };
  /** Devices whose arrival rate is tracked, and those refused because the set was full. */
  readonly arrivals: { readonly tracked: number; readonly refused: number };
  readonly unknownTalkersRefused: number;
}

export interface DetectStreamDeps {
  readonly config: DetectStreamConfig;
  readonly findings: FindingService;
  readonly devices: DeviceDirectory;
  readonly inventory: TalkerInventory;
  readonly clock: Clock;
  readonly random: Random;
  readonly scoring?: TelemetryScorerOptions;
  readonly arrivals?: ArrivalRateOptions;
  /** Where device baselines are kept between runs; none: they live and die with the process. */
  readonly baselines?: BaselineStore;
  /** How often the baselines that learned something are kept (default 30 s). */
  readonly keepEveryMs?: number;
}

/**
 * Devices whose snapshots are written in one transaction (about 76 KB each at full
 * baselines). The snapshots are made and sealed on the event loop, so a keep yields to
 * waiting requests between batches rather than holding the loop for every device at once.
 */
const KEEP_BATCH = 25;
const KEEP_EVERY_MS = 30_000;
/** The scorer's default baseline window (telemetry-scorer.ts): snapshots older than it would be emptied on their first record. */
const WINDOW_MS = 3_600_000;

const EMPTY: TelemetryReport = { received: 0, records: 0, badRecords: 0, firstBad: [], dropped: 0 };

export class DetectStream {
  readonly #scorer: TelemetryScorer;
  readonly #arrivals: ArrivalRates;
  #bus: TelemetryBus | undefined;
  #source: MqttTelemetrySource | undefined;
  #consumers: BusConsumer[] = [];
  #scored = 0;
  #duplicates = 0;
  #findings = 0;
  #failures = 0;
  /** Devices whose baselines learned since they were last kept. */
  readonly #unkept = new Set<string>();
  /** The sender (MAC, else IP) each device with baselines here was last scored from: which partition of the bus it is in. */
  readonly #senders = new Map<string, string>();
  readonly #restoring = new Map<string, Promise<void>>();
  readonly #kept = { restored: 0, saved: 0, refused: 0 };
  #lastKept: number;
  #keeping: Promise<void> | undefined;
  #onError: (e: unknown) => void = () => undefined;

  constructor(private readonly deps: DetectStreamDeps) {
    this.#scorer = new TelemetryScorer(deps.scoring);
    this.#arrivals = new ArrivalRates(deps.arrivals);
    this.#lastKept = deps.clock.now();
  }

  /** Connects the bus, starts the scorers, then subscribes to the broker; `stream-unavailable` if a broker is unreachable. */
  async start(onError: (e: unknown) => void = () => undefined): Promise<void> {
    this.#onError = onError;
    const { config, clock, random } = this.deps;
    const bus: TelemetryBus = config.nats === undefined ? new InProcessBus({ clock }) : await NatsTelemetryBus.open({ ...config.nats, clock });
    this.#bus = bus;
    try {
      const hooks = { releasing: (k: number, n: number) => this.#releasing(k, n), lost: (k: number, n: number) => this.#lost(k, n) };
      for (let i = 0; i < config.scorers; i++) this.#consumers.push(await bus.consume((r) => this.#score(r), hooks));
      const mqtt = { url: config.mqttUrl, topic: config.topic, clock, random, ...(config.mqttTls === undefined ? {} : { tls: config.mqttTls }), ...config.mqttAuth };
      this.#source = await openMqttTelemetry(mqtt, async (r) => {
        await this.#arrived(r);
        if ((await bus.publish(r)) === 'duplicate') this.#duplicates += 1;
      });
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** The device that sent `r`: a stored Device, else its unknown-talker entry (noted as sighted when `sighted`). */
  async #deviceOf(r: TelemetryRecord, sighted: boolean): Promise<string> {
    const device = await this.deps.devices.deviceOf(r.endpoints);
    if (device !== undefined) return device;
    const key = senderKey(r.endpoints)!; // the parser insists on SrcAddr or SrcMac
    if (sighted) await this.deps.inventory.sighted(key, r.endpoints, r.timeMs);
    return `talker:${key}`;
  }

  /** Counts the arrival of `r` by its sender's address (MAC, else IP) on the vault's clock, and raises the flood it reveals. */
  async #arrived(r: TelemetryRecord): Promise<void> {
    const flood = this.#arrivals.observe(senderKey(r.endpoints)!, this.deps.clock.now());
    if (flood === undefined) return;
    try {
      await this.deps.findings.raise({ ...flood, device: await this.#deviceOf(r, false) });
      this.#findings += 1;
    } catch (e) {
      this.#failures += 1;
      this.#onError(e);
    }
  }

  /** Scores one record from the bus: which device, its baselines and checks, its findings. */
  async #score(r: TelemetryRecord): Promise<void> {
    try {
      const device = await this.#deviceOf(r, true);
      await this.#restore(device);
      const drafts = this.#scorer.score(device, r);
      if (this.#scorer.has(device)) {
        this.#unkept.add(device);
        this.#senders.set(device, senderKey(r.endpoints)!);
      }
      this.#keepWhenDue();
      for (const d of drafts) {
        await this.deps.findings.raise(d);
        this.#findings += 1;
      }
      this.#scored += 1; // counted once its findings are stored, so that a count reached means they can be read
    } catch (e) {
      this.#failures += 1;
      this.#onError(e);
    }
  }

  /**
   * A device this process has no baselines for takes back the ones kept in the database,
   * once (concurrent records of it wait for the same read). Kept bytes that do not open
   * for this device or are not a snapshot of this version are counted, and the device
   * learns afresh; the database failing is the record's failure.
   */
  async #restore(device: string): Promise<void> {
    const store = this.deps.baselines;
    if (store === undefined || this.#scorer.has(device) || this.#scorer.full) return;
    let pending = this.#restoring.get(device);
    if (pending === undefined) {
      pending = (async () => {
        try {
          const bytes = await store.load(device);
          if (bytes !== undefined && !this.#scorer.has(device) && this.#scorer.restore(device, bytes)) this.#kept.restored += 1;
        } catch (e) {
          if (!(e instanceof RangeError) && !isCustodiaError(e, 'decrypt-failed')) throw e;
          this.#kept.refused += 1;
        } finally {
          this.#restoring.delete(device);
        }
      })();
      this.#restoring.set(device, pending);
    }
    await pending;
  }

  /** Starts keeping the baselines when `keepEveryMs` has passed since the last time (one keep at a time; a failure goes to `onError`). */
  #keepWhenDue(): void {
    if (this.deps.baselines === undefined || this.#keeping !== undefined || this.deps.clock.now() - this.#lastKept < (this.deps.keepEveryMs ?? KEEP_EVERY_MS)) return;
    this.#keeping = this.keepBaselines()
      .catch((e) => {
        this.#failures += 1;
        this.#onError(e);
      })
      .finally(() => {
        this.#keeping = undefined;
      });
  }

  /**
   * Writes the snapshots of the devices whose baselines learned since they were last kept,
   * in transactions of {@link KEEP_BATCH} devices, and deletes the snapshots not kept for
   * longer than the baselines' window. Devices of a batch that failed stay to be kept.
   */
  async keepBaselines(): Promise<void> {
    if (this.deps.baselines === undefined) return;
    this.#lastKept = this.deps.clock.now();
    const devices = [...this.#unkept];
    this.#unkept.clear();
    await this.#write(devices);
  }

  async #write(devices: readonly string[]): Promise<void> {
    const store = this.deps.baselines;
    if (store === undefined) return;
    const now = this.deps.clock.now();
    const forgetBefore = now - (this.deps.scoring?.windowMs ?? WINDOW_MS);
    for (let i = 0; i === 0 || i < devices.length; i += KEEP_BATCH) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      const batch = devices.slice(i, i + KEEP_BATCH).flatMap((device) => {
        const snapshot = this.#scorer.snapshot(device);
        return snapshot === undefined ? [] : [{ device, savedAt: now, snapshot }];
      });
      try {
        await store.keep(batch, forgetBefore);
      } catch (e) {
        for (const d of devices.slice(i)) this.#unkept.add(d);
        throw e;
      }
      this.#kept.saved += batch.length;
    }
  }

  /** The devices with baselines here whose sender is in partition k of n. */
  #devicesIn(k: number, n: number): string[] {
    return [...this.#senders].filter(([, sender]) => partitionOf(sender, n) === k).map(([device]) => device);
  }

  #forget(devices: readonly string[]): void {
    for (const d of devices) {
      this.#scorer.forget(d);
      this.#senders.delete(d);
      this.#unkept.delete(d);
    }
  }

  /**
   * Partition k is moving to another scorer (this one has stopped taking its records): its
   * devices' baselines are written now, so that the next holder starts from them rather than
   * from the last periodic keep, and forgotten here, so that if the partition comes back
   * this scorer takes back what was kept meanwhile instead of carrying on from its own.
   */
  async #releasing(k: number, n: number): Promise<void> {
    const devices = this.#devicesIn(k, n);
    const unkept = devices.filter((d) => this.#unkept.has(d));
    try {
      if (unkept.length > 0) await this.#write(unkept);
    } catch (e) {
      this.#failures += 1;
      this.#onError(e);
    } finally {
      this.#forget(devices);
    }
  }

  /** Partition k was lost without a hand-over: another scorer may be writing its devices' baselines already, so they are forgotten here, not written. */
  #lost(k: number, n: number): void {
    this.#forget(this.#devicesIn(k, n));
  }

  /** Settles once everything received so far has gone through the bus into the scorers (in-process bus only). */
  async idle(): Promise<void> {
    await this.#source?.idle();
  }

  report(): DetectStreamReport {
    return {
      source: this.#source?.report() ?? EMPTY,
      scorers: this.#consumers.map((c) => c.report()),
      duplicates: this.#duplicates,
      scored: this.#scored,
      findings: this.#findings,
      failures: this.#failures,
      devices: this.#scorer.devices,
      kept: { ...this.#kept },
      arrivals: this.#arrivals.devices,
      unknownTalkersRefused: this.deps.inventory.refused,
    };
  }

  async close(): Promise<void> {
    await this.#source?.close().catch(() => undefined);
    for (const c of this.#consumers) await c.stop().catch(() => undefined);
    await this.#bus?.close().catch(() => undefined);
    await this.deps.inventory.flush().catch(() => undefined);
    await this.#keeping;
    await this.keepBaselines().catch((e) => this.#onError(e));
    this.#source = undefined;
    this.#consumers = [];
    this.#bus = undefined;
  }
}
