/**
 * A long loop inside one request gives the event loop away once it has run for a slice.
 * The SQLite store answers synchronously, so a loop that only awaits the store never lets
 * another request in: its awaits resolve as microtasks, before any I/O. One accounting of
 * disclosures over 200,000 audit events held every other request back for 3 s, 16 at
 * once for 48 s (2026-12-01). `setImmediate` lets the poll phase run first: requests
 * waiting for the event loop are served, then the loop goes on.
 *
 * @example
 *   const turns = new GiveWay();
 *   for (const entry of entries) { await turns.ifDue(); work(entry); }
 */
export class GiveWay {
  #since = performance.now();

  constructor(private readonly sliceMs = 1) {}

  /** Resolves at once while the slice lasts; once it is spent, after the event loop has had a turn. */
  async ifDue(): Promise<void> {
    if (performance.now() - this.#since < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#since = performance.now();
  }
}
