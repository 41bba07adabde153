/**
 * The detection stream (issue 6 §1–§3), as the spec reads:
 *
 *   MQTT telemetry (parsed as hostile input) → bus (in-process, or NATS JetStream
 *   partitioned by device and shared by several scorers) → which Device sent it (by MAC, else IP), or an inventory entry for
 *   an unknown talker → per-device scoring (robust baselines that learn before they alert,
 *   held meanwhile to their Device.type's pooled baseline; physiological checks, flood) → explained findings through the FindingService (where
 *   repeats merge and each device's rate limit applies).
 *
 * With topics bound to devices (`--detect-device-level`, topic-identity.ts), a record goes
 * on only when its sender is the Device whose topic the broker let publish it; a record in
 * another sender's name is refused before anything counts it and raises an impersonation
 * finding against the publishing Device.
 *
 * A registered Device that sends nothing for `--detect-silence-seconds` raises a
 * `silence` finding (detect/silence-watch.ts), judged where messages arrive, like arrival
 * rates: each vault watches what it receives.
 *
 * How fast each device's messages arrive is counted where they arrive, before the bus, on
 * the vault's clock (detect/arrival-rate.ts): a flood of ordinary-looking messages reports
 * nothing unusual in any one of them. With several vaults subscribed, each counts what it
 * receives.
 *
 * Each device's baselines are kept in the vault's database (kept-baselines.ts): a
 * restart, or a partition of the bus moving to another vault sharing the database, does
 * not send every device back to its learning period.
 *
 * Built by the composition root (vault.ts) from a validated config; `start` connects.
 * A failure while scoring one record (the database down when a finding is stored) is
 * counted and handed to `onError`; it does not stop the stream.
 */
