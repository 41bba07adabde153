/**
 * The NATS JetStream bus (issue 6 acceptance: "A NATS JetStream test shares scoring
 * between two consumers without losing or duplicating flows"), against a real nats-server:
 * N flows published, two consumers on one durable pull consumer, the union of what they
 * acknowledged is exactly the N flow ids — also when one consumer stops half-way with
 * messages taken and not acknowledged, which the server then redelivers to the other.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { TelemetryRecord } from '../../src/detect/index.js';
import { NatsTelemetryBus, parseTelemetryMessage } from '../../src/ingest/index.js';
import { systemClock } from '../../src/kernel/index.js';
import { NATS_URL, natsSuite } from '../helpers/brokers.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';

const N = 400;

function flows(tag: string): TelemetryRecord[] {
  const rand = jitter(7);
  return Array.from({ length: N }, (_, i) =>
    parseTelemetryMessage(encode(normalMessage({ mac: '02:00:00:00:10:01', addr: '10.0.1.1' }, rand, { FlowId: `${tag}-${i}`, ts: 1_764_000_000_000 + i })), { position: { topic: 't', sequence: i + 1 }, fallbackId: 'x', receivedMs: 0 }),
  );
}

const until = async (cond: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

describe.skipIf(NATS_URL === undefined)(natsSuite('the JetStream telemetry bus'), () => {
  const streams: string[] = [];
  const openBus = async (ackWaitMs = 1_000): Promise<NatsTelemetryBus> => {
    const tag = randomBytes(4).toString('hex');
    streams.push(`CUSTODIA_TEST_${tag}`);
    return NatsTelemetryBus.open({ url: NATS_URL!, stream: `CUSTODIA_TEST_${tag}`, subject: `custodia.test.${tag}.flows`, durable: 'scorers', ackWaitMs, prefetch: 16, clock: systemClock });
  };
  afterAll(async () => {
    const nc = await connect({ servers: NATS_URL! });
    const jsm = await jetstreamManager(nc);
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  });

  it('shares N flows between two consumers: every flow once, none lost', async () => {
    const bus = await openBus();
    const all = flows('share');
    for (const f of all) expect(await bus.publish(f)).toBe('held');
    // A repeated publish of the same flow id is stored once (Nats-Msg-Id deduplication), and the publisher is told.
    for (const f of all.slice(0, 20)) expect(await bus.publish(f)).toBe('duplicate');
    const seen: string[][] = [[], []];
    const handler = (k: number) => async (r: TelemetryRecord) => {
      seen[k]!.push(r.id);
      if (r.id.endsWith('7')) await new Promise((res) => setTimeout(res, 1)); // uneven work
    };
    const a = await bus.consume(handler(0));
    const b = await bus.consume(handler(1));
    await until(() => seen[0]!.length + seen[1]!.length >= N, 30_000);
    await new Promise((r) => setTimeout(r, 300)); // anything extra would arrive now
    await a.stop();
    await b.stop();
    const union = [...seen[0]!, ...seen[1]!];
    expect(union).toHaveLength(N);
    expect(new Set(union)).toEqual(new Set(all.map((f) => f.id)));
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[1]!.length).toBeGreaterThan(0);
    expect(a.report().records + b.report().records).toBe(N);
    await bus.close();
  }, 60_000);

  it('redelivers to the other consumer what a consumer took and never acknowledged', async () => {
    const bus = await openBus(1_000);
    const all = flows('crash');
    for (const f of all) await bus.publish(f);
    const acked: string[][] = [[], []];
    let crash: () => void = () => undefined;
    let handledByA = 0;
    // A handles 50 flows, then dies in the middle of the 51st (its pulled-ahead messages die with it).
    const a = await bus.consume(async (r) => {
      handledByA += 1;
      if (handledByA > 50) {
        crash();
        throw new Error('crashed');
      }
      acked[0]!.push(r.id);
    });
    crash = () => void a.stop();
    await until(() => handledByA > 50, 20_000);
    await a.done;
    const b = await bus.consume(async (r) => void acked[1]!.push(r.id));
    await until(() => acked[0]!.length + acked[1]!.length >= N, 30_000);
    await new Promise((r) => setTimeout(r, 1_500)); // past AckWait: no late redelivery of an acknowledged flow
    await b.stop();
    const union = [...acked[0]!, ...acked[1]!];
    expect(acked[0]).toHaveLength(50);
    expect(union).toHaveLength(N);
    expect(new Set(union)).toEqual(new Set(all.map((f) => f.id)));
    await bus.close();
  }, 60_000);

  it('counts and reports a hostile message on the subject, terminates it, and goes on', async () => {
    const tag = randomBytes(4).toString('hex');
    const stream = `CUSTODIA_TEST_${tag}`;
    streams.push(stream);
    const subject = `custodia.test.${tag}.flows`;
    const bus = await NatsTelemetryBus.open({ url: NATS_URL!, stream, subject, durable: 'scorers', ackWaitMs: 1_000, clock: systemClock });
    const nc = await connect({ servers: NATS_URL! });
    nc.publish(subject, Buffer.from('{"SrcAddr": "10.0.0.9", "SpO2": "97"}'));
    nc.publish(subject, Buffer.from([0xff, 0xfe]));
    await nc.flush();
    await bus.publish(flows('ok')[0]!);
    const got: string[] = [];
    const c = await bus.consume(async (r) => void got.push(r.id));
    await until(() => got.length === 1 && c.report().badRecords === 2, 10_000);
    const report = c.report();
    expect(report.badRecords).toBe(2);
    expect(report.firstBad.map((b) => [b.sequence, b.topic.includes(tag)])).toEqual([[1, true], [2, true]]);
    expect(report.firstBad[1]!.reason).toBe('not UTF-8 JSON');
    // Terminated for good: past the ack wait (1 s) neither comes back.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(c.report().badRecords).toBe(2);
    expect(c.report().received).toBe(3);
    await c.stop();
    await nc.close();
    await bus.close();
  }, 30_000);
});
