/**
 * The TelemetryBus over NATS JetStream (issue 6 §1: "several scorers can share a
 * subject"), **partitioned by device** so that each device's records are scored in one
 * place and its baseline learns from all of them (issue 6 §2). JetStream docs: "Streams"
 * (WorkQueue retention), "Consumers" (durable pull consumers, AckExplicit, AckWait,
 * redelivery), "Key/Value Store", "Model deep dive" (message deduplication by
 * Nats-Msg-Id within the duplicate window).
 *
 * - publish: one message per record on `<subject>.<k>`, k the partition of the record's
 *   sender (its MAC, else its IP: detect/telemetry-partition.ts), the record in the
 *   WUSTL-EHMS message format (wustl-message.ts), with Nats-Msg-Id = the flow id, so a
 *   repeated publish of a flow within the duplicate window is stored once.
 * - the server holds a work-queue stream, a durable consumer per partition and a bucket
 *   of leases (nats-bus-topology.ts).
 * - consume: each consumer is a scorer with a connection of its own, as a separate scorer
 *   process would have. The scorers divide the partitions among themselves by leases
 *   (nats-partition-leases.ts): a partition is consumed by one scorer at a time; one that
 *   stops hands its partitions back at once, and those of one that dies are taken over
 *   when their leases expire (the lease time, 15 s by default), with the messages it had
 *   taken and not acknowledged redelivered after AckWait. At most as many scorers as there
 *   are partitions do work; the others stand by.
 * - transport: with `tls` the client insists on TLS and verifies the server's certificate
 *   (against `tls.ca` when given, else the system roots), presenting a client certificate
 *   when given; `auth` is a .creds file (JWT + nkey), a token or a user and password, given
 *   to the library's authenticators. A refused connection is `stream-unavailable`.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_PARTITIONS, partitionOf, senderKey, type BusConsumer, type ConsumerHooks, type PublishOutcome, type TelemetryBus, type TelemetryHandler, type TelemetryRecord } from '../detect/index.js';
import { CustodiaError, type Clock } from '../kernel/index.js';
import { ensureTopology, leaseBucket, partitionSubject, type BusTopology } from './nats-bus-topology.js';
import { openNatsConnection, type NatsConnectionOptions } from './nats-connection.js';
import { PartitionConsumer } from './nats-partition-consumer.js';
import { formatTelemetryMessage } from './wustl-message.js';

export interface NatsBusOptions extends NatsConnectionOptions {
  readonly stream: string;
  /** The base subject: partition k is `<subject>.<k>`. */
  readonly subject: string;
  /** The base name of the partitions' durable consumers. */
  readonly durable: string;
  /** Partitions of the subject (default {@link DEFAULT_PARTITIONS}): the most scorers that can work at once. */
  readonly partitions?: number;
  /** How long a scorer's lease on a partition lasts without renewal, for a new lease bucket (default 15 s). */
  readonly leaseMs?: number;
  /** How long a taken, unacknowledged message waits before redelivery (default 30 s). */
  readonly ackWaitMs?: number;
  /** Messages each consumer pulls at a time from a partition (default 64). */
  readonly prefetch?: number;
  readonly clock: Clock;
}

export const DEFAULT_LEASE_MS = 15_000;

export class NatsTelemetryBus implements TelemetryBus {
  readonly #connections = new Set<NatsConnection>();
  readonly #consumers = new Set<PartitionConsumer>();

  private constructor(
    private readonly options: NatsBusOptions,
    private readonly topology: BusTopology,
    publisher: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly leaseMs: number,
  ) {
    this.#connections.add(publisher);
  }

  /** Connects, and creates the stream, the partitions' consumers and the lease bucket when missing. */
  static async open(options: NatsBusOptions): Promise<NatsTelemetryBus> {
    const nc = await openNatsConnection(options);
    const topology: BusTopology = { stream: options.stream, subject: options.subject, durable: options.durable, partitions: options.partitions ?? DEFAULT_PARTITIONS, ackWaitMs: options.ackWaitMs ?? 30_000, leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS };
    let leaseMs: number;
    try {
      const kv = await ensureTopology(nc, topology);
      // An existing bucket keeps the lease time it was made with; every scorer follows it.
      leaseMs = (await kv.status()).ttl;
    } catch (e) {
      await nc.close();
      if (e instanceof CustodiaError) throw e;
      throw new CustodiaError('stream-unavailable', 'JetStream is not available on the NATS server', { cause: e });
    }
    return new NatsTelemetryBus(options, topology, nc, jetstream(nc), leaseMs);
  }

  async publish(record: TelemetryRecord): Promise<PublishOutcome> {
    const k = partitionOf(senderKey(record.endpoints) ?? record.id, this.topology.partitions);
    // JetStream's publish acknowledgement says whether the stream already held this Nats-Msg-Id (within its duplicate window).
    const ack = await this.js.publish(partitionSubject(this.options.subject, k), formatTelemetryMessage(record), { msgID: record.id });
    return ack.duplicate ? 'duplicate' : 'held';
  }

  /** A scorer on a connection of its own; it resolves once it has taken its first share of the partitions. */
  async consume(handler: TelemetryHandler, hooks: ConsumerHooks = {}): Promise<BusConsumer> {
    const o = this.options;
    const nc = await openNatsConnection(o);
    this.#connections.add(nc);
    void nc.closed().then(() => this.#connections.delete(nc));
    const kv = await new Kvm(nc).open(leaseBucket(o.stream)).catch(async (e: unknown) => {
      await nc.close();
      throw new CustodiaError('stream-unavailable', 'The lease bucket of the telemetry bus cannot be opened', { cause: e });
    });
    const consumer = new PartitionConsumer(nc, jetstream(nc), kv, { stream: o.stream, durable: o.durable, partitions: this.topology.partitions, leaseMs: this.leaseMs, prefetch: o.prefetch ?? 64, member: randomUUID(), clock: o.clock }, handler, hooks);
    this.#consumers.add(consumer);
    void consumer.done.then(() => this.#consumers.delete(consumer));
    await consumer.start();
    return consumer;
  }

  /** Stops the consumers (handing their partitions back), then drains the connections. */
  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.stop().catch(() => undefined)));
    await Promise.all([...this.#connections].map((nc) => nc.drain().catch(() => nc.close())));
  }
}
