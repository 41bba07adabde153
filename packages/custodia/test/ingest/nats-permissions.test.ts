/**
 * The partitioned JetStream bus under least-privilege NATS users (docs/operations.md
 * "NATS permissions"), live, against a nats-server of our own whose users may use only
 * the subjects listed:
 *
 *   - the vault's user, allowed exactly what operations.md lists for one telemetry stream
 *     (its records, its stream and partition consumers, its lease bucket, replies): the
 *     bus opens, two scorers share the partitions, every record is scored once;
 *   - a device gateway's user, allowed to publish records only: its records are scored
 *     (one it puts on another sender's partition is refused by the scorer), but it can
 *     neither read the stream nor touch the lease bucket, so it cannot steal or starve a
 *     partition (the bucket is trusted as the subjects are: the permissions are what make
 *     that trust hold);
 *   - a user with the same permissions for another stream reaches neither this stream nor
 *     its bucket, and runs its own bus.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/app/index.js';
import { partitionOf, senderKey, type TelemetryRecord } from '../../src/detect/index.js';
import { formatTelemetryMessage, NatsTelemetryBus, parseTelemetryMessage } from '../../src/ingest/index.js';
import { systemClock } from '../../src/kernel/index.js';
import { NATS_URL, natsSuite } from '../helpers/brokers.js';
import { freePort } from '../helpers/free-port.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';
import { NATS_SERVER, startNatsWithPermissions, type Broker } from '../helpers/tls-brokers.js';

const SUBJECT = 'custodia.perm.telemetry';
const STREAM = 'CUSTODIA_CUSTODIA_PERM_TELEMETRY';
const BUCKET = `${STREAM}-scorers`;
const N = 40;
const skipped = NATS_SERVER === undefined ? ': skipped, nats-server not found' : '';

/** What operations.md tells an operator to allow the vault's NATS user, for this subject. */
function vaultPermissions(subject: string, stream: string): { publish: string[]; subscribe: string[] } {
  const bucket = `${stream}-scorers`;
  return {
    publish: [
      `${subject}.*`,
      '$JS.API.INFO',
      `$JS.API.STREAM.*.${stream}`,
      `$JS.API.STREAM.*.KV_${bucket}`,
      `$JS.API.CONSUMER.*.${stream}`,
      `$JS.API.CONSUMER.*.${stream}.>`,
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
      `$JS.API.CONSUMER.*.KV_${bucket}`,
      `$JS.API.CONSUMER.*.KV_${bucket}.>`,
      `$JS.API.STREAM.MSG.GET.KV_${bucket}`,
      `$JS.API.DIRECT.GET.KV_${bucket}.>`,
      `$JS.ACK.${stream}.>`,
      `$JS.ACK.KV_${bucket}.>`,
      `$KV.${bucket}.>`,
    ],
    subscribe: ['_INBOX.>'],
  };
}

const flows = (prefix: string, n: number): TelemetryRecord[] => {
  const rand = jitter(5);
  return Array.from({ length: n }, (_, i) => {
    const mac = `02:00:00:00:0a:${(i % 16).toString(16).padStart(2, '0')}`;
    return parseTelemetryMessage(encode(normalMessage({ mac, addr: `10.0.10.${i % 16}` }, rand, { FlowId: `${prefix}-${i}`, ts: Date.now() + i })), { position: { topic: 't', sequence: i + 1 }, fallbackId: 'x', receivedMs: Date.now() });
  });
};

