/**
 * Topics bound to devices (app/topic-identity.ts, `--detect-device-level`), end to end: a
 * Mosquitto of our own where each device signs in as itself and its ACL lets it publish
 * only on `custodia/telemetry/<its username>` (the configuration operations.md gives), and
 * a real vault subscribed to `custodia/telemetry/+` with level 3 naming the Device.
 *
 * - A device's own readings under its own name are scored.
 * - The broker refuses a device publishing on another device's topic (MQTT 5 PUBACK 0x87).
 * - A device publishing under its own topic in another sender's name — another Device, or
 *   an address no Device has — is refused before anything counts it: no baseline, no
 *   arrival, no inventory entry for the name it claimed; and an impersonation finding is
 *   raised against the publishing Device, read back over HTTP; repeats merge into it.
 * - A broker user with no registered Device is refused, with no finding.
 *
 * And the same with device identity from client certificates (mutual TLS, the CN as the
 * username: `use_identity_as_username`), the vault itself a TLS client of the broker.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETHERNET_ADDRESS_SYSTEM, type DetectStream, type Finding } from '../../src/app/index.js';
import { MQTT_URL, mqttSuite } from '../helpers/brokers.js';
import { freePort } from '../helpers/free-port.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';
import { MOSQUITTO, MOSQUITTO_PASSWD, OPENSSL, startMosquittoWithAcl, type Broker } from '../helpers/tls-brokers.js';
import { issueClientCertificate, makeTestPki } from '../helpers/openssl-pki.js';
import { until } from '../helpers/until.js';
import { bearer, createUsers } from './access-fixtures.js';

const MONITOR = { mac: '02:00:00:00:05:17', addr: '10.0.5.17' };
const PUMP = { mac: '02:00:00:00:05:18', addr: '10.0.5.18' };
const STRANGER = { mac: '02:00:00:00:95:95', addr: '10.0.9.95' };
const missing = [...(MOSQUITTO === undefined ? ['mosquitto'] : []), ...(MOSQUITTO_PASSWD === undefined ? ['mosquitto_passwd'] : [])];
const ACL = ['user vault', 'topic read custodia/telemetry/+', 'pattern write custodia/telemetry/%u'];

describe.skipIf(MQTT_URL === undefined || missing.length > 0)(mqttSuite(`telemetry topics bound to devices (own Mosquitto with per-device ACLs${missing.length > 0 ? `: skipped, ${missing.join(', ')} not found` : ''})`), () => {
  let dir: string;
  let broker: Broker;
  let t: TestVault;
  let stream: DetectStream;
  let admin: Record<string, string>;
  const clients: MqttClient[] = [];
  let port: number;
  let tick = 0;
  const T0 = Date.now() - 10 * 60_000;
  const rand = jitter(7);
  const signIn = async (user: string): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `custodia-test-${user}`, username: user, password: `${user}-password`, protocolVersion: 5, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  const reading = (sender: { mac: string; addr: string }, over: Record<string, unknown> = {}): Buffer => encode(normalMessage(sender, rand, { ts: T0 + ++tick * 1000, ...over }));
  const findings = async (device: string): Promise<Finding[]> => {
    const r = await t.request('GET', `/detect/findings?device=${encodeURIComponent(device)}`, undefined, admin);
    expect(r.status).toBe(200);
    return r.body.findings;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-bound-topics-'));
    port = await freePort();
    const users = Object.fromEntries(['vault', 'monitor-1', 'pump-2', 'ghost'].map((u) => [u, `${u}-password`]));
    broker = await startMosquittoWithAcl(dir, { port, users, acl: ACL });
    const passwordFile = join(dir, 'vault-password');
    writeFileSync(passwordFile, 'vault-password\n', { mode: 0o600 });
    t = await startTestVault('sqlite', { config: { detectStream: { mqttUrl: `mqtt://127.0.0.1:${port}`, topic: 'custodia/telemetry/+', deviceLevel: 3, mqtt: { username: 'vault', passwordFile } } } });
    admin = bearer(await (await createUsers(t)).token('admin'));
    for (const d of [
      { resourceType: 'Device', id: 'monitor-1', status: 'active', identifier: [{ system: ETHERNET_ADDRESS_SYSTEM, value: MONITOR.mac }] },
      { resourceType: 'Device', id: 'pump-2', status: 'active', url: `http://${PUMP.addr}/` },
    ]) expect((await t.request('PUT', `/fhir/Device/${d.id}`, d)).status).toBe(201);
    stream = t.vault.detectStream!;
    await stream.start();
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await t?.close();
    await broker?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('scores each device under its own name, and the broker keeps it off other devices’ topics', async () => {
    const monitor = await signIn('monitor-1');
    const pump = await signIn('pump-2');
    for (let i = 0; i < 3; i++) await monitor.publishAsync('custodia/telemetry/monitor-1', reading(MONITOR), { qos: 1 });
    for (let i = 0; i < 2; i++) await pump.publishAsync('custodia/telemetry/pump-2', reading(PUMP), { qos: 1 });
    await until('the five readings to be scored', () => stream.report().scored === 5);
    expect(stream.report().devices.baselines).toBe(2);
    // Not on another device's topic: the broker answers "not authorized" and the vault never sees it.
    await expect(monitor.publishAsync('custodia/telemetry/pump-2', reading(PUMP), { qos: 1 })).rejects.toThrow(/not authorized/i);
    expect(stream.report().source.received).toBe(5);
  }, 60_000);

  it('refuses a reading in another sender’s name under a device’s own topic, and raises an impersonation against that device', async () => {
    const monitor = clients[0]!;
    const before = stream.report();
    // The monitor's credentials publish the pump's readings, then a stranger's (an address no Device has).
    await monitor.publishAsync('custodia/telemetry/monitor-1', reading(PUMP, { Temp: 41 }), { qos: 1 });
    await monitor.publishAsync('custodia/telemetry/monitor-1', reading(STRANGER), { qos: 1 });
    await until('both to be refused', () => stream.report().source.badRecords === before.source.badRecords + 2);
    const r = stream.report();
    expect(r.impersonations).toBe(2);
    expect(r.source.firstBad.slice(-2).map((b) => [b.topic, b.reason])).toEqual([
      ['"custodia/telemetry/monit…"', 'published as Device/monitor-1 in the name of Device/pump-2'],
      ['"custodia/telemetry/monit…"', 'published as Device/monitor-1 in the name of an unregistered sender'],
    ]);
    // Nothing counted them: no scoring, no new baseline, no arrival, no inventory entry for the claimed name.
    expect(r.scored).toBe(before.scored);
    expect(r.devices.baselines).toBe(before.devices.baselines);
    expect(r.arrivals.tracked).toBe(before.arrivals.tracked);
    await t.vault.inventory.flush();
    expect((await t.request('GET', '/detect/inventory', undefined, admin)).body.talkers).toEqual([]);
    expect(await findings('Device/pump-2')).toEqual([]);
    // One finding against the device whose credentials did it, the two attempts merged into it.
    await until('the finding to be stored', () => stream.report().findings >= 1);
    const [f, ...rest] = await findings('Device/monitor-1');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'high', status: 'new', count: 2, explanation: { detector: 'device-identity', label: 'sender-mismatch' } });
    // The summary is the first attempt's (repeats merge into the open finding).
    expect(f!.summary).toBe(`Telemetry published with Device/monitor-1's broker identity named another sender: mac:${PUMP.mac} (Device/pump-2)`);
  }, 60_000);

  it('refuses a broker user that is no registered Device, raising nothing', async () => {
    const ghost = await signIn('ghost');
    const before = stream.report();
    await ghost.publishAsync('custodia/telemetry/ghost', reading(STRANGER), { qos: 1 });
    await until('it to be refused', () => stream.report().source.badRecords === before.source.badRecords + 1);
    expect(stream.report().source.firstBad.at(-1)!.reason).toBe('Device/ghost is not a registered Device');
    expect(stream.report().impersonations).toBe(before.impersonations);
    expect(await findings('Device/ghost')).toEqual([]);
  }, 60_000);
});

const tlsMissing = [...missing.filter((m) => m === 'mosquitto'), ...(OPENSSL === undefined ? ['openssl'] : [])];

describe.skipIf(MQTT_URL === undefined || tlsMissing.length > 0)(mqttSuite(`telemetry topics bound to devices by client certificate (own Mosquitto, mutual TLS${tlsMissing.length > 0 ? `: skipped, ${tlsMissing.join(', ')} not found` : ''})`), () => {
  let dir: string;
  let broker: Broker;
  let t: TestVault;
  let stream: DetectStream;
  let admin: Record<string, string>;
  const clients: MqttClient[] = [];
  let port: number;
  let ca: string;
  let tick = 0;
  const T0 = Date.now() - 10 * 60_000;
  const rand = jitter(8);
  const reading = (sender: { mac: string; addr: string }): Buffer => encode(normalMessage(sender, rand, { ts: T0 + ++tick * 1000 }));
  const device = async (cn: string): Promise<MqttClient> => {
    const { cert, key } = issueClientCertificate(dir, cn);
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, { clientId: `custodia-test-tls-${cn}`, ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key), protocolVersion: 5, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-bound-tls-'));
    const pki = makeTestPki(dir); // its client certificate, CN custodia-vault, is the vault's
    ca = pki.caCert;
    port = await freePort();
    broker = await startMosquittoWithAcl(dir, { port, acl: ['user custodia-vault', 'topic read custodia/telemetry/+', 'pattern write custodia/telemetry/%u'], tls: { ca: pki.caCert, cert: pki.serverCert, key: pki.serverKey } });
    t = await startTestVault('sqlite', { config: { detectStream: { mqttUrl: `mqtts://127.0.0.1:${port}`, topic: 'custodia/telemetry/+', deviceLevel: 3, mqtt: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey } } } });
    admin = bearer(await (await createUsers(t)).token('admin'));
    for (const d of [
      { resourceType: 'Device', id: 'monitor-1', status: 'active', identifier: [{ system: ETHERNET_ADDRESS_SYSTEM, value: MONITOR.mac }] },
      { resourceType: 'Device', id: 'pump-2', status: 'active', url: `http://${PUMP.addr}/` },
    ]) expect((await t.request('PUT', `/fhir/Device/${d.id}`, d)).status).toBe(201);
    stream = t.vault.detectStream!;
    await stream.start();
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await t?.close();
    await broker?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('admits a device’s own readings by its certificate, refuses another’s topic, and raises an impersonation in another’s name', async () => {
    const monitor = await device('monitor-1');
    await monitor.publishAsync('custodia/telemetry/monitor-1', reading(MONITOR), { qos: 1 });
    await until('the reading to be scored', () => stream.report().scored === 1);
    await expect(monitor.publishAsync('custodia/telemetry/pump-2', reading(PUMP), { qos: 1 })).rejects.toThrow(/not authorized/i);
    await monitor.publishAsync('custodia/telemetry/monitor-1', reading(PUMP), { qos: 1 });
    await until('the impersonation to be refused', () => stream.report().source.badRecords === 1);
    expect(stream.report()).toMatchObject({ scored: 1, impersonations: 1 });
    await until('the finding to be stored', () => stream.report().findings >= 1);
    const r = await t.request('GET', '/detect/findings?device=Device%2Fmonitor-1', undefined, admin);
    expect(r.body.findings).toEqual([expect.objectContaining({ severity: 'high', explanation: expect.objectContaining({ detector: 'device-identity', label: 'sender-mismatch' }) })]);
  }, 60_000);
});
