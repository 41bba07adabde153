/**
 * The default {@link TelemetryBus}: a queue in this process. Consumers take records in
 * turn; a record whose handler rejects, or that a stopped consumer held, goes back to the
 * front of the queue for another consumer. A publish of a flow id published within the
 * last `duplicateWindowMs` (default 2 minutes, JetStream's duplicate window as the NATS
 * adapter sets it) is dropped and reported as a duplicate; the ids remembered for that
 * are bounded (`maxRememberedIds`, oldest forgotten first). The queue is bounded: beyond
 * `capacity`, publish rejects, so a flood slows ingestion rather than memory.
 */
import { CustodiaError, type Clock } from '../kernel/index.js';
import type { BusConsumer, PublishOutcome, TelemetryBus, TelemetryHandler } from './telemetry-bus.js';
import type { TelemetryRecord, TelemetryReport } from './telemetry-record.js';

export interface InProcessBusOptions {
  /** Records queued at most (default 100,000). */
  readonly capacity?: number;
  /** The clock the duplicate window runs on. */
  readonly clock: Clock;
  /** How long a flow id is remembered (default 120,000 ms). */
  readonly duplicateWindowMs?: number;
  /** Flow ids remembered at most (default 100,000). */
  readonly maxRememberedIds?: number;
}

interface Waiter {
  readonly resolve: (r: TelemetryRecord | undefined) => void;
}

export class InProcessBus implements TelemetryBus {
  readonly #queue: TelemetryRecord[] = [];
  /** Flow ids published, with when each is forgotten, oldest first. */
  readonly #recent = new Map<string, number>();
  readonly #waiters: Waiter[] = [];
  readonly capacity: number;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #maxIds: number;
  #closed = false;

  constructor(options: InProcessBusOptions) {
    this.capacity = options.capacity ?? 100_000;
    this.#clock = options.clock;
    this.#windowMs = options.duplicateWindowMs ?? 120_000;
    this.#maxIds = options.maxRememberedIds ?? 100_000;
  }

  async publish(record: TelemetryRecord): Promise<PublishOutcome> {
    if (this.#closed) throw new CustodiaError('stream-unavailable', 'The in-process bus is closed');
    const now = this.#clock.now();
    for (const [id, until] of this.#recent) {
      if (until > now && this.#recent.size < this.#maxIds) break;
      this.#recent.delete(id);
    }
    if (this.#recent.has(record.id)) return 'duplicate';
    if (this.#queue.length >= this.capacity) throw new CustodiaError('stream-unavailable', 'The in-process bus is full: the scorers are behind');
    this.#recent.set(record.id, now + this.#windowMs);
    this.#offer(record, false);
    return 'held';
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
