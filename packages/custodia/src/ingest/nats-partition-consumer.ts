/**
 * One scorer on the partitioned telemetry bus (nats-telemetry-bus.ts): it holds leases on
 * some partitions (nats-partition-leases.ts) and, for each, pulls from that partition's
 * durable consumer and hands the records to its handler one at a time, in stream order.
 *
 * - The handler's success acks the message and waits for the server's confirmation
 *   (`ackAck`), so a counted record is one the server will not redeliver; a rejection naks
 *   it for redelivery a second later.
 * - A message taken while the scorer may not consume its partition (the lease is being
 *   handed back, was lost, or has not been renewed in time) is nak'd at once, for the
 *   partition's next holder. A message pulled and never answered (the scorer died) is
 *   redelivered once AckWait passes.
 * - What arrives is hostile (any client with publish rights on the subject can write
 *   there): each message is parsed by the same strict parser as MQTT, and a bad one is
 *   counted, reported (subject, stream sequence, reason) and terminated — never retried,
 *   never fatal. So is a record on a partition that is not its sender's: scored, it would
 *   give that device a second baseline in another scorer.
 */
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf, senderKey, type BusConsumer, type ConsumerHooks, type TelemetryHandler, type TelemetryReport } from '../detect/index.js';
import type { Clock } from '../kernel/index.js';
import { TelemetryTally } from './bad-telemetry-log.js';
import { partitionDurable } from './nats-bus-topology.js';
import { PartitionLeases } from './nats-partition-leases.js';
import { RecordRefused } from './record-refused.js';
import { parseTelemetryMessage } from './wustl-message.js';

export interface PartitionConsumerOptions {
  readonly stream: string;
  readonly durable: string;
  readonly partitions: number;
  readonly leaseMs: number;
  /** Messages pulled at a time from a partition. */
  readonly prefetch: number;
  readonly member: string;
  readonly clock: Clock;
}

/** How long a pull waits for messages on a quiet partition; also how long handing one back may take. */
const PULL_WAIT_MS = 1_000;
/** A pause after a pull that failed (the connection is re-establishing). */
const RETRY_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Partition {
  active: boolean;
  done: Promise<void>;
}

export class PartitionConsumer implements BusConsumer {
  readonly #partitions = new Map<number, Partition>();
  readonly #tally = new TelemetryTally();
  readonly #leases: PartitionLeases;
  readonly done: Promise<void>;
  #stopping = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    kv: KV,
    private readonly options: PartitionConsumerOptions,
    private readonly handler: TelemetryHandler,
    private readonly hooks: ConsumerHooks = {},
  ) {
    this.#leases = new PartitionLeases(kv, { partitions: options.partitions, member: options.member, leaseMs: options.leaseMs }, {
      acquired: (k) => this.#start(k),
      surrender: (k) => this.#surrender(k),
      lost: (k) => {
        void this.#halt(k);
        this.hooks.lost?.(k, options.partitions);
      },
    });
    // The connection closing (stop, the bus closing, or the server gone for good) ends the consumer; leases not handed back expire.
    this.done = nc.closed().then(async () => {
      this.#leases.abandon();
      await Promise.all([...this.#partitions.values()].map((p) => p.done));
    });
  }

  /** Takes the first leases (the first tick), then keeps them up to date. */
  async start(): Promise<void> {
    await this.#leases.start();
  }

  #start(k: number): void {
    const p: Partition = { active: true, done: Promise.resolve() };
    p.done = this.#run(k, p);
    this.#partitions.set(k, p);
  }

  /**
   * Stops partition k, then lets the owner write what the next holder starts from
   * (`releasing`) before the lease is handed back. A failing or slow hook never keeps the
   * partition from moving: it gets a third of the lease, so the other leases are still
   * renewed in time.
   */
  async #surrender(k: number): Promise<void> {
    await this.#halt(k);
    const releasing = this.hooks.releasing;
    if (releasing === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([releasing(k, this.options.partitions).catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, this.options.leaseMs / 3)))]);
    clearTimeout(timer);
  }

  async #halt(k: number): Promise<void> {
    const p = this.#partitions.get(k);
    if (p === undefined) return;
    p.active = false;
    this.#partitions.delete(k);
    await p.done;
  }

  async #run(k: number, p: Partition): Promise<void> {
    const consumer = await this.js.consumers.get(this.options.stream, partitionDurable(this.options.durable, k)).catch(() => undefined);
    if (consumer === undefined) return; // the connection is gone, or the topology was removed under us: the lease expires
    while (p.active && !this.nc.isClosed()) {
      if (!this.#leases.holds(k)) {
        await sleep(this.options.leaseMs / 6); // not renewed in time: wait for the next tick to renew or lose it
        continue;
      }
      let batch: ConsumerMessages;
      try {
        batch = await consumer.fetch({ max_messages: this.options.prefetch, expires: PULL_WAIT_MS });
      } catch {
        await sleep(RETRY_MS);
        continue;
      }
      try {
        for await (const m of batch) {
          if (!p.active || this.#stopping || !this.#leases.holds(k)) m.nak();
          else await this.#handle(m, k);
        }
      } catch {
        await sleep(RETRY_MS); // the pull ended in an error (the connection dropped): what was not acknowledged comes back
      }
    }
  }

  async #handle(m: JsMsg, k: number): Promise<void> {
    this.#tally.received += 1;
    const sequence = m.seq;
    let record;
    try {
      record = parseTelemetryMessage(m.data, { position: { topic: m.subject, sequence }, fallbackId: `${this.options.stream}-${sequence}`, receivedMs: this.options.clock.now() });
      // A record on another sender's partition (written there by hand: the vault's publisher
      // never does) would split that device's baseline between two scorers: refused.
      const home = partitionOf(senderKey(record.endpoints)!, this.options.partitions);
      if (home !== k) throw new RecordRefused(`sent on partition ${k}; its sender's partition is ${home}`);
    } catch (e) {
      if (!(e instanceof RecordRefused)) throw e;
      this.#tally.bad(m.subject, sequence, e.reason);
      // A bare +TERM: nats-server before 2.10 does not know `+TERM <reason>`, ignores it as
      // an acknowledgement and redelivers the message after AckWait, again and again. The
      // reason is in the consumer's own report.
      m.term();
      return;
    }
    try {
      await this.handler(record);
    } catch {
      m.nak(1_000); // redelivered after a second, not in a tight loop
      return;
    }
    await m.ackAck();
    this.#tally.records += 1;
  }

  report(): TelemetryReport {
    return { ...this.#tally.report(), partitions: this.#leases.held() };
  }

  /** Hands every partition back (each stopped after the message in hand, the rest of its pull nak'd for the next holder), then disconnects. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#leases.stop().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
    await this.done;
  }
}
