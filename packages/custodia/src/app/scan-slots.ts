/**
 * Long scans of the audit trail run a few at a time. An accounting of disclosures reads
 * every event about a patient in up to six years (45 CFR 164.528), about 16 µs of CPU
 * each: 3 s for 200,000. Its rate-limit charge (one request per 1,000 events) comes only
 * once it is done, so without this a caller's burst could start many at once. At most
 * one runs per caller and `total` in the process; one more is refused with
 * `rate-limited` (429, Retry-After), not queued, so nothing piles up behind them.
 */
import { CustodiaError } from '../kernel/index.js';

export class ScanSlots {
  readonly #busy = new Set<string>();

  constructor(private readonly total: number) {}

  /** Runs `scan` for the caller `key` if a slot is free, or throws `rate-limited`. */
  async run<T>(key: string, scan: () => Promise<T>): Promise<T> {
    if (this.#busy.has(key) || this.#busy.size >= this.total) {
      throw new CustodiaError('rate-limited', 'Another accounting of disclosures is being made; retry after the time in Retry-After', { retryAfterMs: 1000 });
    }
    this.#busy.add(key);
    try {
      return await scan();
    } finally {
      this.#busy.delete(key);
    }
  }
}
