/**
 * What the partitioned bus finds on the server (ingest/nats-bus-topology.ts), against a real
 * nats-server: nothing queued is dropped by a change of layout.
 * - a stream of the unpartitioned bus (the bare subject, one shared durable) that still
 *   holds records is refused with what to do; an empty one is converted and then works;
 * - lowering the partition count is refused while a partition beyond it holds records,
 *   and done (its consumer removed) once it is empty;
 * - an existing lease bucket keeps its lease time.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { partitionOf, senderKey, type TelemetryRecord } from '../../src/detect/index.js';
import { NatsTelemetryBus, parseTelemetryMessage, type NatsBusOptions } from '../../src/ingest/index.js';
import { CustodiaError, systemClock } from '../../src/kernel/index.js';
import { NATS_URL, natsSuite } from '../helpers/brokers.js';
import { removeTelemetryStreams } from '../helpers/nats-streams.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';

const record = (i: number): TelemetryRecord =>
  parseTelemetryMessage(encode(normalMessage({ mac: `02:00:00:00:20:${i.toString(16).padStart(2, '0')}`, addr: `10.0.2.${i + 1}` }, jitter(i), { FlowId: `topo-${i}`, ts: 1_764_000_000_000 + i })), { position: { topic: 't', sequence: 1 }, fallbackId: 'x', receivedMs: 0 });

describe.skipIf(NATS_URL === undefined)(natsSuite('the telemetry bus’s layout on the server'), () => {
  const streams: string[] = [];
  let nc: NatsConnection;
  const names = () => {
    const tag = randomBytes(4).toString('hex');
    streams.push(`CUSTODIA_TEST_${tag}`);
    return { stream: `CUSTODIA_TEST_${tag}`, subject: `custodia.test.${tag}.flows` };
  };
  const options = (n: { stream: string; subject: string }, partitions: number): NatsBusOptions => ({ url: NATS_URL!, ...n, durable: 'scorers', partitions, ackWaitMs: 1_000, leaseMs: 1_500, clock: systemClock });
  const refusal = async (p: Promise<unknown>): Promise<CustodiaError> => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(CustodiaError);
    expect((e as CustodiaError).code).toBe('stream-unavailable');
    return e as CustodiaError;
  };
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL! });
  });
  afterAll(async () => {
    await nc.close();
    await removeTelemetryStreams(streams);
  });

  it('refuses a stream of the unpartitioned bus that holds records, and converts an empty one', async () => {
    const jsm = await jetstreamManager(nc);
    const n = names();
    // The layout before 2026-12-02: the bare subject, one durable for every scorer.
    await jsm.streams.add({ name: n.stream, subjects: [n.subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    await jsm.consumers.add(n.stream, { durable_name: 'scorers', ack_policy: AckPolicy.Explicit });
    await jetstream(nc).publish(n.subject, Buffer.from('{}'));
    const e = await refusal(NatsTelemetryBus.open(options(n, 4)));
    expect(e.message).toContain(`holds 1 telemetry records published before the bus was partitioned`);
    expect((await jsm.streams.info(n.stream)).state.messages).toBe(1); // untouched

    // Once the old scorers have emptied it, it is converted.
    await jsm.streams.purge(n.stream);
    const bus = await NatsTelemetryBus.open(options(n, 4));
    const info = await jsm.streams.info(n.stream);
    expect(info.config.subjects).toEqual([`${n.subject}.*`]);
    const consumers: string[] = [];
    for await (const c of jsm.consumers.list(n.stream)) consumers.push(`${c.name}:${c.config.filter_subject}`);
    expect(consumers.sort()).toEqual([0, 1, 2, 3].map((k) => `scorers-${k}:${n.subject}.${k}`));
    const got: string[] = [];
    const c = await bus.consume(async (r) => void got.push(r.id));
    await bus.publish(record(1));
    const end = Date.now() + 10_000;
    while (got.length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['topo-1']);
    await c.stop();
    await bus.close();
  }, 30_000);

  it('lowers the partition count only when the partitions it drops are empty', async () => {
    const n = names();
    const bus = await NatsTelemetryBus.open(options(n, 8));
    // Records land on partitions 0–7; find one on a partition of 4 or more.
    let high: TelemetryRecord | undefined;
    for (let i = 0; high === undefined; i++) {
      const r = record(i);
      if (partitionOf(senderKey(r.endpoints)!, 8) >= 4) high = r;
    }
    await bus.publish(high);
    const e = await refusal(NatsTelemetryBus.open(options(n, 4)));
    expect(e.message).toMatch(/^Partition [4-7] of the telemetry bus still holds 1 records, and only 4 partitions are configured: start with --detect-partitions [5-8] or more/);

    // Scored (by a scorer of the 8-partition layout), the partition is empty: the count can go down.
    const got: string[] = [];
    const c = await bus.consume(async (r) => void got.push(r.id));
    const end = Date.now() + 10_000;
    while (got.length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([high.id]);
    await c.stop();
    await bus.close();
    const lower = await NatsTelemetryBus.open(options(n, 4));
    const jsm = await jetstreamManager(nc);
    const left: string[] = [];
    for await (const x of jsm.consumers.list(n.stream)) left.push(x.name);
    expect(left.sort()).toEqual(['scorers-0', 'scorers-1', 'scorers-2', 'scorers-3']);
    await lower.close();
  }, 30_000);
});