import { ArrivalRates, InProcessBus, senderKey, SilenceWatch, TelemetryScorer, type ArrivalRateOptions, type DeviceState, type BusConsumer, type TelemetryBus, type TelemetryRecord, type TelemetryReport, type TelemetryScorerOptions } from '../detect/index.js';
import { NatsTelemetryBus, openMqttTelemetry, RecordRefused, type MqttTelemetrySource } from '../ingest/index.js';
import type { Clock, Random } from '../kernel/index.js';
import type { BaselineStore } from '../store/index.js';
import type { DetectStreamConfig } from './detect-stream-config.js';
import type { DeviceDirectory } from './device-directory.js';
import type { FindingService } from './finding-service.js';
import { KeptBaselines } from './kept-baselines.js';
import type { TalkerInventory } from './talker-inventory.js';
import { impersonationFinding, TopicIdentity } from './topic-identity.js';

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
  /** Records refused because a registered Device's topic carried them in another sender's name (topic-identity.ts). */
  readonly impersonations: number;
  readonly failures: number;
  /** Devices with baselines, those refused one (the set full), device classes with a pooled network baseline, and vital-sign baselines started afresh because a device was given to another patient. */
  readonly devices: { readonly baselines: number; readonly refused: number; readonly classes: number; readonly reassigned: number };
  /** Device baselines kept between runs (kept-baselines.ts): restored, written, refused. */
  readonly kept: { readonly restored: number; readonly saved: number; readonly refused: number };
  /** Registered Devices watched for silence, those silent now, and those refused because the set was full. */
  readonly silence: { readonly watched: number; readonly silent: number; readonly refused: number };
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
  #impersonations = 0;
  #failures = 0;
  readonly #identity: TopicIdentity | undefined;
  readonly #silence: SilenceWatch;
  #silenceTimer: NodeJS.Timeout | undefined;
  readonly #kept: KeptBaselines | undefined;
  #onError: (e: unknown) => void = () => undefined;

  constructor(private readonly deps: DetectStreamDeps) {
    this.#scorer = new TelemetryScorer(deps.scoring);
    this.#arrivals = new ArrivalRates(deps.arrivals);
    this.#identity = deps.config.deviceLevel === undefined ? undefined : new TopicIdentity(deps.devices, deps.config.deviceLevel);
    this.#silence = new SilenceWatch({ silenceMs: deps.config.silenceSeconds * 1000 });
    const failed = (e: unknown): void => {
      this.#failures += 1;
      this.#onError(e);
    };
    this.#kept = deps.baselines === undefined ? undefined : new KeptBaselines(this.#scorer, { store: deps.baselines, clock: deps.clock, failed, ...(deps.keepEveryMs === undefined ? {} : { keepEveryMs: deps.keepEveryMs }), ...(deps.scoring?.windowMs === undefined ? {} : { windowMs: deps.scoring.windowMs }) });
  }

  /** Connects the bus, starts the scorers, then subscribes to the broker; `stream-unavailable` if a broker is unreachable. */
  async start(onError: (e: unknown) => void = () => undefined): Promise<void> {
    this.#onError = onError;
    const { config, clock, random } = this.deps;
    const bus: TelemetryBus = config.nats === undefined ? new InProcessBus({ clock }) : await NatsTelemetryBus.open({ ...config.nats, clock });
    this.#bus = bus;
    try {
      const kept = this.#kept;
      const hooks = kept === undefined ? {} : { releasing: (k: number, n: number) => kept.releasing(k, n), lost: (k: number, n: number) => kept.lost(k, n) };
      for (let i = 0; i < config.scorers; i++) this.#consumers.push(await bus.consume((r) => this.#score(r), hooks));
      const mqtt = { url: config.mqttUrl, topic: config.topic, clock, random, ...(config.mqttTls === undefined ? {} : { tls: config.mqttTls }), ...config.mqttAuth };
      this.#source = await openMqttTelemetry(mqtt, async (r, topic) => {
        const bound = await this.#admit(r, topic);
        await this.#arrived(r, bound);
        await this.#heard(r, bound);
        if ((await bus.publish(r)) === 'duplicate') this.#duplicates += 1;
      });
    } catch (e) {
      await this.close();
      throw e;
    }
    // A quarter of the silence allowed between looks (at most 30 s, at least 250 ms): a silence is raised at most that late.
    this.#silenceTimer = setInterval(() => void this.checkSilence(), Math.max(250, Math.min(30_000, this.#silence.silenceMs / 4)));
    this.#silenceTimer.unref();
  }

  /** Notes when a registered Device was last heard (where messages arrive, on the vault's clock). */
  async #heard(r: TelemetryRecord, bound: string | undefined): Promise<void> {
    const device = bound ?? (await this.deps.devices.deviceOf(r.endpoints));
    if (device !== undefined) this.#silence.heard(device, this.deps.clock.now());
  }

  /**
   * Raises a `silence` finding for each registered Device that has sent nothing for the
   * configured time (once per silence; `high` for a Device attached to a patient, whose
   * monitor has gone quiet); the stream calls it on a timer. The findings raised.
   */
  async checkSilence(): Promise<number> {
    let raised = 0;
    for (const d of this.#silence.silent(this.deps.clock.now())) {
      try {
        // A Device retired (entered-in-error) or removed meanwhile is not missed: no longer watched.
        if (!(await this.deps.devices.known(d.device))) {
          this.#silence.forget(d.device);
          continue;
        }
        const attached = (await this.deps.devices.patientOf(d.device)) !== undefined;
        await this.deps.findings.raise(attached ? { ...d, severity: 'high' } : d);
        this.#findings += 1;
        raised += 1;
      } catch (e) {
        this.#failures += 1;
        this.#onError(e);
      }
    }
    return raised;
  }

  /** The device that sent `r`: a stored Device, else its unknown-talker entry (noted as sighted when `sighted`). */
  async #deviceOf(r: TelemetryRecord, sighted: boolean): Promise<string> {
    const device = await this.deps.devices.deviceOf(r.endpoints);
    if (device !== undefined) return device;
    const key = senderKey(r.endpoints)!; // the parser insists on SrcAddr or SrcMac
    if (sighted) await this.deps.inventory.sighted(key, r.endpoints, r.timeMs);
    return `talker:${key}`;
  }

  /** With topics bound to devices: refuses (RecordRefused) a record whose sender is not its topic's Device, raising the impersonation it reveals. */
  async #admit(r: TelemetryRecord, topic: string): Promise<string | undefined> {
    if (this.#identity === undefined) return undefined;
    const a = await this.#identity.admit(topic, r);
    if (a.admitted) return a.device;
    if (a.impersonation !== undefined) {
      this.#impersonations += 1;
      try {
        await this.deps.findings.raise(impersonationFinding(a.impersonation, this.deps.clock.now()));
        this.#findings += 1;
      } catch (e) {
        this.#failures += 1;
        this.#onError(e);
      }
    }
    throw new RecordRefused(a.reason);
  }

  /**
   * Counts the arrival of `r` on the vault's clock, and raises the flood it reveals: by the
   * Device its topic is bound to, else by its sender's address (MAC, else IP), which a
   * publisher chooses.
   */
  async #arrived(r: TelemetryRecord, bound: string | undefined): Promise<void> {
    const flood = this.#arrivals.observe(bound ?? senderKey(r.endpoints)!, this.deps.clock.now());
    if (flood === undefined) return;
    try {
      await this.deps.findings.raise({ ...flood, device: bound ?? (await this.#deviceOf(r, false)) });
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
      await this.#kept?.restore(device);
      const [deviceClass, patient] = await Promise.all([this.deps.devices.classOf(device), this.deps.devices.patientOf(device)]);
      const drafts = this.#scorer.score(device, r, { deviceClass, patient });
      this.#kept?.learned(device, senderKey(r.endpoints)!);
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
   * Forgets, in this process, the baselines of `devices` and of every device whose
   * vital-sign baseline holds `patient`'s readings (the patient was erased); resolves
   * once no keep can write them back. The devices forgotten, so that the caller deletes
   * their kept snapshots.
   */
  async forgetPatient(patient: string, devices: readonly string[]): Promise<string[]> {
    const all = [...new Set([...devices, ...this.#scorer.devicesOf(patient)])];
    if (this.#kept === undefined) for (const d of all) this.#scorer.forget(d);
    else await this.#kept.forget(all);
    return all;
  }

  /**
   * What guards each device this process scores (telemetry-scorer.ts `states`), in device
   * order, a page of at most `limit` after `after`. With a NATS bus, the devices of the
   * partitions this process holds.
   */
  async deviceStates(q: { readonly after?: string; readonly limit: number }): Promise<DeviceState[]> {
    const keys = this.#scorer.deviceKeys().filter((d) => q.after === undefined || d > q.after).sort().slice(0, q.limit);
    const classes = new Map<string, string | undefined>();
    for (const d of keys) classes.set(d, d.startsWith('Device/') ? await this.deps.devices.classOf(d) : undefined);
    const wanted = new Set(keys);
    return this.#scorer.states((d) => classes.get(d)).filter((s) => wanted.has(s.device)).sort((a, b) => (a.device < b.device ? -1 : 1));
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
      impersonations: this.#impersonations,
      failures: this.#failures,
      devices: this.#scorer.devices,
      kept: this.#kept?.report() ?? { restored: 0, saved: 0, refused: 0 },
      arrivals: this.#arrivals.devices,
      silence: this.#silence.devices,
      unknownTalkersRefused: this.deps.inventory.refused,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#silenceTimer);
    this.#silenceTimer = undefined;
    await this.#source?.close().catch(() => undefined);
    for (const c of this.#consumers) await c.stop().catch(() => undefined);
    await this.#bus?.close().catch(() => undefined);
    await this.deps.inventory.flush().catch(() => undefined);
    await this.#kept?.settled();
    await this.#kept?.keep().catch((e) => this.#onError(e));
    this.#source = undefined;
    this.#consumers = [];
    this.#bus = undefined;
  }
}
