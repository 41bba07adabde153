/**
 * The detection stream's configuration (app/detect-stream-config.ts): off by default,
 * every value checked once, the environment as a fallback; and the MAC spellings the
 * Device directory accepts.
 */
import { describe, expect, it } from 'vitest';
import { canonicalMac, resolveConfig } from '../../src/app/index.js';
import { isCustodiaError } from '../../src/kernel/index.js';

const config = (detectStream: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => resolveConfig({ dataDir: '/tmp/custodia-config-test', detectStream }, env).detectStream;
const refusal = (detectStream: Record<string, unknown>): string => {
  try {
    config(detectStream);
  } catch (e) {
    if (isCustodiaError(e, 'config-invalid')) return e.message;
    throw e;
  }
  return 'accepted';
};

describe('detection stream config', () => {
  it('is off by default and on with an MQTT broker, with defaults', () => {
    expect(config({})).toBeUndefined();
    expect(config({ mqttUrl: 'mqtt://127.0.0.1:1883' })).toEqual({ mqttUrl: 'mqtt://127.0.0.1:1883', topic: 'custodia/telemetry/#', scorers: 1 });
    expect(config({}, { CUSTODIA_DETECT_MQTT_URL: 'mqtts://broker:8883', CUSTODIA_DETECT_TOPIC: 'hospital/+/telemetry', CUSTODIA_DETECT_NATS_URL: 'nats://127.0.0.1:4222' })).toEqual({
      mqttUrl: 'mqtts://broker:8883',
      topic: 'hospital/+/telemetry',
      nats: { url: 'nats://127.0.0.1:4222', subject: 'custodia.detect.telemetry', stream: 'CUSTODIA_CUSTODIA_DETECT_TELEMETRY', durable: 'custodia-scorers' },
      scorers: 1,
    });
    expect(Object.isFrozen(config({ mqttUrl: 'mqtt://h:1' }))).toBe(true);
  });

  it('refuses what it cannot use, saying which option', () => {
    expect(refusal({ natsUrl: 'nats://h:4222' })).toMatch(/needs --detect-mqtt/);
    expect(refusal({ mqttUrl: 'http://h:1883' })).toMatch(/--detect-mqtt must be/);
    expect(refusal({ mqttUrl: 'not a url' })).toMatch(/--detect-mqtt must be a URL/);
    expect(refusal({ mqttUrl: 'mqtt://h:1', natsUrl: 'redis://h:1' })).toMatch(/--detect-nats/);
    for (const topic of ['a/#/b', 'a/b#', 'a+/b', '']) expect(refusal({ mqttUrl: 'mqtt://h:1', topic: topic || '\u0000' }), topic).toMatch(/--detect-topic/);
    for (const subject of ['a.*', 'a.>', 'a..b', 'a b']) expect(refusal({ mqttUrl: 'mqtt://h:1', subject }), subject).toMatch(/--detect-subject/);
    for (const scorers of [0, 17, '1.5', 'x', 2.5]) expect(refusal({ mqttUrl: 'mqtt://h:1', scorers }), String(scorers)).toMatch(/--detect-scorers/);
  });

  it('reads a MAC in the spellings devices and registries use', () => {
    for (const m of ['02:AA:bb:cc:dd:01', '02-aa-bb-cc-dd-01', '02aa.bbcc.dd01', '02aabbccdd01']) expect(canonicalMac(m), m).toBe('02:aa:bb:cc:dd:01');
    for (const m of ['02:aa:bb:cc:dd', '02:aa:bb:cc:dd:01:02', 'zz:aa:bb:cc:dd:01']) expect(canonicalMac(m), m).toBeUndefined();
  });
});
