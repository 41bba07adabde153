/**
 * A flood of ordinary-looking messages, end to end (issue 6 §2, §4): a registered monitor
 * and an unknown talker each publish two normal readings every 10 s of the vault's clock
 * through Mosquitto while their arrival baselines learn; then the monitor publishes 60 in
 * one window. Every reading is plausible and steady, so only the arrival rate gives the
 * flood away (detect/arrival-rate.ts): one explained `flood` / `arrival-rate` finding about
 * `Device/monitor-1`, read back over HTTP, and none about the talker that kept its pace.
 * The vault runs on a manual clock, which the test moves a window at a time once every
 * message sent has been scored.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETHERNET_ADDRESS_SYSTEM, type DetectStream, type Finding } from '../../src/app/index.js';
import { ARRIVALS_FEATURE } from '../../src/detect/index.js';
import { ManualClock } from '../../src/kernel/index.js';
import { MQTT_URL, mqttSuite } from '../helpers/brokers.js';
import { openRawDatabase } from '../helpers/raw-database.js';
import { encode, normalMessage } from '../helpers/telemetry.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';
import { until } from '../helpers/until.js';
import { bearer, createUsers } from './access-fixtures.js';

const MONITOR = { mac: '02:00:00:00:05:21', addr: '10.0.5.21' };
const TALKER = { mac: '02:00:00:00:05:99', addr: '10.0.5.99' };
const WINDOW = 10_000;
const LEARNING = 35; // windows: more than the 30 a baseline needs

describe.skipIf(MQTT_URL === undefined)(mqttSuite('a flood of ordinary messages, found by their arrival rate on the vault’s clock'), () => {
  const tag = randomBytes(4).toString('hex');
  const base = `custodia-test/${tag}`;
  const clock = new ManualClock(Math.ceil(Date.now() / WINDOW) * WINDOW);
  let t: TestVault;
  let admin: Record<string, string>;
  let stream: DetectStream;
  let pub: MqttClient;
  let published = 0;
  let tick = 0;
  const send = async (device: { mac: string; addr: string }, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await pub.publishAsync(`${base}/ward5/${device.mac}`, encode(normalMessage(device, () => 0.5, { ts: clock.now() + ++tick })), { qos: 1 });
      published += 1;
    }
  };
  /** Waits until everything sent has arrived and been scored. */
  const settle = async (): Promise<void> => {
    await until('every message to arrive', () => stream.report().source.received === published);
    await stream.idle();
  };
  const findings = async (device: string): Promise<Finding[]> => {
    const r = await t.request('GET', `/detect/findings?device=${encodeURIComponent(device)}`, undefined, admin);
    expect(r.status).toBe(200);
    return r.body.findings;
  };

  beforeAll(async () => {
    t = await startTestVault('sqlite', { clock, seed: `arrival-${tag}`, config: { detectStream: { mqttUrl: MQTT_URL, topic: `${base}/#` } } });
    admin = bearer(await (await createUsers(t)).token('admin'));
    const monitor = { resourceType: 'Device', id: 'monitor-1', status: 'active', identifier: [{ system: ETHERNET_ADDRESS_SYSTEM, value: '02-00-00-00-05-21' }] };
    expect((await t.request('PUT', '/fhir/Device/monitor-1', monitor)).status).toBe(201);
    stream = t.vault.detectStream!;
    await stream.start();
    pub = await mqtt.connectAsync(MQTT_URL!, { clientId: `custodia-test-arrival-${tag}` });
    for (let w = 0; w < LEARNING; w++) {
      await send(MONITOR, 2);
      await send(TALKER, 2);
      await settle();
      // Each window scored before the clock moves on, so that keeps fall due where this test expects them.
      await until('the window to be scored', () => stream.report().scored === published);
      clock.advance(WINDOW);
    }
  }, 120_000);
  afterAll(async () => {
    await pub?.endAsync();
    await t?.close();
  });

  it('learns both devices at two messages a window, raising nothing', async () => {
    expect(await findings('Device/monitor-1')).toEqual([]);
    expect(stream.report()).toMatchObject({ findings: 0, failures: 0, arrivals: { tracked: 2, refused: 0 } });
  });

  it('keeps both devices’ baselines in the database every 30 s of its clock while scoring, before any close', async () => {
    // 35 windows of 10 s: a keep falls due every third window, each writing the two devices that learned since the last.
    await until('ten keeps to be written', () => stream.report().kept.saved >= 2 * 10);
    const raw = await openRawDatabase(t.db);
    try {
      const rows = await raw.query<{ device: string; saved_at: number | string }>('SELECT device, saved_at FROM detect_baselines ORDER BY device');
      expect(rows.map((r) => r.device)).toEqual(['Device/monitor-1', `talker:mac:${TALKER.mac}`]);
      for (const r of rows) expect(Number(r.saved_at)).toBeGreaterThanOrEqual(clock.now() - 30_000);
    } finally {
      await raw.close();
    }
  });

  it('raises one explained flood finding about the monitor when 60 of its messages arrive in one window, and none about the talker at its pace', async () => {
    const start = clock.now();
    await send(MONITOR, 60);
    await send(TALKER, 2);
    await settle();
    const [flood, ...rest] = await findings('Device/monitor-1');
    expect(rest).toEqual([]);
    // Two a window, MAD 0: the scale is one message, and the 20th message of the window is the first at z ≥ 5 and ≥ 5 × 2 with at least 20.
    expect(flood).toMatchObject({
      device: 'Device/monitor-1',
      severity: 'high',
      status: 'new',
      start,
      explanation: { detector: 'flood', label: 'arrival-rate', threshold: 5, score: 18, features: [{ feature: ARRIVALS_FEATURE, value: 20, baseline: 2, z: 18 }] },
    });
    expect(flood!.summary).toContain('20 in 10 s, usually 2');
    const talker = await t.request('GET', '/detect/findings', undefined, admin);
    expect((talker.body.findings as Finding[]).map((f) => f.device)).toEqual(['Device/monitor-1']);
    expect(stream.report()).toMatchObject({ findings: 1, duplicates: 0, failures: 0 });
  });

  it('counts a replayed message (the same FlowId again) as a duplicate the bus dropped, and scores it once', async () => {
    const scored = stream.report().scored;
    const replayed = encode(normalMessage(MONITOR, () => 0.5, { ts: clock.now(), FlowId: `replayed-${tag}` }));
    for (let i = 0; i < 2; i++) await pub.publishAsync(`${base}/ward5/${MONITOR.mac}`, replayed, { qos: 1 });
    published += 2;
    await settle();
    expect(stream.report()).toMatchObject({ scored: scored + 1, duplicates: 1, failures: 0 });
  });
});
