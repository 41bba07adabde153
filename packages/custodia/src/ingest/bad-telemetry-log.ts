/**
 * The running count of a telemetry source or consumer: messages received, records
 * handed on, bad messages (the first 20 kept with topic, sequence and reason) and
 * messages dropped for lack of room. A bad message is counted, never fatal.
 */
import type { BadTelemetry, TelemetryReport } from '../detect/index.js';
import { excerpt } from './record-refused.js';

const FIRST_BAD = 20;

export class TelemetryTally {
  received = 0;
  records = 0;
  dropped = 0;
  #bad = 0;
  readonly #firstBad: BadTelemetry[] = [];

  /** Counts a refused message; the topic is attacker-chosen too, so it is excerpted. */
  bad(topic: string, sequence: number, reason: string): void {
    this.#bad += 1;
    if (this.#firstBad.length < FIRST_BAD) this.#firstBad.push({ topic: excerpt(topic), sequence, reason });
  }

  report(): TelemetryReport {
    return { received: this.received, records: this.records, badRecords: this.#bad, firstBad: [...this.#firstBad], dropped: this.dropped };
  }
}
