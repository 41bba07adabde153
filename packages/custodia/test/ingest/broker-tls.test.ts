/**
 * Telemetry in transit (issue 6; docs/threat-model.md): the detection stream's brokers
 * over TLS with credentials, against real servers of our own — a second Mosquitto (mutual
 * TLS and a password file, no anonymous clients) and a nats-server with JetStream, TLS
 * with client certificates and a user — and a throwaway PKI made with `openssl`. The
 * options go through the vault's config (files checked, the password from the
 * environment) to the adapters, as `custodia serve` does.
 *
 *   - the right CA, client certificate and password: connected, a telemetry message arrives;
 *   - a server certificate from another CA, or no CA (system roots): refused;
 *   - a wrong password, or no client certificate: refused, `stream-unavailable`, no crash.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type DetectStreamConfig } from '../../src/app/index.js';
import type { TelemetryRecord } from '../../src/detect/index.js';
import { NatsTelemetryBus, openMqttTelemetry, parseTelemetryMessage } from '../../src/ingest/index.js';
import { isCustodiaError, secureRandom, systemClock } from '../../src/kernel/index.js';
import { MQTT_URL, NATS_URL, mqttSuite, natsSuite } from '../helpers/brokers.js';
import { freePort } from '../helpers/free-port.js';
import { makeTestPki, type TestPki } from '../helpers/openssl-pki.js';
import { unavailable } from '../helpers/stream-unavailable.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';
import { MOSQUITTO, MOSQUITTO_PASSWD, NATS_SERVER, OPENSSL, startMosquitto, startNatsServer, type Broker } from '../helpers/tls-brokers.js';

const PASSWORD = 'correct horse battery staple';
const DEVICE = { mac: '02:00:00:00:07:01', addr: '10.0.7.1' };

const missing = (names: Record<string, string | undefined>): string[] => Object.entries(names).filter(([, v]) => v === undefined).map(([k]) => k);
const mqttMissing = missing({ openssl: OPENSSL, mosquitto: MOSQUITTO, mosquitto_passwd: MOSQUITTO_PASSWD });
const natsMissing = missing({ openssl: OPENSSL, 'nats-server': NATS_SERVER });
const why = (names: string[]): string => (names.length === 0 ? '' : `: skipped, ${names.join(', ')} not found`);

let dir: string;
let pki: TestPki;
const setup = (): void => {
  if (dir !== undefined) return;
  dir = mkdtempSync(join(tmpdir(), 'custodia-broker-tls-'));
  pki = makeTestPki(dir);
};
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(MQTT_URL === undefined || mqttMissing.length > 0)(mqttSuite(`the MQTT source over mutual TLS with a password (own Mosquitto${why(mqttMissing)})`), () => {
  let broker: Broker;
  let mtlsPort: number;
  let otherPort: number;
  /** The detection stream's config as `custodia serve` resolves it. */
  const configOf = (port: number, o: { ca?: string; cert?: boolean; password?: string } = {}): DetectStreamConfig =>
    resolveConfig(
      {
        dataDir: dir,
        detectStream: {
          mqttUrl: `mqtts://127.0.0.1:${port}`,
          topic: 'custodia-tls/#',
          mqtt: { ca: o.ca ?? pki.caCert, ...(o.cert === false ? {} : { cert: pki.clientCert, key: pki.clientKey }), username: 'vault' },
        },
      },
      { CUSTODIA_DETECT_MQTT_PASSWORD: o.password ?? PASSWORD },
    ).detectStream!;
  const open = (c: DetectStreamConfig, onRecord: (r: TelemetryRecord) => Promise<void> = async () => undefined) =>
    openMqttTelemetry({ url: c.mqttUrl, topic: c.topic, clock: systemClock, random: secureRandom, ...(c.mqttTls === undefined ? {} : { tls: c.mqttTls }), ...c.mqttAuth }, onRecord);

  beforeAll(async () => {
    setup();
    [mtlsPort, otherPort] = [await freePort(), await freePort()];
    broker = await startMosquitto(dir, { mtlsPort, otherPort, ca: pki.caCert, cert: pki.serverCert, key: pki.serverKey, otherCa: pki.otherCaCert, otherCert: pki.otherServerCert, otherKey: pki.otherServerKey, users: { vault: PASSWORD, device: 'device-password' } });
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('connects with the CA, its client certificate and the password, and receives a telemetry message', async () => {
    const config = configOf(mtlsPort);
    expect(JSON.stringify(config)).not.toContain(PASSWORD); // the resolved secrets print as [redacted]
    expect(JSON.stringify(config)).not.toContain('PRIVATE KEY');
    const got: TelemetryRecord[] = [];
    const source = await open(config, async (r) => void got.push(r));
    const pub = await mqtt.connectAsync(`mqtts://127.0.0.1:${mtlsPort}`, { ca: config.mqttTls!.ca!, cert: config.mqttTls!.cert!, key: config.mqttTls!.key!, username: 'device', password: 'device-password', rejectUnauthorized: true });
    try {
      await pub.publishAsync('custodia-tls/ward7/monitor', encode(normalMessage(DEVICE, jitter(1), { FlowId: 'tls-flow-1' })), { qos: 1 });
      const end = Date.now() + 10_000;
      while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      await source.idle();
      expect(got.map((r) => r.id)).toEqual(['tls-flow-1']);
      expect(source.report()).toMatchObject({ received: 1, records: 1, badRecords: 0 });
    } finally {
      await pub.endAsync();
      await source.close();
    }
  });

  it('refuses a broker whose certificate another CA issued, and one only the system roots would have to vouch for', async () => {
    expect(await unavailable(open(configOf(otherPort)))).toMatch(/certificate/i);
    const noCa = configOf(mtlsPort);
    const { ca: _ca, ...rest } = noCa.mqttTls!;
    expect(await unavailable(openMqttTelemetry({ url: noCa.mqttUrl, topic: noCa.topic, clock: systemClock, random: secureRandom, tls: rest, ...noCa.mqttAuth }, async () => undefined))).toMatch(/certificate/i);
  });

  it('fails cleanly on a wrong password: stream-unavailable, saying the broker refused, never the password', async () => {
    const message = await unavailable(open(configOf(mtlsPort, { password: 'wrong password' })));
    expect(message).toMatch(/refused the connection: .*(not authorized|bad user ?name or password)/i);
    expect(message).not.toContain('wrong password');
  });

  it('is refused by a broker that requires a client certificate when it has none', async () => {
    await unavailable(open(configOf(mtlsPort, { cert: false })));
  }, 30_000);
});

