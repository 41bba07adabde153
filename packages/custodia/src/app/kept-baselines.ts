/**
 * The detection stream's device baselines kept between runs (issue 6 §2; docs/detect.md
 * "Kept between runs"), so that a restart, or a partition of the bus moving to another
 * vault sharing the database, does not send every device back to its learning period:
 *
 *   restore (before a device's first record here) → learned (after each record) →
 *   keep (every `keepEveryMs`, at close, and for a partition being handed over)
 *
 * Snapshots go to the vault's database (store/baseline-store.ts, sealed). What a process
 * that dies can lose is what its devices learned since the last keep.
 */
import { partitionOf, type TelemetryScorer } from '../detect/index.js';
import { isCustodiaError, type Clock } from '../kernel/index.js';
import type { BaselineStore } from '../store/index.js';

export interface KeptBaselinesOptions {
  readonly store: BaselineStore;
  readonly clock: Clock;
  /** How often the baselines that learned something are kept (default 30 s). */
  readonly keepEveryMs?: number;
  /** The scorer's baseline window: snapshots not kept for longer are deleted (default 1 hour, the scorer's). */
  readonly windowMs?: number;
  /** A keep that failed in the background (the database down). */
  readonly failed: (e: unknown) => void;
}

/**
 * Devices whose snapshots are written in one transaction (about 76 KB each at full
 * baselines). A snapshot is made, sealed and written on the event loop (about 1.6 ms a
 * device in `npm run bench`, `detect.baselines.keep`, on a slow machine), so a keep
 * yields to waiting requests between batches of about 13 ms rather than holding the loop
 * for every device at once.
 */
const KEEP_BATCH = 8;
const KEEP_EVERY_MS = 30_000;
const WINDOW_MS = 3_600_000;

export class KeptBaselines {
  /** Devices whose baselines learned since they were last kept. */
  readonly #unkept = new Set<string>();
  /** The sender (MAC, else IP) each device with baselines here was last scored from: which partition of the bus it is in. */
  readonly #senders = new Map<string, string>();
  readonly #restoring = new Map<string, Promise<void>>();
  readonly #counts = { restored: 0, saved: 0, refused: 0 };
  #lastKept: number;
  #keeping: Promise<void> | undefined;

  constructor(
    private readonly scorer: TelemetryScorer,
    private readonly options: KeptBaselinesOptions,
  ) {
    this.#lastKept = options.clock.now();
  }

  /**
   * Baselines taken back from the database, snapshots written to it, and kept snapshots
   * refused (they did not open for their device, or were not a snapshot of this version:
   * those devices learned afresh).
   */
  report(): { readonly restored: number; readonly saved: number; readonly refused: number } {
    return { ...this.#counts };
  }

  /**
   * Forgets these devices' baselines here (a patient whose vital signs they hold was
   * erased): not kept again, and the keep under way, if any, has ended when this
   * resolves, so that nothing writes them back after the caller deletes the rows.
   */
  async forget(devices: readonly string[]): Promise<void> {
    // A restore under way would put back what is forgotten here: let it end first.
    await Promise.all(devices.map((d) => this.#restoring.get(d)?.catch(() => undefined)));
    for (const d of devices) {
      this.scorer.forget(d);
      this.#unkept.delete(d);
      this.#senders.delete(d);
    }
    await this.settled();
  }

  /**
   * A device that has no baselines here takes back the ones kept, once (concurrent records
   * of it wait for the same read). Kept bytes that do not open for this device or are not
   * a snapshot of this version are counted, and the device learns afresh; the database
   * failing is the record's failure. Nothing is read while the scorer's set is full, so
   * invented talkers cost no reads.
   */
  async restore(device: string): Promise<void> {
    if (this.scorer.has(device) || this.scorer.full) return;
    let pending = this.#restoring.get(device);
    if (pending === undefined) {
      pending = (async () => {
        try {
          const bytes = await this.options.store.load(device);
          if (bytes !== undefined && !this.scorer.has(device) && this.scorer.restore(device, bytes)) this.#counts.restored += 1;
        } catch (e) {
          if (!(e instanceof RangeError) && !isCustodiaError(e, 'decrypt-failed')) throw e;
          this.#counts.refused += 1;
        } finally {
          this.#restoring.delete(device);
        }
      })();
      this.#restoring.set(device, pending);
    }
    await pending;
  }

  /** `device`'s baselines learned a record from `sender`; starts a keep in the background when one is due. */
  learned(device: string, sender: string): void {
    if (!this.scorer.has(device)) return; // refused baselines: the set is full
    this.#unkept.add(device);
    this.#senders.set(device, sender);
    if (this.#keeping !== undefined || this.options.clock.now() - this.#lastKept < (this.options.keepEveryMs ?? KEEP_EVERY_MS)) return;
    this.#keeping = this.keep()
      .catch((e) => this.options.failed(e))
      .finally(() => {
        this.#keeping = undefined;
      });
  }

  /** Writes every device that learned since it was last kept, and deletes the snapshots not kept within the window. */
  async keep(): Promise<void> {
    this.#lastKept = this.options.clock.now();
    const devices = [...this.#unkept];
    this.#unkept.clear();
    await this.#write(devices);
  }

  /** Settles once a keep under way has ended. */
  async settled(): Promise<void> {
    await this.#keeping;
  }

  /** In transactions of {@link KEEP_BATCH} devices; the devices of a batch that failed stay to be kept. */
  async #write(devices: readonly string[]): Promise<void> {
    const now = this.options.clock.now();
    const forgetBefore = now - (this.options.windowMs ?? WINDOW_MS);
    for (let i = 0; i === 0 || i < devices.length; i += KEEP_BATCH) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      const batch = devices.slice(i, i + KEEP_BATCH).flatMap((device) => {
        const snapshot = this.scorer.snapshot(device);
        return snapshot === undefined ? [] : [{ device, savedAt: now, snapshot }];
      });
      try {
        await this.options.store.keep(batch, forgetBefore);
      } catch (e) {
        for (const d of devices.slice(i)) this.#unkept.add(d);
        throw e;
      }
      this.#counts.saved += batch.length;
    }
  }

  /** The devices with baselines here whose sender is in partition k of n. */
  #devicesIn(k: number, n: number): string[] {
    return [...this.#senders].filter(([, sender]) => partitionOf(sender, n) === k).map(([device]) => device);
  }

  #forget(devices: readonly string[]): void {
    for (const d of devices) {
      this.scorer.forget(d);
      this.#senders.delete(d);
      this.#unkept.delete(d);
    }
  }

  /**
   * Partition k is moving to another scorer (this one has stopped taking its records): its
   * devices' baselines are written now, so that the next holder starts from them rather
   * than from the last periodic keep, and forgotten here, so that if the partition comes
   * back this scorer takes back what was kept meanwhile instead of carrying on from its own.
   */
  async releasing(k: number, n: number): Promise<void> {
    const devices = this.#devicesIn(k, n);
    const unkept = devices.filter((d) => this.#unkept.has(d));
    try {
      if (unkept.length > 0) await this.#write(unkept);
    } catch (e) {
      this.options.failed(e);
    } finally {
      this.#forget(devices);
    }
  }

  /** Partition k was lost without a hand-over: another scorer may be writing its devices' baselines already, so they are forgotten here, not written. */
  lost(k: number, n: number): void {
    this.#forget(this.#devicesIn(k, n));
  }
}