describe.skipIf(NATS_URL === undefined || NATS_SERVER === undefined)(natsSuite(`the partitioned bus under least-privilege NATS users (own nats-server${skipped})`), () => {
  let dir: string;
  let server: Broker;
  let port: number;

  const optionsAs = (user: string, subject = SUBJECT) => {
    const c = resolveConfig({ dataDir: dir, detectStream: { mqttUrl: 'mqtt://127.0.0.1:1883', natsUrl: `nats://127.0.0.1:${port}`, subject, partitions: 4, nats: { user } } }, { CUSTODIA_DETECT_NATS_PASSWORD: `${user}-password` }).detectStream!.nats!;
    return { ...c, clock: systemClock, ackWaitMs: 1_000, leaseMs: 1_500 };
  };
  const until = async (cond: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-nats-permissions-'));
    port = await freePort();
    server = await startNatsWithPermissions(dir, {
      port,
      users: [
        { user: 'vault', password: 'vault-password', ...vaultPermissions(SUBJECT, STREAM) },
        { user: 'gateway', password: 'gateway-password', publish: [`${SUBJECT}.*`], subscribe: ['_INBOX.>'] },
        { user: 'other', password: 'other-password', ...vaultPermissions('custodia.other.telemetry', 'CUSTODIA_CUSTODIA_OTHER_TELEMETRY') },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the bus as the vault’s user with only the listed permissions: two scorers, every record once', async () => {
    const logged = server.output().length;
    const bus = await NatsTelemetryBus.open(optionsAs('vault'));
    const got: string[] = [];
    const a = await bus.consume(async (r) => void got.push(r.id));
    const b = await bus.consume(async (r) => void got.push(r.id));
    try {
      await until(() => a.report().partitions?.length === 2 && b.report().partitions?.length === 2, 15_000);
      expect([...a.report().partitions!, ...b.report().partitions!].sort()).toEqual([0, 1, 2, 3]);
      const sent = flows('vault', N);
      for (const f of sent) expect(await bus.publish(f)).toBe('held');
      await until(() => got.length >= N, 15_000);
      await new Promise((r) => setTimeout(r, 1_500)); // past AckWait: a redelivery would show now
      expect(got.toSorted()).toEqual(sent.map((f) => f.id).toSorted());
      expect(server.output().slice(logged)).not.toMatch(/Permissions Violation/);
    } finally {
      await a.stop();
      await b.stop();
      await bus.close();
    }
  }, 60_000);

  it('lets a device gateway’s user publish records and nothing else: no lease-bucket write, no pull, no stream read', async () => {
    const bus = await NatsTelemetryBus.open(optionsAs('vault'));
    const got: string[] = [];
    const scorer = await bus.consume(async (r) => void got.push(r.id));
    const gateway = await connect({ servers: `nats://127.0.0.1:${port}`, user: 'gateway', pass: 'gateway-password' });
    try {
      await until(() => scorer.report().partitions?.length === 4, 15_000);
      // Its records reach the scorer like the vault's own, on their sender's partition…
      const [record, misplaced] = flows('gateway', 2);
      const home = partitionOf(senderKey(record!.endpoints)!, 4);
      const ack = await jetstream(gateway).publish(`${SUBJECT}.${home}`, formatTelemetryMessage(record!), { msgID: record!.id });
      expect(ack.stream).toBe(STREAM);
      // …and one put on another sender's partition, which S.* cannot forbid, is refused by the scorer.
      const elsewhere = (partitionOf(senderKey(misplaced!.endpoints)!, 4) + 1) % 4;
      await jetstream(gateway).publish(`${SUBJECT}.${elsewhere}`, formatTelemetryMessage(misplaced!), { msgID: misplaced!.id });
      await until(() => got.includes(record!.id) && scorer.report().badRecords === 1, 10_000);
      expect(got).toEqual([record!.id]);
      expect(scorer.report().firstBad[0]!.reason).toMatch(/^sent on partition \d; its sender's partition is \d$/);

      // A lease written into the bucket by hand: refused by the server, the holder unchanged.
      const logged = server.output().length;
      gateway.publish(`$KV.${BUCKET}.partitions.0`, 'gateway');
      gateway.publish(`$KV.${BUCKET}.members.gateway`, '');
      await gateway.flush();
      await new Promise((r) => setTimeout(r, 2_000)); // more than a lease: a stolen partition would have moved by now
      expect(scorer.report().partitions).toEqual([0, 1, 2, 3]);
      const violations = server.output().slice(logged);
      expect(violations).toContain(`Publish Violation - User "gateway", Subject "$KV.${BUCKET}.partitions.0"`);
      expect(violations).toContain(`Publish Violation - User "gateway", Subject "$KV.${BUCKET}.members.gateway"`);
      // The library's way in (the bucket's stream info) and a pull from a partition: refused.
      await expect((await new Kvm(gateway).open(BUCKET)).put('partitions.1', 'gateway')).rejects.toThrow(/permission|violation|timeout/i);
      await expect((await new Kvm(gateway).open(BUCKET)).status()).rejects.toThrow(/permission|violation|timeout/i);
      await expect(gateway.request(`$JS.API.CONSUMER.MSG.NEXT.${STREAM}.custodia-scorers-0`, JSON.stringify({ batch: 1 }), { timeout: 2_000 })).rejects.toThrow(/permission|violation|timeout/i);
      expect(server.output().slice(logged)).toContain(`Publish Violation - User "gateway", Subject "$JS.API.CONSUMER.MSG.NEXT.${STREAM}.custodia-scorers-0"`);
    } finally {
      await gateway.close();
      await scorer.stop();
      await bus.close();
    }
  }, 60_000);

  it('keeps another stream’s user out of this stream and its bucket', async () => {
    const other = await connect({ servers: `nats://127.0.0.1:${port}`, user: 'other', pass: 'other-password' });
    try {
      const logged = server.output().length;
      await expect(jetstream(other).streams.get(STREAM)).rejects.toThrow(/permission|violation|timeout/i);
      await expect((await new Kvm(other).open(BUCKET)).put('partitions.1', 'other')).rejects.toThrow(/permission|violation|timeout/i);
      expect(server.output().slice(logged)).toContain(`Publish Violation - User "other", Subject "$JS.API.STREAM.INFO.${STREAM}"`);
    } finally {
      await other.close();
    }
    // Its own bus, on its own subject, works.
    const bus = await NatsTelemetryBus.open(optionsAs('other', 'custodia.other.telemetry'));
    const got: string[] = [];
    const scorer = await bus.consume(async (r) => void got.push(r.id));
    try {
      const [record] = flows('other', 1);
      await bus.publish(record!);
      await until(() => got.length === 1, 15_000);
      expect(got).toEqual([record!.id]);
    } finally {
      await scorer.stop();
      await bus.close();
    }
  }, 60_000);
});
