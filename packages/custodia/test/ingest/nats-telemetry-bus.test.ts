/**
 * The NATS JetStream bus (issue 6 acceptance: "A NATS JetStream test shares scoring
 * between two consumers without losing or duplicating flows"; issue 6 §2: one baseline a
 * device), against a real nats-server. N flows from 40 devices:
 * - two consumers split the 8 partitions 4/4; the union of what they acknowledged is
 *   exactly the N flow ids, and every device's flows went to one consumer only;
 * - a consumer that stops half-way hands its partitions over at once (well inside the
 *   lease time), and the other acknowledges the rest;
 * - a scorer process killed with SIGKILL: its partitions are taken over only once its
 *   leases expire, nothing is lost, and the only flows handled twice are the ones it had
 *   in hand (one a partition at most).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { partitionOf, senderKey, type TelemetryRecord } from '../../src/detect/index.js';
import { formatTelemetryMessage, NatsTelemetryBus, parseTelemetryMessage, type NatsBusOptions } from '../../src/ingest/index.js';
import { systemClock } from '../../src/kernel/index.js';
import { NATS_URL, natsSuite } from '../helpers/brokers.js';
import { removeTelemetryStreams } from '../helpers/nats-streams.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';

const N = 400;
const DEVICES = 40;
const P = 8;
const SCORER_PROCESS = fileURLToPath(new URL('../helpers/nats-scorer-process.mjs', import.meta.url));

const deviceOf = (i: number) => ({ mac: `02:00:00:00:10:${(i % DEVICES).toString(16).padStart(2, '0')}`, addr: `10.0.1.${(i % DEVICES) + 1}` });

function flows(tag: string): TelemetryRecord[] {
  const rand = jitter(7);
  return Array.from({ length: N }, (_, i) =>
    parseTelemetryMessage(encode(normalMessage(deviceOf(i), rand, { FlowId: `${tag}-${i}`, ts: 1_764_000_000_000 + i })), { position: { topic: 't', sequence: i + 1 }, fallbackId: 'x', receivedMs: 0 }),
  );
}

const until = async (cond: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

describe.skipIf(NATS_URL === undefined)(natsSuite('the JetStream telemetry bus, partitioned by device'), () => {
  const streams: string[] = [];
  const topology = (): Pick<NatsBusOptions, 'stream' | 'subject'> & { tag: string } => {
    const tag = randomBytes(4).toString('hex');
    streams.push(`CUSTODIA_TEST_${tag}`);
    return { tag, stream: `CUSTODIA_TEST_${tag}`, subject: `custodia.test.${tag}.flows` };
  };
  const openBus = async (o: { ackWaitMs?: number; leaseMs?: number } = {}) => {
    const t = topology();
    const bus = await NatsTelemetryBus.open({ url: NATS_URL!, stream: t.stream, subject: t.subject, durable: 'scorers', partitions: P, ackWaitMs: o.ackWaitMs ?? 1_000, leaseMs: o.leaseMs ?? 1_500, prefetch: 16, clock: systemClock });
    return { bus, ...t };
  };
  afterAll(() => removeTelemetryStreams(streams));

  it('shares N flows between two consumers by device: every flow once, none lost, each device in one place', async () => {
    const { bus } = await openBus();
    const seen: string[][] = [[], []];
    const byDevice = new Map<string, Set<number>>();
    const handler = (k: number) => async (r: TelemetryRecord) => {
      seen[k]!.push(r.id);
      const d = senderKey(r.endpoints)!;
      byDevice.set(d, (byDevice.get(d) ?? new Set()).add(k));
      if (r.id.endsWith('7')) await new Promise((res) => setTimeout(res, 1)); // uneven work
    };
    const a = await bus.consume(handler(0));
    const b = await bus.consume(handler(1));
    // b joined after a took every partition: a hands half back within a tick or two.
    await until(() => a.report().partitions?.length === P / 2 && b.report().partitions?.length === P / 2, 10_000);
    const aHeld = new Set(a.report().partitions);
    expect([...a.report().partitions!, ...b.report().partitions!].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    const all = flows('share');
    for (const f of all) expect(await bus.publish(f)).toBe('held');
    // A repeated publish of the same flow id is stored once (Nats-Msg-Id deduplication), and the publisher is told.
    for (const f of all.slice(0, 20)) expect(await bus.publish(f)).toBe('duplicate');
    await until(() => seen[0]!.length + seen[1]!.length >= N, 30_000);
    await new Promise((r) => setTimeout(r, 300)); // anything extra would arrive now
    expect(new Set(a.report().partitions)).toEqual(aHeld); // nothing moved while the flows went through
    await a.stop();
    await b.stop();
    const union = [...seen[0]!, ...seen[1]!];
    expect(union).toHaveLength(N);
    expect(new Set(union)).toEqual(new Set(all.map((f) => f.id)));
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[1]!.length).toBeGreaterThan(0);
    expect(a.report().records + b.report().records).toBe(N);
    // Each device's flows were all scored by one consumer: one baseline a device.
    expect(byDevice.size).toBe(DEVICES);
    for (const [device, consumers] of byDevice) {
      expect(consumers.size, device).toBe(1);
      // ... the one holding the device's partition.
      expect([...consumers][0], device).toBe(aHeld.has(partitionOf(device, P)) ? 0 : 1);
    }
    await bus.close();
  }, 60_000);

  it('tells a consumer each partition it hands over, after it stopped taking it, and a hook that hangs does not hold the hand-over', async () => {
    const leaseMs = 3_000; // a hook gets a third of it
    const { bus } = await openBus({ leaseMs });
    const released: number[] = [];
    const lost: number[] = [];
    let a: Awaited<ReturnType<typeof bus.consume>> | undefined;
    const heldWhenReleased: boolean[] = [];
    const counts = new Set<number>();
    a = await bus.consume(async () => undefined, {
      releasing: async (k, n) => {
        counts.add(n);
        heldWhenReleased.push(a!.report().partitions!.includes(k));
        released.push(k);
        if (released.length === 1) await new Promise(() => undefined); // a hook that never settles
      },
      lost: (k) => void lost.push(k),
    });
    await until(() => a!.report().partitions?.length === P, 10_000);
    const started = Date.now();
    const b = await bus.consume(async () => undefined);
    await until(() => b.report().partitions?.length === P / 2, 15_000);
    expect(Date.now() - started).toBeLessThan(leaseMs * 2);
    expect([...released].sort()).toEqual(b.report().partitions);
    // The hook ran once the partition was stopped, while its lease was still this consumer's (handed back after).
    expect(heldWhenReleased.every((h) => h)).toBe(true);
    const kept = a.report().partitions!;
    await a.stop();
    expect([...released].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(released.slice(P / 2).sort()).toEqual(kept);
    expect(lost).toEqual([]);
    expect([...counts]).toEqual([P]); // each call names the partition count, for partitionOf
    await b.stop();
    await bus.close();
  }, 60_000);

  it('hands a stopping consumer’s partitions to the other at once, and loses nothing', async () => {
    const leaseMs = 20_000; // a takeover that waited for the lease would take this long
    const { bus } = await openBus({ leaseMs });
    const all = flows('stop');
    for (const f of all) await bus.publish(f);
    const acked: string[][] = [[], []];
    let crash: () => void = () => undefined;
    let handledByA = 0;
    // A handles 50 flows, then stops in the middle of the 51st (which it refuses: redelivered).
    const a = await bus.consume(async (r) => {
      handledByA += 1;
      if (handledByA > 50) {
        crash();
        throw new Error('stopping');
      }
      acked[0]!.push(r.id);
    });
    crash = () => void a.stop();
    await until(() => handledByA > 50, 20_000);
    await a.done;
    const started = Date.now();
    const b = await bus.consume(async (r) => void acked[1]!.push(r.id));
    expect(b.report().partitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // a's leases were handed back, not left to expire
    await until(() => acked[0]!.length + acked[1]!.length >= N, 30_000);
    expect(Date.now() - started).toBeLessThan(leaseMs / 2);
    await new Promise((r) => setTimeout(r, 1_500)); // past AckWait: no late redelivery of an acknowledged flow
    await b.stop();
    const union = [...acked[0]!, ...acked[1]!];
    expect(acked[0]).toHaveLength(50);
    expect(union).toHaveLength(N);
    expect(new Set(union)).toEqual(new Set(all.map((f) => f.id)));
    await bus.close();
  }, 60_000);

  it('takes over a killed scorer process’s partitions once its leases expire: nothing lost, only what it had in hand scored twice', async () => {
    const leaseMs = 2_000;
    const { bus, stream, subject } = await openBus({ leaseMs });
    const all = flows('kill');
    for (const f of all) await bus.publish(f);
    const child = spawn(process.execPath, [SCORER_PROCESS, NATS_URL!, stream, subject, String(P), String(leaseMs), '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const byA: string[] = [];
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) if (l.startsWith('handled ')) byA.push(l.slice('handled '.length));
    });
    const exited = new Promise((r) => child.once('exit', r));
    await until(() => byA.length >= 100, 30_000);
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;
    expect(byA.length).toBeGreaterThanOrEqual(100);
    expect(byA.length).toBeLessThan(N);

    const byB: string[] = [];
    let firstAt = 0;
    const b = await bus.consume(async (r) => {
      if (byB.length === 0) firstAt = Date.now();
      byB.push(r.id);
    });
    await until(() => new Set([...byA, ...byB]).size >= N, 30_000);
    await new Promise((r) => setTimeout(r, 1_500)); // past AckWait: anything redelivered late would show
    await b.stop();
    // Nothing taken while the dead scorer's leases lived: at least two thirds of the lease time after its last renewal.
    expect(firstAt - killedAt).toBeGreaterThanOrEqual(leaseMs / 2);
    expect(new Set([...byA, ...byB])).toEqual(new Set(all.map((f) => f.id)));
    expect(new Set(byB).size).toBe(byB.length); // b scored nothing twice
    const twice = byA.filter((id) => byB.includes(id));
    expect(twice.length).toBeLessThanOrEqual(P); // in hand when killed: one a partition at most
    await bus.close();
  }, 90_000);

  it('counts and reports a hostile message on a partition, or a record on another sender’s partition, terminates it, and goes on', async () => {
    const { bus, subject, tag } = await openBus();
    const nc = await connect({ servers: NATS_URL! });
    nc.publish(`${subject}.3`, Buffer.from('{"SrcAddr": "10.0.0.9", "SpO2": "97"}'));
    nc.publish(`${subject}.5`, Buffer.from([0xff, 0xfe]));
    // A well-formed record put by hand on a partition that is not its sender's: it would split the device's baseline.
    const [misplaced] = flows('misplaced');
    const home = partitionOf(senderKey(misplaced!.endpoints)!, P);
    nc.publish(`${subject}.${(home + 1) % P}`, formatTelemetryMessage(misplaced!));
    await nc.flush();
    const ok = flows('ok')[0]!;
    await bus.publish(ok);
    const got: TelemetryRecord[] = [];
    const c = await bus.consume(async (r) => void got.push(r));
    await until(() => got.length === 1 && c.report().badRecords === 3, 10_000);
    const report = c.report();
    expect(report.badRecords).toBe(3);
    expect(report.firstBad.map((b) => [b.sequence, b.topic.includes(tag)]).sort()).toEqual([[1, true], [2, true], [3, true]]);
    expect(report.firstBad.find((b) => b.sequence === 2)!.reason).toBe('not UTF-8 JSON');
    expect(report.firstBad.find((b) => b.sequence === 3)!.reason).toBe(`sent on partition ${(home + 1) % P}; its sender's partition is ${home}`);
    // The good record came from its sender's partition.
    expect(got[0]!.id).toBe(ok.id);
    expect(got[0]!.position.topic).toBe(`${subject}.${partitionOf(senderKey(ok.endpoints)!, P)}`);
    // Terminated for good: past the ack wait (1 s) neither comes back.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(c.report().badRecords).toBe(3);
    expect(c.report().received).toBe(4);
    await c.stop();
    await nc.close();
    await bus.close();
  }, 30_000);
});
