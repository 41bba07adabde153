/**
 * The default {@link TelemetryBus}: a queue in this process. Consumers take records in
 * turn; a record whose handler rejects, or that a stopped consumer held, goes back to the
 * front of the queue for another consumer. A publish of a flow id still queued or in
 * flight is dropped (the same deduplication JetStream gives). The queue is bounded:
 * beyond `capacity`, publish rejects, so a flood slows ingestion rather than memory.
 */
import { CustodiaError } from '../kernel/index.js';
import type { BusConsumer, TelemetryBus, TelemetryHandler } from './telemetry-bus.js';
import type { TelemetryRecord, TelemetryReport } from './telemetry-record.js';

interface Waiter {
  readonly resolve: (r: TelemetryRecord | undefined) => void;
}

export class InProcessBus implements TelemetryBus {
  readonly #queue: TelemetryRecord[] = [];
  readonly #pending = new Set<string>();
  readonly #waiters: Waiter[] = [];
  #closed = false;

  constructor(readonly capacity = 100_000) {}

  async publish(record: TelemetryRecord): Promise<void> {
    if (this.#closed) throw new CustodiaError('stream-unavailable', 'The in-process bus is closed');
    if (this.#pending.has(record.id)) return;
    if (this.#queue.length >= this.capacity) throw new CustodiaError('stream-unavailable', 'The in-process bus is full: the scorers are behind');
    this.#pending.add(record.id);
    this.#offer(record, false);
  }

  #offer(record: TelemetryRecord, front: boolean): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w.resolve(record);
    else if (front) this.#queue.unshift(record);
    else this.#queue.push(record);
  }

  #take(): Promise<TelemetryRecord | undefined> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push({ resolve }));
  }

  async consume(handler: TelemetryHandler): Promise<BusConsumer> {
    let stopped = false;
    let received = 0;
    let records = 0;
    let wake: (() => void) | undefined;
    const stoppedSignal = new Promise<undefined>((resolve) => (wake = () => resolve(undefined)));
    const loop = async (): Promise<void> => {
      for (;;) {
        const taking = this.#take();
        const r = await Promise.race([taking, stoppedSignal]);
        if (r === undefined) {
          // Stopped while waiting: a record handed to this consumer afterwards goes back.
          void taking.then((late) => late !== undefined && this.#offer(late, true));
          return;
        }
        received += 1;
        try {
          await handler(r);
          records += 1;
          this.#pending.delete(r.id);
        } catch {
          this.#offer(r, true); // redelivered to whoever takes next
        }
        if (stopped) return;
      }
    };
    const done = loop();
    return {
      stop: async () => {
        stopped = true;
        wake?.();
        await done;
      },
      report: (): TelemetryReport => ({ received, records, badRecords: 0, firstBad: [], dropped: 0 }),
      done,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.resolve(undefined);
  }
}