describe.skipIf(NATS_URL === undefined || natsMissing.length > 0)(natsSuite(`the NATS bus over mutual TLS with a user and password (own nats-server${why(natsMissing)})`), () => {
  let server: Broker;
  let port: number;
  const optionsOf = (o: { ca?: string; password?: string; url?: string } = {}) => {
    const c = resolveConfig(
      {
        dataDir: dir,
        detectStream: {
          mqttUrl: 'mqtt://127.0.0.1:1883',
          natsUrl: o.url ?? `tls://127.0.0.1:${port}`,
          subject: 'custodia.tls.telemetry',
          nats: { ca: o.ca ?? pki.caCert, cert: pki.clientCert, key: pki.clientKey, user: 'vault' },
        },
      },
      { CUSTODIA_DETECT_NATS_PASSWORD: o.password ?? PASSWORD },
    ).detectStream!.nats!;
    return { ...c, clock: systemClock, ackWaitMs: 2_000 };
  };

  beforeAll(async () => {
    setup();
    port = await freePort();
    server = await startNatsServer(dir, { port, ca: pki.caCert, cert: pki.serverCert, key: pki.serverKey, user: 'vault', password: PASSWORD });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('connects with the CA, its client certificate and the password, and carries a record to a consumer', async () => {
    const options = optionsOf();
    expect(JSON.stringify(options)).not.toContain(PASSWORD);
    const bus = await NatsTelemetryBus.open(options);
    const got: string[] = [];
    const consumer = await bus.consume(async (r) => void got.push(r.id));
    try {
      const record = parseTelemetryMessage(encode(normalMessage(DEVICE, jitter(2), { FlowId: 'tls-nats-1', ts: Date.now() })), { position: { topic: 't', sequence: 1 }, fallbackId: 'x', receivedMs: Date.now() });
      await bus.publish(record);
      const end = Date.now() + 10_000;
      while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      expect(got, JSON.stringify(consumer.report())).toEqual(['tls-nats-1']);
    } finally {
      await consumer.stop();
      await bus.close();
    }
  }, 30_000);

  it('refuses a server whose certificate another CA issued', async () => {
    expect(await unavailable(NatsTelemetryBus.open(optionsOf({ ca: pki.otherCaCert })))).toMatch(/certificate/i);
  });

  it('fails cleanly on a wrong password: stream-unavailable, never the password', async () => {
    const message = await unavailable(NatsTelemetryBus.open(optionsOf({ password: 'wrong password' })));
    expect(message).toMatch(/authorization/i);
    expect(message).not.toContain('wrong password');
  });
});

// The PKI's own files are what the suites above read; an extra check that a key file others can read is refused before any connection.
describe.skipIf(OPENSSL === undefined)(`broker TLS files are checked before connecting${OPENSSL === undefined ? ' (skipped, openssl not found)' : ''}`, () => {
  it('refuses a world-readable client key, a key of another certificate, and a missing CA file', () => {
    setup();
    const refusal = (mqttInput: Record<string, unknown>): string => {
      try {
        resolveConfig({ dataDir: dir, detectStream: { mqttUrl: 'mqtts://127.0.0.1:8883', mqtt: mqttInput } }, {});
      } catch (e) {
        if (isCustodiaError(e, 'config-invalid')) return e.message;
        throw e;
      }
      return 'accepted';
    };
    const loose = join(dir, 'loose.key');
    writeFileSync(loose, 'x', { mode: 0o644 });
    expect(refusal({ cert: pki.clientCert, key: loose })).toMatch(/--detect-mqtt-key .* is readable by other users/);
    expect(refusal({ cert: pki.clientCert, key: pki.serverKey })).toMatch(/--detect-mqtt-key .* is not the private key of --detect-mqtt-cert/);
    expect(refusal({ ca: join(dir, 'nope.crt') })).toMatch(/--detect-mqtt-ca\) .*nope\.crt cannot be read/);
    expect(refusal({ ca: pki.clientKey })).toMatch(/holds no PEM certificate/);
    expect(refusal({ ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey })).toBe('accepted');
  });
});
