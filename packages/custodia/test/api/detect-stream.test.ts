/**
 * Issue 6 acceptance, end to end: a real vault with its detection stream subscribed to
 * Mosquitto; device telemetry published over MQTT — a learning period of normal readings,
 * then a man-in-the-middle alteration of vital signs and a flood — and the explained
 * findings read back over HTTP from GET /detect/findings with an administrator's token.
 * Flows are linked to the FHIR Devices stored in the vault (by MAC identifier, else by
 * Device.url's IP), unknown talkers land in GET /detect/inventory, and bad messages are
 * counted and reported, never fatal. Once on every database over the in-process bus, and
 * once over NATS JetStream with two scorers sharing the subject.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVault, ETHERNET_ADDRESS_SYSTEM, type DetectStream, type Finding } from '../../src/app/index.js';
import { seededRandom } from '../../src/kernel/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { MQTT_URL, NATS_URL, mqttSuite } from '../helpers/brokers.js';
import { removeTelemetryStreams } from '../helpers/nats-streams.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';
import { until } from '../helpers/until.js';
import { bearer, createUsers } from './access-fixtures.js';

const MONITOR = { mac: '02:00:00:00:04:17', addr: '10.0.4.17' };
const PUMP = { mac: '02:00:00:00:04:18', addr: '10.0.4.18' };
const STRANGER = { mac: '02:00:00:00:99:99', addr: '10.0.9.9' };

const LEGS = [
  ...ALL_DATABASES.map((dialect) => ({ dialect, nats: false })),
  { dialect: 'sqlite' as const, nats: true },
];

for (const { dialect, nats } of LEGS) {
  const bus = nats ? 'NATS JetStream, two scorers' : 'in-process bus';
  const skip = MQTT_URL === undefined || !isAvailable(dialect) || (nats && NATS_URL === undefined);
  describe.skipIf(skip)(mqttSuite(`device telemetry to explained findings on ${dialect} (${bus}${nats && NATS_URL === undefined ? ': skipped, set CUSTODIA_TEST_NATS_URL' : ''})`), () => {
    const tag = randomBytes(4).toString('hex');
    const base = `custodia-test/${tag}`;
    const subject = `custodia.test.${tag}.telemetry`;
    let t: TestVault;
    let admin: Record<string, string>;
    let stream: DetectStream;
    let pub: MqttClient;
    let published = 0;
    const T0 = Date.now() - 10 * 60_000;
    let tick = 0;
    const send = async (device: { mac: string; addr: string }, over: Record<string, unknown> = {}, rand = jitter(tick + 1)): Promise<void> => {
      await pub.publishAsync(`${base}/ward4/${device.mac}`, encode(normalMessage(device, rand, { ts: T0 + ++tick * 1000, ...over })), { qos: 1 });
      published += 1;
    };
    const sendRaw = async (payload: Buffer): Promise<void> => {
      await pub.publishAsync(`${base}/ward4/bad`, payload, { qos: 1 });
      published += 1;
    };
    const findings = async (device: string): Promise<Finding[]> => {
      const r = await t.request('GET', `/detect/findings?device=${encodeURIComponent(device)}`, undefined, admin);
      expect(r.status).toBe(200);
      return r.body.findings;
    };

    beforeAll(async () => {
      t = await startTestVault(dialect, { seed: `stream-${tag}`, config: { detectStream: { mqttUrl: MQTT_URL, topic: `${base}/#`, ...(nats ? { natsUrl: NATS_URL, subject, scorers: 2 } : {}) } } });
      admin = bearer(await (await createUsers(t)).token('admin'));
      // The monitor is registered by its MAC (in the IHE spelling with dashes), the pump by its address only.
      for (const d of [
        { resourceType: 'Device', id: 'monitor-1', status: 'active', identifier: [{ system: ETHERNET_ADDRESS_SYSTEM, value: '02-00-00-00-04-17' }], url: 'http://10.0.4.17/' },
        { resourceType: 'Device', id: 'pump-2', status: 'active', url: 'http://10.0.4.18/' },
      ]) expect((await t.request('PUT', `/fhir/Device/${d.id}`, d)).status).toBe(201);
      stream = t.vault.detectStream!;
      await stream.start();
      pub = await mqtt.connectAsync(MQTT_URL!, { clientId: `custodia-test-pub-${tag}` });
    }, 120_000);
    afterAll(async () => {
      await pub?.endAsync();
      await t?.close();
      if (nats) await removeTelemetryStreams([`CUSTODIA_${subject.replace(/[.-]/g, '_').toUpperCase()}`]);
    });

    it('learns a device before alerting, then explains a MITM alteration of vital signs and a flood', async () => {
      const rand = jitter(99);
      for (let i = 0; i < 40; i++) await send(MONITOR, {}, rand);
      for (let i = 0; i < 5; i++) await send(STRANGER, {}, rand);
      await until('the learning period to be scored', () => stream.report().scored === 45);
      expect(await findings('Device/monitor-1')).toEqual([]);
      expect(stream.report().devices.baselines).toBe(2);

      // A man in the middle rewrites the monitor's readings: plausible values, but not this patient's…
      await send(MONITOR, { SpO2: 84, Pulse_Rate: 128, Heart_rate: 128 }, rand);
      // …then values no patient shows, which contradict each other too.
      await send(MONITOR, { SpO2: 140, Pulse_Rate: 40, Heart_rate: 131 }, rand);
      // A flood from the monitor's address.
      await send(MONITOR, { Rate: 4000, TotPkts: 9000, TotBytes: 1_200_000, Load: 4_000_000, SrcLoad: 3_000_000 }, rand);
      // The pump is known by its address only: its implausible temperature is its own finding.
      await send(PUMP, { Temp: 60 }, rand);
      await until('the attacks to be scored', () => stream.report().scored === 49);
      await until('the findings to be stored', () => stream.report().findings >= 5);

      const monitor = await findings('Device/monitor-1');
      const by = (detector: string, label?: string): Finding => {
        const f = monitor.find((x) => x.explanation.detector === detector && (label === undefined || x.explanation.label === label));
        expect(f, `${detector}/${label}`).toBeDefined();
        return f!;
      };
      // The plausible rewrite: explained by how far each vital sign is from this monitor's own baseline.
      const altered = monitor.find((f) => f.explanation.label === 'deviation' && f.explanation.features.some((x) => x.feature === 'SpO2' && x.value === 84));
      expect(altered).toMatchObject({ severity: 'high', explanation: { detector: 'vital-signs', threshold: 5 } });
      expect(altered!.explanation.features.slice(0, 3).map((f) => f.feature).sort()).toEqual(['Heart_rate', 'Pulse_Rate', 'SpO2']);
      const spo2 = altered!.explanation.features.find((f) => f.feature === 'SpO2')!;
      expect(spo2.baseline).toBeGreaterThanOrEqual(96);
      expect(spo2.z).toBeLessThan(-5);
      const hr = altered!.explanation.features.find((f) => f.feature === 'Heart_rate')!;
      expect(hr.value).toBe(128);
      expect(Math.abs(hr.baseline! - 78)).toBeLessThanOrEqual(4); // the normal readings jitter ±4 around 78
      expect(by('vital-signs', 'implausible')).toMatchObject({ severity: 'critical', explanation: { features: [{ feature: 'SpO2', value: 140 }] } });
      expect(by('vital-signs', 'inconsistent').explanation.features.map((f) => [f.feature, f.value])).toEqual([['Pulse_Rate', 40], ['Heart_rate', 131]]);
      const flood = by('flood');
      expect(flood.severity).toBe('high');
      const rate = flood.explanation.features.find((f) => f.feature === 'Rate')!;
      expect(rate.value).toBe(4000);
      expect(rate.baseline).toBeLessThan(14);
      // Nothing was raised during the learning period.
      for (const f of monitor) expect(f.start).toBeGreaterThan(T0 + 45_000);
      expect((await findings('Device/pump-2')).map((f) => [f.explanation.label, f.explanation.features[0]?.feature])).toEqual([['implausible', 'Temp']]);
      expect(await findings(`talker:mac:${STRANGER.mac}`)).toEqual([]);
      // Only the security staff read findings.
      expect((await t.request('GET', '/detect/findings', undefined, { authorization: 'Bearer garbage' })).status).toBe(401);
    }, 120_000);

    it('lists unknown talkers in the inventory, and counts bad messages without stopping', async () => {
      await sendRaw(Buffer.from('not json'));
      await sendRaw(encode({ ...normalMessage(STRANGER, jitter(5)), SpO2: '97' }));
      await sendRaw(Buffer.alloc(20_000, 0x20));
      await send(STRANGER, {}, jitter(6));
      await until('all messages to arrive', () => stream.report().source.received === published);
      await until('the last good message to be scored', () => stream.report().scored === 50);
      const report = stream.report();
      expect(report.source.badRecords).toBe(3);
      expect(report.source.firstBad.map((b) => [b.topic.startsWith('"custodia-test/'), b.reason])).toEqual([
        [true, 'not UTF-8 JSON'],
        [true, 'SpO2: not a number'],
        [true, 'message of 20000 bytes exceeds 16384'],
      ]);
      expect(report.source.firstBad.map((b) => b.sequence)).toEqual([published - 3, published - 2, published - 1]);
      expect(report.failures).toBe(0);
      if (nats) expect(report.scorers.reduce((n, s) => n + s.records, 0)).toBe(50);

      await t.vault.inventory.flush();
      const r = await t.request('GET', '/detect/inventory', undefined, admin);
      expect(r.status).toBe(200);
      expect(r.body.talkers).toEqual([expect.objectContaining({ talker: `mac:${STRANGER.mac}`, mac: STRANGER.mac, address: STRANGER.addr, flows: 6 })]);
      expect((await t.request('GET', '/detect/inventory?colour=red', undefined, admin)).status).toBe(400);
      expect((await t.request('GET', '/detect/inventory', undefined, { authorization: 'Bearer garbage' })).status).toBe(401);
    }, 60_000);

    it('takes back each device’s baselines after a restart: its first altered record alerts, with no learning period', async () => {
      await stream.close(); // keeps every device's baselines
      expect(stream.report().kept).toMatchObject({ restored: 0, refused: 0 });
      expect(stream.report().kept.saved).toBeGreaterThanOrEqual(3); // the monitor, the pump, the stranger (more if a keep fell due before)
      const again = await createVault(t.vault.config, { random: seededRandom(`restart-${tag}`) });
      try {
        const restarted = again.detectStream!;
        await restarted.start();
        // A fever the monitor has never reported: 30 new samples would be needed to learn it afresh.
        await send(MONITOR, { Temp: 38.9 }, jitter(7));
        await until('the record to be scored after the restart', () => restarted.report().scored === 1);
        expect(restarted.report().kept).toMatchObject({ restored: 1, refused: 0 });
        const fever = (await findings('Device/monitor-1')).find((f) => f.explanation.label === 'deviation' && f.explanation.features[0]?.feature === 'Temp');
        expect(fever).toMatchObject({ severity: 'high', count: 1, explanation: { detector: 'vital-signs' } });
        expect(fever!.explanation.features[0]).toMatchObject({ feature: 'Temp', value: 38.9 });
        expect(fever!.explanation.features[0]!.baseline).toBeCloseTo(36.8, 0);
        expect(fever!.explanation.features[0]!.z).toBeGreaterThan(5);
      } finally {
        await again.close();
      }
    }, 60_000);
  });
}
