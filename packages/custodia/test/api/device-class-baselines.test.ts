/**
 * Device-class baselines end to end (detect/telemetry-scorer.ts, app/device-directory.ts):
 * a real vault subscribed to Mosquitto; two infusion pumps registered with the same
 * Device.type settle and teach their class; a third pump of that type, registered and
 * heard for the first time, floods on its first message and is alerted on at once,
 * explained against the class's baseline, while a new device with no type flooding the
 * same way is still in its learning period. GET /detect/devices tells the security staff
 * which of the three guards each device.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectStream, Finding } from '../../src/app/index.js';
import { MQTT_URL, mqttSuite } from '../helpers/brokers.js';
import { encode, jitter, macDevice, normalMessage } from '../helpers/telemetry.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';
import { until } from '../helpers/until.js';
import { bearer, createUsers, type Users } from './access-fixtures.js';

const INFUSION_PUMP = { coding: [{ system: 'http://snomed.info/sct', code: '706172005', display: 'Ambulatory infusion pump' }] };
const pump = (n: number) => ({ id: `pump-${n}`, mac: `02:00:00:00:06:0${n}`, addr: `10.0.6.${n}` });
const FLOOD = { Rate: 4000, TotPkts: 9000, TotBytes: 1_200_000, Load: 4_000_000, SrcLoad: 3_000_000 };

describe.skipIf(MQTT_URL === undefined)(mqttSuite('a new device of a known class is held to its class’s baseline from its first message'), () => {
  const tag = randomBytes(4).toString('hex');
  const base = `custodia-test/${tag}`;
  let t: TestVault;
  let stream: DetectStream;
  let pub: MqttClient;
  let admin: Record<string, string>;
  let users: Users;
  let tick = 0;
  const T0 = Date.now() - 10 * 60_000;
  const rand = jitter(31);
  const send = (d: { mac: string; addr: string }, over: Record<string, unknown> = {}) => pub.publishAsync(`${base}/${d.mac}`, encode(normalMessage(d, rand, { ts: T0 + ++tick * 1000, ...over })), { qos: 1 });
  const findings = async (device: string): Promise<Finding[]> => {
    const r = await t.request('GET', `/detect/findings?device=${encodeURIComponent(device)}`, undefined, admin);
    expect(r.status).toBe(200);
    return r.body.findings;
  };

  beforeAll(async () => {
    t = await startTestVault('sqlite', { seed: `class-${tag}`, config: { detectStream: { mqttUrl: MQTT_URL, topic: `${base}/#` } } });
    users = await createUsers(t);
    admin = bearer(await users.token('admin'));
    for (const n of [1, 2, 3]) {
      const p = pump(n);
      expect((await t.request('PUT', `/fhir/Device/${p.id}`, macDevice(p.id, p.mac, { type: INFUSION_PUMP }))).status).toBe(201);
    }
    expect((await t.request('PUT', '/fhir/Device/untyped-1', { resourceType: 'Device', id: 'untyped-1', status: 'active', url: 'http://10.0.6.9/' })).status).toBe(201);
    stream = t.vault.detectStream!;
    await stream.start();
    pub = await mqtt.connectAsync(MQTT_URL!, { clientId: `custodia-test-class-${tag}` });
  }, 120_000);
  afterAll(async () => {
    await pub?.endAsync();
    await t?.close();
  });

  it('alerts on the new pump’s first-message flood, explained against its class, and not on an untyped newcomer', async () => {
    // Pumps 1 and 2: 30 records to settle each, then 20 normal records each that teach the class.
    for (let i = 0; i < 50; i++) for (const n of [1, 2]) await send(pump(n));
    await until('the pumps to be scored', () => stream.report().scored === 100);
    expect(stream.report().devices).toMatchObject({ baselines: 2, classes: 1 });
    expect(await findings('Device/pump-1')).toEqual([]);

    await send(pump(3), FLOOD);
    await send({ mac: '02:00:00:00:06:99', addr: '10.0.6.9' }, FLOOD); // Device/untyped-1, by its url
    await until('both to be scored', () => stream.report().scored === 102);
    const [flood, ...rest] = await findings('Device/pump-3');
    expect(rest).toEqual([]);
    expect(flood).toMatchObject({ severity: 'high', count: 1, explanation: { detector: 'flood', label: 'class', threshold: 5 } });
    expect(flood!.summary).toContain('the baseline of its device class');
    const rate = flood!.explanation.features.find((f) => f.feature === 'Rate')!;
    expect(rate.value).toBe(4000);
    expect(rate.baseline!).toBeLessThan(14);
    expect(await findings('Device/untyped-1')).toEqual([]);
  }, 60_000);

  it('tells the security staff what guards each device: its own baselines, its class’s, or the physiological checks alone', async () => {
    const r = await t.request('GET', '/detect/devices', undefined, admin);
    expect(r.status).toBe(200);
    expect(r.body.detecting).toBe(true);
    const by = Object.fromEntries((r.body.devices as { device: string }[]).map((d) => [d.device, d])) as Record<string, Record<string, unknown>>;
    expect(Object.keys(by)).toEqual(['Device/pump-1', 'Device/pump-2', 'Device/pump-3', 'Device/untyped-1']);
    expect(by['Device/pump-1']).toEqual({ device: 'Device/pump-1', guard: 'baseline', samples: { vitals: 50, network: 50, needed: 30 }, deviceClass: 'http://snomed.info/sct|706172005', classSamples: expect.any(Number), attached: false });
    expect(by['Device/pump-1']!['classSamples']).toBeGreaterThanOrEqual(30);
    expect(by['Device/pump-3']).toMatchObject({ guard: 'class', samples: { vitals: 1, network: 1, needed: 30 } });
    expect(by['Device/untyped-1']).toEqual({ device: 'Device/untyped-1', guard: 'learning', samples: { vitals: 1, network: 1, needed: 30 }, attached: false });
    // Paged in device order.
    const first = await t.request('GET', '/detect/devices?_count=2', undefined, admin);
    expect(first.body.devices.map((d: { device: string }) => d.device)).toEqual(['Device/pump-1', 'Device/pump-2']);
    const second = await t.request('GET', `/detect/devices?_count=2&after=${encodeURIComponent(first.body.next)}`, undefined, admin);
    expect(second.body.devices.map((d: { device: string }) => d.device)).toEqual(['Device/pump-3', 'Device/untyped-1']);
    // The security staff only; hostile parameters refused.
    expect((await t.request('GET', '/detect/devices', undefined, bearer(await users.token('clinician')))).status).toBe(403);
    expect((await t.request('GET', '/detect/devices', undefined, { authorization: 'Bearer garbage' })).status).toBe(401);
    expect((await t.request('GET', '/detect/devices?colour=red', undefined, admin)).status).toBe(400);
    expect((await t.request('GET', '/detect/devices?_count=5000', undefined, admin)).status).toBe(400);
  }, 60_000);
});
