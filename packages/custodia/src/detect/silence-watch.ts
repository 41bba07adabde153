/**
 * Devices that fall silent (issue 6 §2, §4). A registered monitor or pump that stops
 * sending telemetry is unplugged, failed, or cut off: a jammed ward network, a flooded
 * gateway, or an attacker who would rather the device said nothing at all than say
 * something the baselines would catch. None of the per-message checks can see a message
 * that never comes, so this watch keeps when each device was last heard (on the vault's
 * clock, never the device's) and, once one has been silent for `silenceMs`, hands back
 * one draft for that silence; the device is raised again only after it has been heard
 * again and fallen silent again.
 *
 * Bounded: at most `maxDevices` devices are watched; beyond, new ones are refused and
 * counted (callers watch registered Devices only, so the bound is the inventory's size,
 * not the traffic's). Pure: time comes from the caller.
 */
import type { FindingDraft } from './finding.js';

export interface SilenceWatchOptions {
  /** How long a device may say nothing before it counts as silent (ms). */
  readonly silenceMs: number;
  /** The most devices watched (default 10,000). */
  readonly maxDevices?: number;
}

/** The feature a silence finding names: how long the device has said nothing. */
export const SILENCE_FEATURE = 'seconds_silent';

export class SilenceWatch {
  readonly silenceMs: number;
  readonly #maxDevices: number;
  readonly #lastHeard = new Map<string, number>();
  /** Devices whose present silence was already handed back. */
  readonly #raised = new Set<string>();
  #refused = 0;

  constructor(options: SilenceWatchOptions) {
    if (!Number.isSafeInteger(options.silenceMs) || options.silenceMs < 1) throw new RangeError('silenceMs must be a positive whole number of milliseconds');
    this.silenceMs = options.silenceMs;
    this.#maxDevices = options.maxDevices ?? 10_000;
  }

  /** Notes that `device` was heard at `nowMs` (the vault's clock); a device heard again may be raised again later. */
  heard(device: string, nowMs: number): void {
    const last = this.#lastHeard.get(device);
    if (last === undefined && this.#lastHeard.size >= this.#maxDevices) {
      this.#refused += 1;
      return;
    }
    this.#lastHeard.set(device, Math.max(last ?? nowMs, nowMs));
    this.#raised.delete(device);
  }

  /**
   * The devices silent for `silenceMs` or more at `nowMs` and not yet raised for this
   * silence, as drafts (severity `medium`; the caller may raise it), each once.
   *
   * @example
   *   for (const d of watch.silent(clock.now())) await findings.raise(d);
   */
  silent(nowMs: number): FindingDraft[] {
    const out: FindingDraft[] = [];
    for (const [device, last] of this.#lastHeard) {
      const quiet = nowMs - last;
      if (quiet < this.silenceMs || this.#raised.has(device)) continue;
      this.#raised.add(device);
      const seconds = Math.floor(quiet / 1000);
      out.push({
        device,
        severity: 'medium',
        start: last,
        end: nowMs,
        summary: `No telemetry for ${seconds} s (expected within ${Math.round(this.silenceMs / 1000)} s): unplugged, failed, or its traffic blocked`,
        explanation: { detector: 'silence', score: seconds, threshold: Math.round(this.silenceMs / 1000), features: [{ feature: SILENCE_FEATURE, value: seconds }] },
      });
    }
    return out;
  }

  /** Stops watching `device` (its partition moved to another scorer, or it was decommissioned). */
  forget(device: string): void {
    this.#lastHeard.delete(device);
    this.#raised.delete(device);
  }

  /** Devices watched, silent now (raised and not heard since), and refused because the set was full. */
  get devices(): { readonly watched: number; readonly silent: number; readonly refused: number } {
    return { watched: this.#lastHeard.size, silent: this.#raised.size, refused: this.#refused };
  }
}
