/**
 * Devices that fall silent, end to end (detect/silence-watch.ts, app/detect-stream.ts): a
 * real vault subscribed to Mosquitto with `silenceSeconds: 1`; a bedside monitor attached
 * to a patient and an infusion pump send a few readings and stop. Each raises one
 * explained `silence` finding, read back over HTTP — high for the monitor of a patient,
 * medium for the pump — and an unknown talker that stops raises nothing. A device heard
 * again and silent again merges into its open finding.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectStream, Finding } from '../../src/app/index.js';
import { MQTT_URL, mqttSuite } from '../helpers/brokers.js';
import { encode, jitter, macDevice, normalMessage } from '../helpers/telemetry.js';
import type { TestVault } from '../helpers/test-vault.js';
import { until } from '../helpers/until.js';
import { bearer, seededVault } from './access-fixtures.js';

const MONITOR = { mac: '02:00:00:00:08:01', addr: '10.0.8.1' };
const PUMP = { mac: '02:00:00:00:08:02', addr: '10.0.8.2' };
const STRANGER = { mac: '02:00:00:00:98:98', addr: '10.0.9.98' };

describe.skipIf(MQTT_URL === undefined)(mqttSuite('devices that fall silent raise a finding'), () => {
  const tag = randomBytes(4).toString('hex');
  const base = `custodia-test/${tag}`;
  let t: TestVault;
  let stream: DetectStream;
  let pub: MqttClient;
  let admin: Record<string, string>;
  let tick = 0;
  const rand = jitter(51);
  const send = (d: { mac: string; addr: string }) => pub.publishAsync(`${base}/${d.mac}`, encode(normalMessage(d, rand, { ts: Date.now() + ++tick })), { qos: 1 });
  const silences = async (device: string): Promise<Finding[]> =>
    ((await t.request('GET', `/detect/findings?device=${encodeURIComponent(device)}`, undefined, admin)).body.findings as Finding[]).filter((f) => f.explanation.detector === 'silence');

  beforeAll(async () => {
    const seeded = await seededVault('sqlite', { detectStream: { mqttUrl: MQTT_URL, topic: `${base}/#`, silenceSeconds: 1 } }, `silence-${tag}`);
    t = seeded.t;
    admin = bearer(await seeded.users.token('admin'));
    const op = bearer(t.token);
    expect((await t.request('PUT', '/fhir/Device/bedside-9', macDevice('bedside-9', MONITOR.mac, { patient: { reference: 'Patient/p1' } }), op)).status).toBe(201);
    expect((await t.request('PUT', '/fhir/Device/pump-9', macDevice('pump-9', PUMP.mac), op)).status).toBe(201);
    stream = t.vault.detectStream!;
    await stream.start();
    pub = await mqtt.connectAsync(MQTT_URL!, { clientId: `custodia-test-silence-${tag}` });
  }, 120_000);
  afterAll(async () => {
    await pub?.endAsync();
    await t?.close();
  });

  it('raises one explained silence per device that stops, high for a patient’s monitor, none for an unknown talker', async () => {
    for (let i = 0; i < 3; i++) for (const d of [MONITOR, PUMP, STRANGER]) await send(d);
    await until('the readings to be scored', () => stream.report().scored === 9);
    await until('both devices to be silent', () => stream.report().silence.silent === 2, 10_000);
    await until('both silences to be stored', async () => (await silences('Device/bedside-9')).length === 1 && (await silences('Device/pump-9')).length === 1, 10_000);
    expect(stream.report().silence).toEqual({ watched: 2, silent: 2, refused: 0 });
    const [monitor] = await silences('Device/bedside-9');
    expect(monitor).toMatchObject({ severity: 'high', count: 1, explanation: { detector: 'silence', threshold: 1, features: [{ feature: 'seconds_silent' }] } });
    expect(monitor!.summary).toMatch(/^No telemetry for \d+ s \(expected within 1 s\)/);
    expect(monitor!.patient).toBeUndefined(); // a silence holds no reading
    expect(await silences('Device/pump-9')).toEqual([expect.objectContaining({ severity: 'medium', count: 1 })]);
    expect(await silences(`talker:mac:${STRANGER.mac}`)).toEqual([]);
    // Still silent: nothing more is raised.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await silences('Device/pump-9'))[0]!.count).toBe(1);
  }, 60_000);

  it('merges a device’s next silence into its open finding once it was heard again', async () => {
    await send(PUMP);
    await until('the finding to merge', async () => (await silences('Device/pump-9'))[0]?.count === 2, 10_000);
    expect(await silences('Device/pump-9')).toHaveLength(1);
  }, 60_000);
});
