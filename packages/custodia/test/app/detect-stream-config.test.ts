/**
 * The detection stream's configuration (app/detect-stream-config.ts): off by default,
 * every value checked once, the environment as a fallback; and the MAC spellings the
 * Device directory accepts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalMac, resolveConfig } from '../../src/app/index.js';
import { isCustodiaError } from '../../src/kernel/index.js';

const config = (detectStream: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => resolveConfig({ dataDir: '/tmp/custodia-config-test', detectStream }, env).detectStream;
const refusal = (detectStream: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string => {
  try {
    config(detectStream, env);
  } catch (e) {
    if (isCustodiaError(e, 'config-invalid')) return e.message;
    throw e;
  }
  return 'accepted';
};

describe('detection stream config', () => {
  it('is off by default and on with an MQTT broker, with defaults', () => {
    expect(config({})).toBeUndefined();
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1883' })).toEqual({ mqttUrl: 'mqtt://127.0.0.1:1883', topic: 'custodia/telemetry/#', scorers: 1, keepSeconds: 30, silenceSeconds: 300 });
    expect(config({}, { CUSTODIA_DETECT_MQTT_URL: 'mqtts://broker:8883', CUSTODIA_DETECT_TOPIC: 'hospital/+/telemetry', CUSTODIA_DETECT_NATS_URL: 'nats://127.0.0.1:4222' })).toEqual({
      mqttUrl: 'mqtts://broker:8883',
      topic: 'hospital/+/telemetry',
      mqttTls: {},
      nats: { url: 'nats://127.0.0.1:4222', subject: 'custodia.detect.telemetry', stream: 'CUSTODIA_CUSTODIA_DETECT_TELEMETRY', durable: 'custodia-scorers', partitions: 8 },
      scorers: 1,
      keepSeconds: 30,
      silenceSeconds: 300,
    });
    expect(Object.isFrozen(config({ mqttUrl: 'mqtt://127.0.0.1:1' }))).toBe(true);
  });

  it('refuses what it cannot use, saying which option', () => {
    expect(refusal({ natsUrl: 'nats://h:4222' })).toMatch(/needs --detect-mqtt/);
    expect(refusal({ mqttUrl: 'http://h:1883' })).toMatch(/--detect-mqtt must be/);
    expect(refusal({ mqttUrl: 'not a url' })).toMatch(/--detect-mqtt must be a URL/);
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', natsUrl: 'redis://h:1' })).toMatch(/--detect-nats/);
    for (const topic of ['a/#/b', 'a/b#', 'a+/b', '']) expect(refusal({ mqttUrl: 'mqtt://h:1', topic: topic || '\u0000' }), topic).toMatch(/--detect-topic/);
    for (const subject of ['a.*', 'a.>', 'a..b', 'a b']) expect(refusal({ mqttUrl: 'mqtt://h:1', subject }), subject).toMatch(/--detect-subject/);
    for (const scorers of [0, 17, '1.5', 'x', 2.5]) expect(refusal({ mqttUrl: 'mqtt://h:1', scorers }), String(scorers)).toMatch(/--detect-scorers/);
    for (const partitions of [0, 257, '1.5', 'x', 2.5, '-1', '0008', ' 8']) expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', natsUrl: 'nats://127.0.0.1:4222', partitions }), String(partitions)).toMatch(/--detect-partitions is a whole number from 1 to 256/);
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', partitions: 4 })).toMatch(/--detect-partitions needs --detect-nats/);
    expect(refusal({ partitions: 4 })).toMatch(/needs --detect-mqtt/);
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1', natsUrl: 'nats://127.0.0.1:4222', partitions: '256' })?.nats?.partitions).toBe(256);
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1', natsUrl: 'nats://127.0.0.1:4222' }, { CUSTODIA_DETECT_PARTITIONS: '3' })?.nats?.partitions).toBe(3);
    for (const keepSeconds of [0, 3601, '1.5', 'x', '-1', '030']) expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', keepSeconds }), String(keepSeconds)).toMatch(/--detect-keep-seconds is a whole number from 1 to 3600/);
    expect(refusal({ keepSeconds: 5 })).toMatch(/needs --detect-mqtt/);
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1', keepSeconds: '3600' })?.keepSeconds).toBe(3600);
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1' }, { CUSTODIA_DETECT_KEEP_SECONDS: '5' })?.keepSeconds).toBe(5);
  });

  it('takes how long a device may be silent, from 1 to 86400 seconds', () => {
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1', silenceSeconds: '60' })?.silenceSeconds).toBe(60);
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1' }, { CUSTODIA_DETECT_SILENCE_SECONDS: '900' })?.silenceSeconds).toBe(900);
    for (const v of [0, 86_401, '1.5', 'x', '-1', '060']) expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', silenceSeconds: v }), String(v)).toMatch(/--detect-silence-seconds is a whole number from 1 to 86400/);
    expect(refusal({ silenceSeconds: 60 })).toMatch(/needs --detect-mqtt/);
  });

  it('binds topics to devices only at a + level of the filter', () => {
    const bound = (deviceLevel: number | string, topic = 'custodia/telemetry/+') => ({ mqttUrl: 'mqtt://127.0.0.1:1', topic, deviceLevel });
    expect(config(bound(3))?.deviceLevel).toBe(3);
    expect(config(bound('2', 'hospital/+/telemetry'))?.deviceLevel).toBe(2);
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1', topic: 'custodia/telemetry/+' }, { CUSTODIA_DETECT_DEVICE_LEVEL: '3' })?.deviceLevel).toBe(3);
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1' })).not.toHaveProperty('deviceLevel');
    // The default filter ends in #: a level under # could hold a/b, and level 2 is the same for every device.
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', deviceLevel: 3 })).toMatch(/--detect-device-level 3 must point at a \+ level of --detect-topic \(custodia\/telemetry\/#\)/);
    expect(refusal(bound(2))).toMatch(/must point at a \+ level/);
    expect(refusal(bound(4))).toMatch(/must point at a \+ level/);
    for (const v of [0, 33, '03', 'x', '1.5']) expect(refusal(bound(v)), String(v)).toMatch(/--detect-device-level is a whole number from 1 to 32/);
    expect(refusal({ deviceLevel: 3 })).toMatch(/needs --detect-mqtt/);
  });

  it('refuses plain text beyond loopback unless told, and credentials in the URL', () => {
    expect(refusal({ mqttUrl: 'mqtt://broker.ward:1883' })).toMatch(/--detect-mqtt mqtt:\/\/broker.ward:1883 is plain MQTT beyond loopback: .* pass --detect-mqtt-insecure/);
    expect(refusal({ mqttUrl: 'mqtt://10.0.0.5:1883', mqtt: { insecure: true } })).toBe('accepted');
    for (const mqttUrl of ['mqtt://localhost:1883', 'mqtt://127.0.0.1:1883', 'mqtt://[::1]:1883', 'mqtts://broker.ward:8883']) expect(refusal({ mqttUrl }), mqttUrl).toBe('accepted');
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', natsUrl: 'nats://nats.ward:4222' })).toMatch(/plain NATS beyond loopback: .* pass --detect-nats-insecure/);
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', natsUrl: 'nats://nats.ward:4222', nats: { insecure: true } })).toBe('accepted');
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', natsUrl: 'tls://nats.ward:4222' })).toBe('accepted');
    expect(refusal({ mqttUrl: 'mqtts://vault:secret@broker:8883' })).toMatch(/credentials in the URL are refused/);
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', natsUrl: 'tls://token@nats:4222' })).toMatch(/--detect-nats: credentials in the URL are refused/);
  });

  it('names the brokers it reaches in plain text beyond loopback (serve warns of each), and only those', () => {
    expect(config({ mqttUrl: 'mqtt://10.0.0.5:1883', mqtt: { insecure: true }, natsUrl: 'nats://nats.ward:4222', nats: { insecure: true } })?.plainTextBrokers).toEqual(['10.0.0.5:1883', 'nats.ward:4222']);
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1883', mqtt: { insecure: true }, natsUrl: 'tls://nats.ward:4222', nats: { insecure: true } })?.plainTextBrokers).toBeUndefined();
  });

  it('takes secrets from the environment only, and refuses options that do nothing or half a pair', () => {
    const env = (mqtt: Record<string, unknown>, e: NodeJS.ProcessEnv, nats?: Record<string, unknown>) => {
      try {
        return resolveConfig({ dataDir: '/tmp/custodia-config-test', detectStream: { mqttUrl: 'mqtts://broker:8883', ...(nats === undefined ? {} : { natsUrl: 'tls://nats:4222', nats }), mqtt } }, e).detectStream!;
      } catch (err) {
        if (isCustodiaError(err, 'config-invalid')) return err.message;
        throw err;
      }
    };
    const c = env({ username: 'vault' }, { CUSTODIA_DETECT_MQTT_PASSWORD: 's3cret' }) as Exclude<ReturnType<typeof env>, string>;
    expect(c.mqttAuth).toEqual({ username: 'vault', password: 's3cret' });
    expect(JSON.stringify(c)).not.toContain('s3cret');
    expect(env({}, { CUSTODIA_DETECT_MQTT_PASSWORD: 's3cret' })).toMatch(/An MQTT password needs --detect-mqtt-username/);
    expect(env({ cert: '/x/client.crt' }, {})).toMatch(/Mutual TLS needs both --detect-mqtt-cert and --detect-mqtt-key/);
    expect(env({ key: '/x/client.key' }, {})).toMatch(/Mutual TLS needs both --detect-mqtt-cert and --detect-mqtt-key/);
    expect(env({ username: 'v', passwordFile: '/nonexistent/pw' }, {})).toMatch(/--detect-mqtt-password-file \/nonexistent\/pw cannot be read/);
    expect(env({ ca: '/nonexistent/ca.pem' }, {})).toMatch(/--detect-mqtt-ca\) \/nonexistent\/ca.pem cannot be read/);
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', mqtt: { ca: '/x/ca.pem' } })).toMatch(/are for TLS: use an mqtts:\/\/ broker URL/);
    expect(refusal({ mqtt: { username: 'v' } })).toMatch(/needs --detect-mqtt/);
    expect(refusal({ mqttUrl: 'mqtt://127.0.0.1:1', nats: { user: 'v' } })).toMatch(/--detect-nats-\* options need --detect-nats/);
    const nats = (e: NodeJS.ProcessEnv, n: Record<string, unknown> = {}) => env({}, e, n);
    expect((nats({ CUSTODIA_DETECT_NATS_TOKEN: 'tok' }) as { nats: { auth: unknown } }).nats.auth).toEqual({ kind: 'token', token: 'tok' });
    expect((nats({ CUSTODIA_DETECT_NATS_PASSWORD: 'pw' }, { user: 'v' }) as { nats: { auth: unknown } }).nats.auth).toEqual({ kind: 'user', user: 'v', pass: 'pw' });
    expect(nats({}, { user: 'v' })).toMatch(/needs both --detect-nats-user and CUSTODIA_DETECT_NATS_PASSWORD/);
    expect(nats({ CUSTODIA_DETECT_NATS_PASSWORD: 'pw' })).toMatch(/needs both --detect-nats-user and CUSTODIA_DETECT_NATS_PASSWORD/);
    expect(nats({ CUSTODIA_DETECT_NATS_TOKEN: 'tok', CUSTODIA_DETECT_NATS_PASSWORD: 'pw' }, { user: 'v' })).toMatch(/Give one NATS credential/);
    expect(nats({}, { creds: '/nonexistent/vault.creds' })).toMatch(/--detect-nats-creds \/nonexistent\/vault.creds cannot be read/);
    expect(nats({}, { cert: '/x/c.crt' })).toMatch(/Mutual TLS needs both --detect-nats-cert and --detect-nats-key/);
  });

  it('reads a password file (first line, owner-only) and a NATS .creds file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custodia-detect-secrets-'));
    try {
      const pw = join(dir, 'pw');
      writeFileSync(pw, 'p4ss word\n', { mode: 0o600 });
      const creds = join(dir, 'vault.creds');
      const text = '-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QifQ.e30.sig\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\nSUAEXAMPLE\n------END USER NKEY SEED------\n';
      writeFileSync(creds, text, { mode: 0o600 });
      const c = resolveConfig({ dataDir: dir, detectStream: { mqttUrl: 'mqtts://broker:8883', natsUrl: 'tls://nats:4222', mqtt: { username: 'vault', passwordFile: pw }, nats: { creds } } }, {}).detectStream!;
      expect(c.mqttAuth).toEqual({ username: 'vault', password: 'p4ss word' });
      expect(c.nats!.auth).toMatchObject({ kind: 'creds' });
      expect(Buffer.from((c.nats!.auth as { creds: Uint8Array }).creds).toString()).toBe(text);
      expect(JSON.stringify(c)).not.toMatch(/p4ss|SUAEXAMPLE/);
      const bad = join(dir, 'bad.creds');
      writeFileSync(bad, 'nope', { mode: 0o600 });
      expect(refusal({ mqttUrl: 'mqtts://broker:8883', natsUrl: 'tls://nats:4222', nats: { creds: bad } })).toMatch(/is not a NATS credentials file/);
      writeFileSync(join(dir, 'two'), 'a\nb\n', { mode: 0o600 });
      expect(refusal({ mqttUrl: 'mqtts://broker:8883', mqtt: { username: 'v', passwordFile: join(dir, 'two') } })).toMatch(/must hold the password on one line/);
      expect(refusal({ mqttUrl: 'mqtts://broker:8883', mqtt: { username: 'v', passwordFile: pw } }, { CUSTODIA_DETECT_MQTT_PASSWORD: 'x' })).toMatch(/not both/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a MAC in the spellings devices and registries use', () => {
    for (const m of ['02:AA:bb:cc:dd:01', '02-aa-bb-cc-dd-01', '02aa.bbcc.dd01', '02aabbccdd01']) expect(canonicalMac(m), m).toBe('02:aa:bb:cc:dd:01');
    for (const m of ['02:aa:bb:cc:dd', '02:aa:bb:cc:dd:01:02', 'zz:aa:bb:cc:dd:01']) expect(canonicalMac(m), m).toBeUndefined();
  });
});
