/**
 * Device baselines follow their partition of the NATS bus from one vault to another
 * (app/detect-stream.ts `releasing`, issue 6 §1–§2). Vault A scores alone and learns two
 * devices, one in each of the subject's two partitions; vault B, sharing A's database,
 * joins, and A hands one partition over. A writes that partition's baselines before the
 * hand-over (the periodic keep is an hour away here), so B takes the moved device back on
 * its first record and a fever it has never reported raises a finding at once — as it does
 * for the device that stayed with A. Without the hand-over's write, B would be learning
 * the moved device for 30 records and raise nothing.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVault, type DetectStream, type Finding, type Vault } from '../../src/app/index.js';
import { partitionOf } from '../../src/detect/index.js';
import { seededRandom } from '../../src/kernel/index.js';
import { MQTT_URL, NATS_URL, mqttSuite } from '../helpers/brokers.js';
import { removeTelemetryStreams } from '../helpers/nats-streams.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';
import { until } from '../helpers/until.js';
import { bearer, createUsers } from './access-fixtures.js';

/** A monitor whose sender key falls in partition `k` of 2. */
function monitorIn(k: number): { mac: string; addr: string } {
  for (let i = 0; ; i++) {
    const mac = `02:00:00:00:07:${i.toString(16).padStart(2, '0')}`;
    if (partitionOf(`mac:${mac}`, 2) === k) return { mac, addr: `10.0.7.${i}` };
  }
}

describe.skipIf(MQTT_URL === undefined || NATS_URL === undefined)(mqttSuite(`device baselines follow a partition of the NATS bus to another vault${NATS_URL === undefined ? ' (skipped, set CUSTODIA_TEST_NATS_URL)' : ''}`), () => {
  const tag = randomBytes(4).toString('hex');
  const base = `custodia-test/${tag}`;
  const subject = `custodia.test.${tag}.handover`;
  const monitors = [monitorIn(0), monitorIn(1)];
  let a: TestVault;
  let b: Vault | undefined;
  let admin: Record<string, string>;
  let pub: MqttClient;
  let tick = 0;
  const T0 = Date.now() - 10 * 60_000;
  const send = async (m: { mac: string; addr: string }, over: Record<string, unknown> = {}, rand = jitter(tick + 1)): Promise<void> => {
    // Both vaults subscribe to the topic and publish what they receive: the FlowId lets the bus keep one copy.
    await pub.publishAsync(`${base}/ward7/${m.mac}`, encode(normalMessage(m, rand, { ts: T0 + ++tick * 1000, FlowId: `${tag}-${tick}`, ...over })), { qos: 1 });
  };
  const held = (s: DetectStream): number[] => s.report().scorers.flatMap((c) => c.partitions ?? []);

  beforeAll(async () => {
    a = await startTestVault('sqlite', { seed: `handover-a-${tag}`, config: { detectStream: { mqttUrl: MQTT_URL, topic: `${base}/#`, natsUrl: NATS_URL, subject, partitions: 2, keepSeconds: 3600 } } });
    admin = bearer(await (await createUsers(a)).token('admin'));
    await a.vault.detectStream!.start();
    pub = await mqtt.connectAsync(MQTT_URL!, { clientId: `custodia-test-handover-${tag}` });
  }, 120_000);
  afterAll(async () => {
    await pub?.endAsync();
    await b?.close();
    await a?.close();
    await removeTelemetryStreams([`CUSTODIA_${subject.replace(/[.-]/g, '_').toUpperCase()}`]);
  });

  it('writes a partition’s baselines as it hands the partition over, and the next holder alerts on its first record', async () => {
    const streamA = a.vault.detectStream!;
    await until('vault A to hold both partitions', () => held(streamA).length === 2, 30_000);
    const rand = jitter(31);
    for (let i = 0; i < 40; i++) for (const m of monitors) await send(m, {}, rand);
    await until('the learning period to be scored by A', () => streamA.report().scored === 80);
    expect(streamA.report().kept).toEqual({ restored: 0, saved: 0, refused: 0 });

    b = await createVault(a.vault.config, { random: seededRandom(`handover-${tag}`) });
    const streamB = b.detectStream!;
    await streamB.start();
    await until('one partition each', () => held(streamA).length === 1 && held(streamB).length === 1, 45_000);
    const moved = held(streamB)[0]!;
    // A wrote the moved partition's device as it handed it over, and nothing else.
    expect(streamA.report().kept).toMatchObject({ saved: 1, refused: 0 });

    for (const m of monitors) await send(m, { Temp: 38.9 }, rand);
    await until('both fevers to be scored', () => streamA.report().scored === 81 && streamB.report().scored === 1);
    expect(streamB.report().kept).toMatchObject({ restored: 1, refused: 0 });
    for (const m of monitors) {
      const r = await a.request('GET', `/detect/findings?device=${encodeURIComponent(`talker:mac:${m.mac}`)}`, undefined, admin);
      expect(r.status).toBe(200);
      const fever = (r.body.findings as Finding[]).find((f) => f.explanation.label === 'deviation' && f.explanation.features[0]?.feature === 'Temp');
      expect(fever, `${m.mac} (partition ${partitionOf(`mac:${m.mac}`, 2)}, moved: ${moved})`).toMatchObject({ severity: 'high', explanation: { detector: 'vital-signs' } });
      expect(fever!.explanation.features[0]!.baseline).toBeCloseTo(36.8, 0);
    }
  }, 120_000);
});
