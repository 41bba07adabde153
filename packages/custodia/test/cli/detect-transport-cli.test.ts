/**
 * `custodia serve` refuses to carry device telemetry (patient data) insecurely, before it
 * starts anything: plain MQTT or NATS beyond loopback without --detect-mqtt-insecure /
 * --detect-nats-insecure, a password on the command line (there is no flag for it), a
 * client certificate without its key, a TLS file that cannot be read. Exit code 2 and one
 * line, as for every refused serve option; a broker it cannot use stops the start (exit 2)
 * rather than leaving a server up without its stream. The built binary in a child process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MQTT_URL, mqttSuite } from '../helpers/brokers.js';
import { serveCli } from '../helpers/cli-process.js';
import { freePort } from '../helpers/free-port.js';
import { makeTestPki, type TestPki } from '../helpers/openssl-pki.js';
import { expectOneLineError, runCustodia } from '../helpers/spawn-cli.js';
import { MOSQUITTO, MOSQUITTO_PASSWD, OPENSSL, startMosquitto, type Broker } from '../helpers/tls-brokers.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('custodia-detect-transport-');

const serve = (args: string[], env: Record<string, string> = {}) => runCustodia(['serve', '--data-dir', tempDir(), '--port', '0', '--log-level', 'silent', ...args], env);

describe('custodia serve: telemetry transport refusals', () => {
  it('refuses plain MQTT and NATS beyond loopback unless the matching --…-insecure is given', () => {
    expectOneLineError(serve(['--detect-mqtt', 'mqtt://broker.ward7.example:1883']), /--detect-mqtt mqtt:\/\/broker.ward7.example:1883 is plain MQTT beyond loopback: .*pass --detect-mqtt-insecure/);
    expectOneLineError(serve([], { CUSTODIA_DETECT_MQTT_URL: 'mqtt://10.1.2.3:1883' }), /is plain MQTT beyond loopback/);
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-nats', 'nats://nats.example:4222']), /--detect-nats nats:\/\/nats.example:4222 is plain NATS beyond loopback: .*pass --detect-nats-insecure/);
    // The insecure flag of one broker does not excuse the other.
    expectOneLineError(serve(['--detect-mqtt', 'mqtt://10.1.2.3:1883', '--detect-nats-insecure', '--detect-nats', 'nats://10.1.2.4:4222']), /plain MQTT beyond loopback/);
  });

  it('binds topics to devices only at a + level of the topic filter', () => {
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-device-level', '3']), /--detect-device-level 3 must point at a \+ level of --detect-topic \(custodia\/telemetry\/#\)/);
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-topic', 'custodia/telemetry/+', '--detect-device-level', 'three']), /--detect-device-level is a whole number from 1 to 32/);
  });

  it('has no way to give a password on the command line, and refuses one in the URL', () => {
    for (const flag of ['--detect-mqtt-password', '--detect-nats-password', '--detect-nats-token']) {
      const r = serve(['--detect-mqtt', 'mqtts://broker.example:8883', flag, 'hunter2']);
      expect(r.code, flag).toBe(2);
      expect(r.stderr).toContain(`unknown option '${flag}'`);
    }
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://vault:hunter2@broker.example:8883']), /--detect-mqtt: credentials in the URL are refused/);
    expect(serve(['--detect-mqtt', 'mqtts://vault:hunter2@broker.example:8883']).stderr).not.toContain('hunter2');
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883'], { CUSTODIA_DETECT_MQTT_PASSWORD: 'hunter2' }), /An MQTT password needs --detect-mqtt-username/);
  });

  it('refuses a client certificate without its key, unreadable files and TLS files for a plain URL', () => {
    const d = tempDir();
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-mqtt-cert', join(d, 'client.crt')]), /Mutual TLS needs both --detect-mqtt-cert and --detect-mqtt-key/);
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-nats', 'tls://nats.example:4222', '--detect-nats-key', join(d, 'client.key')]), /Mutual TLS needs both --detect-nats-cert and --detect-nats-key/);
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-mqtt-ca', join(d, 'missing-ca.pem')]), /--detect-mqtt-ca\) .*missing-ca\.pem cannot be read/);
    const notPem = join(d, 'not-a-cert.pem');
    writeFileSync(notPem, 'SECRET-LOOKING CONTENT\n');
    const r = serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-mqtt-ca', notPem]);
    expectOneLineError(r, /not-a-cert\.pem holds no PEM certificate/);
    expect(r.stderr).not.toContain('SECRET-LOOKING'); // files are named, never quoted
    const loose = join(d, 'password');
    writeFileSync(loose, 'hunter2\n', { mode: 0o644 });
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-mqtt-username', 'vault', '--detect-mqtt-password-file', loose]), /--detect-mqtt-password-file .* is readable by other users .*chmod 600/);
    expectOneLineError(serve(['--detect-mqtt', 'mqtt://127.0.0.1:1883', '--detect-mqtt-ca', notPem]), /are for TLS: use an mqtts:\/\/ broker URL/);
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://broker.example:8883', '--detect-nats', 'tls://nats.example:4222', '--detect-nats-user', 'vault']), /needs both --detect-nats-user and CUSTODIA_DETECT_NATS_PASSWORD/);
  });
});

describe('custodia serve: a broker it cannot use stops the start', () => {
  it('exits 2 with one line when the MQTT broker cannot be reached (the HTTP server it opened is closed)', () => {
    // Port 9 (discard) on loopback: nothing listens there.
    expectOneLineError(serve(['--detect-mqtt', 'mqtts://127.0.0.1:9']), /^custodia: The MQTT broker cannot be reached or refused the connection: .*ECONNREFUSED/);
  });
});

const missingBinaries = [['openssl', OPENSSL], ['mosquitto', MOSQUITTO], ['mosquitto_passwd', MOSQUITTO_PASSWD]].filter(([, v]) => v === undefined).map(([k]) => k);

describe.skipIf(MQTT_URL === undefined || missingBinaries.length > 0)(mqttSuite(`custodia serve against a Mosquitto with mutual TLS and a password${missingBinaries.length === 0 ? '' : `: skipped, ${missingBinaries.join(', ')} not found`}`), () => {
  let dir: string;
  let pki: TestPki;
  let broker: Broker;
  let port: number;
  beforeAll(async () => {
    dir = tempDir();
    pki = makeTestPki(dir);
    port = await freePort();
    broker = await startMosquitto(dir, { mtlsPort: port, otherPort: await freePort(), ca: pki.caCert, cert: pki.serverCert, key: pki.serverKey, otherCa: pki.otherCaCert, otherCert: pki.otherServerCert, otherKey: pki.otherServerKey, users: { vault: 'vault-password' } });
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });
  const tlsArgs = (): string[] => ['--detect-mqtt', `mqtts://127.0.0.1:${port}`, '--detect-mqtt-ca', pki.caCert, '--detect-mqtt-cert', pki.clientCert, '--detect-mqtt-key', pki.clientKey, '--detect-mqtt-username', 'vault'];

  it('starts with the CA, the client certificate and the password from a 0600 file', async () => {
    const passwordFile = join(dir, 'mqtt-password');
    writeFileSync(passwordFile, 'vault-password\n', { mode: 0o600 });
    const s = await serveCli(['--data-dir', tempDir(), ...tlsArgs(), '--detect-mqtt-password-file', passwordFile]);
    try {
      expect(s.stderr()).not.toContain('vault-password');
    } finally {
      await s.stop();
    }
  }, 60_000);

  it('exits 2 on a wrong password from the environment, naming the refusal and not the password', () => {
    const r = serve(tlsArgs(), { CUSTODIA_DETECT_MQTT_PASSWORD: 'not-the-password' });
    expectOneLineError(r, /refused the connection: .*(Not authorized|Bad User Name or Password)/i);
    expect(r.stderr).not.toContain('not-the-password');
  }, 60_000);
});
