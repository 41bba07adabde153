/**
 * A patient's vital signs in device baselines (detect/telemetry-scorer.ts, app/erasure-service.ts),
 * end to end on every database: a bedside monitor attached to Patient/p1 (Device.patient)
 * learns p1's vital signs over MQTT, and its baselines are kept in the database; erasing
 * p1 deletes the kept snapshot and forgets the baselines in the running stream, while a
 * monitor attached to no one keeps its own; a finding that held p1's reading stays, its
 * reading unreadable (sealed under p1's data key). Moving a monitor to another patient starts
 * its vital-sign baseline afresh: the next patient's normal readings are not reported as
 * an alteration of the last one's.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVaultDatabase, type DetectStream, type Finding } from '../../src/app/index.js';
import { decodeBaselines } from '../../src/detect/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { MQTT_URL, mqttSuite } from '../helpers/brokers.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { encode, jitter, macDevice, normalMessage } from '../helpers/telemetry.js';
import type { TestVault } from '../helpers/test-vault.js';
import { until } from '../helpers/until.js';
import { bearer, seededVault, type Users } from './access-fixtures.js';

const BEDSIDE = { mac: '02:00:00:00:07:01', addr: '10.0.7.1' };
const SPARE = { mac: '02:00:00:00:07:02', addr: '10.0.7.2' };
const REASON = { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Art. 17 request, ticket 4712' }] };
const TACHYCARDIC = { Pulse_Rate: 121, Heart_rate: 120, SYS: 150, DIA: 95 };

for (const dialect of ALL_DATABASES) {
  describe.skipIf(MQTT_URL === undefined || !isAvailable(dialect))(mqttSuite(`a patient's vital signs in device baselines on ${dialect}`), () => {
    const tag = randomBytes(4).toString('hex');
    const base = `custodia-test/${tag}`;
    let t: TestVault;
    let users: Users;
    let raw: RawDatabase;
    let stream: DetectStream;
    let pub: MqttClient;
    let admin: Record<string, string>;
    let tick = 0;
    const T0 = Date.now() - 10 * 60_000;
    const rand = jitter(41);
    const send = (d: { mac: string; addr: string }, over: Record<string, unknown> = {}) => pub.publishAsync(`${base}/${d.mac}`, encode(normalMessage(d, rand, { ts: T0 + ++tick * 1000, ...over })), { qos: 1 });
    const kept = async (): Promise<string[]> => (await raw.query<{ device: string }>('SELECT device FROM detect_baselines ORDER BY device')).map((r) => r.device);
    const monitor = (id: string, mac: string, patient?: string) => macDevice(id, mac, patient === undefined ? {} : { patient: { reference: patient } });
    const findings = async (device: string): Promise<Finding[]> => (await t.request('GET', `/detect/findings?device=${encodeURIComponent(device)}`, undefined, admin)).body.findings;

    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect, { detectStream: { mqttUrl: MQTT_URL, topic: `${base}/#`, keepSeconds: 1 } }, `erasure-${tag}`));
      admin = bearer(await users.token('admin'));
      raw = await openRawDatabase(t.db);
      const op = bearer(t.token);
      expect((await t.request('PUT', '/fhir/Device/bedside-1', monitor('bedside-1', BEDSIDE.mac, 'Patient/p1'), op)).status).toBe(201);
      expect((await t.request('PUT', '/fhir/Device/spare-1', monitor('spare-1', SPARE.mac), op)).status).toBe(201);
      stream = t.vault.detectStream!;
      await stream.start();
      pub = await mqtt.connectAsync(MQTT_URL!, { clientId: `custodia-test-erase-${tag}` });
    }, 120_000);
    afterAll(async () => {
      await pub?.endAsync();
      await raw?.close();
      await t?.close();
    });

    it('starts a monitor’s vital-sign baseline afresh when it moves to another patient', async () => {
      for (let i = 0; i < 40; i++) await send(SPARE);
      await until('the spare monitor to settle', () => stream.report().scored === 40);
      // The spare monitor goes to p2, a tachycardic patient: their normal readings are theirs, not an alteration.
      expect((await t.request('PUT', '/fhir/Device/spare-1', monitor('spare-1', SPARE.mac, 'Patient/p2'), bearer(t.token))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 5_100)); // the device directory reloads at most every 5 s
      for (let i = 0; i < 10; i++) await send(SPARE, TACHYCARDIC);
      await until('the readings to be scored', () => stream.report().scored === 50);
      expect(stream.report().devices.reassigned).toBe(1);
      expect((await findings('Device/spare-1')).filter((f) => f.explanation.label === 'deviation')).toEqual([]);
    }, 60_000);

    it('forgets the baselines holding an erased patient’s vital signs, kept and in memory, and only those', async () => {
      for (let i = 0; i < 40; i++) await send(BEDSIDE);
      await send(BEDSIDE, { SpO2: 140 }); // implausible: a finding that holds p1's reading
      await until('the bedside monitor to be scored', () => stream.report().scored === 91);
      const held = await findings('Device/bedside-1'); // implausible, and a deviation from p1's baseline
      expect(held.map((f) => f.explanation.label).sort()).toEqual(['deviation', 'implausible']);
      for (const f of held) expect(f).toMatchObject({ patient: 'Patient/p1', explanation: { features: expect.arrayContaining([expect.objectContaining({ feature: 'SpO2', value: 140 })]) } });
      await new Promise((r) => setTimeout(r, 1_100));
      await send(BEDSIDE); // a record after the keep interval, so that a keep falls due
      await until('both monitors to be kept', async () => (await kept()).length === 2, 15_000).catch(async (e) => {
        throw new Error(`${e.message}: ${JSON.stringify({ kept: await kept(), report: stream.report() })}`);
      });
      expect(await kept()).toEqual(['Device/bedside-1', 'Device/spare-1']);
      const before = stream.report().devices.baselines;

      expect((await t.request('POST', '/fhir/Patient/p1/$erase', REASON, bearer(await users.token('privacy-officer')))).status).toBe(200);
      expect(await kept()).toEqual(['Device/spare-1']);
      expect(stream.report().devices.baselines).toBe(before - 1);
      // The findings stay, their readings gone with p1's key.
      const erased = await findings('Device/bedside-1');
      expect(erased.map((f) => [f.id, f.severity]).sort()).toEqual(held.map((f) => [f.id, f.severity]).sort());
      for (const f of erased) {
        expect(f.explanation).toEqual({ detector: 'vital-signs', score: 0, threshold: 0, features: [], erased: true });
        expect(f.patient).toBeUndefined();
      }
      // The monitor's Device is the hospital's (R4 keeps Device out of the Patient compartment): it stays.
      expect((await t.request('GET', '/fhir/Device/bedside-1', undefined, bearer(t.token))).status).toBe(200);
      // Still attached to p1 in its Device, the monitor now reads someone else: attached to no one, its findings under the tenant key.
      await send(BEDSIDE, { SpO2: 141 });
      await until('the new reading to be scored', () => stream.report().scored === 93);
      const fresh = (await findings('Device/bedside-1')).find((f) => f.explanation.features.some((x) => x.value === 141));
      expect(fresh).toBeDefined();
      expect(fresh!.patient).toBeUndefined();
      // Later keeps do not write back what was p1's.
      await send(SPARE, TACHYCARDIC);
      await until('the spare monitor to be scored', () => stream.report().scored === 94);
      await new Promise((r) => setTimeout(r, 1_100));
      await send(SPARE, TACHYCARDIC);
      await until('a later keep', async () => stream.report().scored === 95 && (await kept()).length === 2);
      await stream.close();
      // The bedside monitor's new baseline is nobody's: its vital-sign part names no patient.
      expect(await kept()).toEqual(['Device/bedside-1', 'Device/spare-1']);
      const db = await openVaultDatabase(t.vault.config);
      try {
        expect(decodeBaselines((await db.baselines.load('Device/bedside-1'))!, 256).map((p) => p.name)).toEqual(['vitals', 'network']);
        expect(decodeBaselines((await db.baselines.load('Device/spare-1'))!, 256).map((p) => p.name)).toEqual(['vitals of Patient/p2', 'network']);
      } finally {
        await db.close();
      }
    }, 60_000);
  });
}
