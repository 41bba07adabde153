/**
 * What the telemetry bus needs on the NATS server (JetStream docs: "Streams",
 * "Consumers", "Key/Value Store"), created when missing and checked when present:
 *
 * - a stream on `<subject>.*` with **work-queue retention** (a message is removed once
 *   acknowledged) and a 2-minute duplicate window (Nats-Msg-Id = the flow id);
 * - one **durable pull consumer per partition**, `<durable>-<k>` filtered on
 *   `<subject>.<k>`, with explicit acks. A work-queue stream lets several consumers in
 *   only when their filters do not overlap, which these do not;
 * - a key/value bucket `<stream>-scorers` whose entries live for the lease time (the
 *   bucket's max age): the scorers' heartbeats and their partition leases
 *   (nats-partition-leases.ts).
 *
 * Nothing queued is ever dropped here:
 * - a stream of the unpartitioned bus (before 2026-12-02: the subject itself, one shared
 *   durable) is converted only when it is empty, and refused otherwise;
 * - a partition beyond the configured count (the count was lowered) has its consumer
 *   removed only when nothing is pending on it, and is refused otherwise.
 */
import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { CustodiaError } from '../kernel/index.js';

export interface BusTopology {
  readonly stream: string;
  /** The base subject; partition k is `<subject>.<k>`. */
  readonly subject: string;
  /** The base name of the partitions' durable consumers. */
  readonly durable: string;
  readonly partitions: number;
  /** How long a taken, unacknowledged message waits before redelivery. */
  readonly ackWaitMs: number;
  /** The lease time, used when the bucket is created (an existing bucket keeps its own). */
  readonly leaseMs: number;
}

const NS_PER_MS = 1_000_000;
const DUPLICATE_WINDOW_MS = 2 * 60_000;

export const partitionSubject = (subject: string, k: number): string => `${subject}.${k}`;
export const partitionDurable = (durable: string, k: number): string => `${durable}-${k}`;
export const leaseBucket = (stream: string): string => `${stream}-scorers`;

/** The partition a consumer is filtered on, or undefined for a consumer of something else (the unpartitioned bus's, or an operator's). */
function partitionOfConsumer(c: ConsumerInfo, t: BusTopology): number | undefined {
  const filter = c.config.filter_subject ?? '';
  const prefix = `${t.subject}.`;
  if (!filter.startsWith(prefix)) return undefined;
  const k = filter.slice(prefix.length);
  return /^(0|[1-9]\d{0,3})$/.test(k) ? Number(k) : undefined;
}

async function listConsumers(jsm: JetStreamManager, stream: string): Promise<ConsumerInfo[]> {
  const all: ConsumerInfo[] = [];
  for await (const c of jsm.consumers.list(stream)) all.push(c);
  return all;
}

async function ensureStream(jsm: JetStreamManager, t: BusTopology): Promise<void> {
  const wildcard = `${t.subject}.*`;
  const info = await jsm.streams.info(t.stream).catch(() => undefined);
  if (info === undefined) {
    await jsm.streams.add({ name: t.stream, subjects: [wildcard], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS });
    return;
  }
  if (info.config.subjects?.includes(wildcard) === true) return;
  // A stream of the unpartitioned bus: its records sit on the bare subject, for one shared durable.
  if (info.state.messages > 0) {
    throw new CustodiaError('stream-unavailable', `The JetStream stream ${t.stream} holds ${info.state.messages} telemetry records published before the bus was partitioned by device. Let the previous version of the vault score them (its scorers empty the stream), or delete the stream with \`nats stream rm ${t.stream}\` to discard them; then start again`);
  }
  for (const c of await listConsumers(jsm, t.stream)) if (partitionOfConsumer(c, t) === undefined) await jsm.consumers.delete(t.stream, c.name);
  await jsm.streams.update(t.stream, { ...info.config, subjects: [wildcard] });
}

async function ensureConsumers(jsm: JetStreamManager, t: BusTopology): Promise<void> {
  const present = new Set<number>();
  for (const c of await listConsumers(jsm, t.stream)) {
    const k = partitionOfConsumer(c, t);
    if (k === undefined) continue;
    if (k < t.partitions) {
      present.add(k);
      continue;
    }
    const waiting = c.num_pending + c.num_ack_pending;
    if (waiting > 0) {
      throw new CustodiaError('stream-unavailable', `Partition ${k} of the telemetry bus still holds ${waiting} records, and only ${t.partitions} partitions are configured: start with --detect-partitions ${k + 1} or more until it is empty, then lower it`);
    }
    await jsm.consumers.delete(t.stream, c.name);
  }
  for (let k = 0; k < t.partitions; k++) {
    if (present.has(k)) continue;
    const name = partitionDurable(t.durable, k);
    try {
      await jsm.consumers.add(t.stream, { durable_name: name, filter_subject: partitionSubject(t.subject, k), ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: t.ackWaitMs * NS_PER_MS, max_ack_pending: 10_000 });
    } catch (e) {
      // Another vault starting at the same time may have created it first.
      await jsm.consumers.info(t.stream, name).catch(() => Promise.reject(e));
    }
  }
}

/** Creates what is missing, checks what is there, and returns the lease bucket. */
export async function ensureTopology(nc: NatsConnection, t: BusTopology): Promise<KV> {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, t);
  await ensureConsumers(jsm, t);
  const kvm = new Kvm(nc);
  return kvm.create(leaseBucket(t.stream), { ttl: t.leaseMs, history: 1 }).catch(() => kvm.open(leaseBucket(t.stream)));
}
