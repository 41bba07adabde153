/**
 * The detection stream's configuration (issue 6 §1): off unless an MQTT broker is given.
 *
 *   --detect-mqtt URL      mqtt:// or mqtts:// broker to subscribe to (env CUSTODIA_DETECT_MQTT_URL)
 *   --detect-topic FILTER  MQTT topic filter (default custodia/telemetry/#; env CUSTODIA_DETECT_TOPIC)
 *   --detect-nats URL      nats:// server with JetStream: the bus between ingestion and
 *                          scoring (env CUSTODIA_DETECT_NATS_URL); default the in-process bus
 *   --detect-subject S     JetStream subject (default custodia.detect.telemetry)
 *   --detect-scorers N     consumers of the bus in this process (default 1, at most 16)
 *   --detect-partitions N  with --detect-nats: partitions of the subject, by device (default 8,
 *                          at most 256; env CUSTODIA_DETECT_PARTITIONS): the most scorers, in
 *                          all processes together, that work at once
 *   --detect-device-level N  the topic level (1-based, a `+` of --detect-topic) that names
 *                          the publishing Device's FHIR id; a record is admitted only when
 *                          its sender is that Device (topic-identity.ts; env
 *                          CUSTODIA_DETECT_DEVICE_LEVEL). Off by default
 *   --detect-silence-seconds N  how long a registered Device may send nothing before a
 *                          `silence` finding is raised (default 300, 1–86400; env
 *                          CUSTODIA_DETECT_SILENCE_SECONDS)
 *   --detect-keep-seconds N  how often the device baselines that learned something are
 *                          kept in the database (default 30, 1–3600; env
 *                          CUSTODIA_DETECT_KEEP_SECONDS): what a process that dies can lose
 *
 * and the brokers' TLS and credentials (detect-broker-security.ts): --detect-mqtt-ca,
 * --detect-mqtt-cert, --detect-mqtt-key, --detect-mqtt-username, --detect-mqtt-password-file
 * (or CUSTODIA_DETECT_MQTT_PASSWORD), --detect-mqtt-insecure; --detect-nats-ca,
 * --detect-nats-cert, --detect-nats-key, --detect-nats-creds, --detect-nats-user (with
 * CUSTODIA_DETECT_NATS_PASSWORD), CUSTODIA_DETECT_NATS_TOKEN, --detect-nats-insecure.
 *
 * Every value is checked here, once; the result is frozen.
 */
import { DEFAULT_PARTITIONS, MAX_PARTITIONS } from '../detect/index.js';
import { CustodiaError } from '../kernel/index.js';
import { resolveMqttSecurity, resolveNatsSecurity, type BrokerTls, type MqttAuth, type MqttSecurityInput, type NatsAuth, type NatsSecurityInput } from './detect-broker-security.js';

export interface DetectStreamConfig {
  readonly mqttUrl: string;
  readonly topic: string;
  /** mqtts:// only: the trust anchor and client certificate (system roots when no CA is given). */
  readonly mqttTls?: BrokerTls;
  readonly mqttAuth?: MqttAuth;
  readonly nats?: { readonly url: string; readonly subject: string; readonly stream: string; readonly durable: string; readonly partitions: number; readonly tls?: BrokerTls; readonly auth?: NatsAuth };
  readonly scorers: number;
  /** How often the baselines that learned something are kept in the database, in seconds. */
  readonly keepSeconds: number;
  /** How long a registered Device may send nothing before it counts as silent, in seconds. */
  readonly silenceSeconds: number;
  /** The topic level (1-based) naming the publishing Device, when topics are bound to devices. */
  readonly deviceLevel?: number;
  /** Brokers (host:port) beyond loopback reached in plain text, as --detect-*-insecure allowed; absent when none. */
  readonly plainTextBrokers?: readonly string[];
}

export interface DetectStreamInput {
  readonly mqttUrl?: string | undefined;
  readonly topic?: string | undefined;
  readonly natsUrl?: string | undefined;
  readonly subject?: string | undefined;
  readonly scorers?: number | string | undefined;
  readonly partitions?: number | string | undefined;
  readonly keepSeconds?: number | string | undefined;
  readonly deviceLevel?: number | string | undefined;
  readonly silenceSeconds?: number | string | undefined;
  readonly mqtt?: MqttSecurityInput;
  readonly nats?: NatsSecurityInput;
}

export const DEFAULT_TOPIC = 'custodia/telemetry/#';
export const DEFAULT_SUBJECT = 'custodia.detect.telemetry';
export const DEFAULT_KEEP_SECONDS = 30;
export const DEFAULT_SILENCE_SECONDS = 300;

const invalid = (m: string): never => {
  throw new CustodiaError('config-invalid', m);
};

function brokerUrl(text: string, protocols: readonly string[], flag: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return invalid(`${flag} must be a URL (${protocols.join(' or ')}//host:port)`);
  }
  if (!protocols.includes(u.protocol) || u.hostname === '') invalid(`${flag} must be a ${protocols.join(' or ')}//host:port URL`);
  return u;
}

/** A count from 1 to `max`: a number from code, or (hostile text from the command line or environment) decimal digits only, no sign or leading zero. */
function wholeNumber(v: number | string | undefined, fallback: number, max: number, flag: string): number {
  const n = v === undefined ? fallback : typeof v === 'number' ? v : /^[1-9]\d{0,5}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) invalid(`${flag} is a whole number from 1 to ${max}`);
  return n;
}

const given = (o: object | undefined): boolean => o !== undefined && Object.values(o).some((v) => v !== undefined && v !== false);

/** An MQTT topic filter (MQTT 3.1.1 §4.7.1): `#` only as the whole last level, `+` only as a whole level. */
function topicFilter(t: string): string {
  const levels = t.split('/');
  const ok = t.length > 0 && Buffer.byteLength(t) <= 65535 && !t.includes('\u0000') && levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
  if (!ok) invalid('--detect-topic is an MQTT topic filter, e.g. hospital/+/telemetry or custodia/telemetry/#');
  return t;
}

/** The level of `filter` that names the device: it must be one of the filter's `+` levels, so that each device's topic matches. */
function deviceLevel(v: number | string, filter: string): number {
  const n = wholeNumber(v, 1, 32, '--detect-device-level');
  if (filter.split('/')[n - 1] !== '+') invalid(`--detect-device-level ${n} must point at a + level of --detect-topic (${filter}), e.g. --detect-topic custodia/telemetry/+ --detect-device-level 3`);
  return n;
}

/** A NATS subject without wildcards: dot-separated tokens of letters, digits, `-` and `_`. */
function subject(s: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,15}$/.test(s)) invalid('--detect-subject is a NATS subject such as custodia.detect.telemetry (no wildcards)');
  return s;
}

export function resolveDetectStream(input: DetectStreamInput, env: NodeJS.ProcessEnv): DetectStreamConfig | undefined {
  const pick = (v: string | undefined, name: string): string | undefined => (v !== undefined && v !== '' ? v : env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  const mqtt = pick(input.mqttUrl, 'CUSTODIA_DETECT_MQTT_URL');
  const nats = pick(input.natsUrl, 'CUSTODIA_DETECT_NATS_URL');
  const topic = pick(input.topic, 'CUSTODIA_DETECT_TOPIC');
  const partitionsGiven = typeof input.partitions === 'number' ? input.partitions : pick(input.partitions, 'CUSTODIA_DETECT_PARTITIONS');
  const silenceGiven = typeof input.silenceSeconds === 'number' ? input.silenceSeconds : pick(input.silenceSeconds, 'CUSTODIA_DETECT_SILENCE_SECONDS');
  const levelGiven = typeof input.deviceLevel === 'number' ? input.deviceLevel : pick(input.deviceLevel, 'CUSTODIA_DETECT_DEVICE_LEVEL');
  const keepGiven = typeof input.keepSeconds === 'number' ? input.keepSeconds : pick(input.keepSeconds, 'CUSTODIA_DETECT_KEEP_SECONDS');
  if (mqtt === undefined) {
    if (nats !== undefined || topic !== undefined || input.subject !== undefined || input.scorers !== undefined || partitionsGiven !== undefined || keepGiven !== undefined || levelGiven !== undefined || silenceGiven !== undefined || given(input.mqtt) || given(input.nats)) invalid('The detection stream needs --detect-mqtt: its other options do nothing without it');
    return undefined;
  }
  if (nats === undefined && given(input.nats)) invalid('The --detect-nats-* options need --detect-nats: they do nothing without it');
  if (nats === undefined && partitionsGiven !== undefined) invalid('--detect-partitions needs --detect-nats: the in-process bus has no partitions');
  const partitions = wholeNumber(partitionsGiven, DEFAULT_PARTITIONS, MAX_PARTITIONS, '--detect-partitions');
  const scorers = wholeNumber(input.scorers, 1, 16, '--detect-scorers');
  const keepSeconds = wholeNumber(keepGiven, DEFAULT_KEEP_SECONDS, 3600, '--detect-keep-seconds');
  const silenceSeconds = wholeNumber(silenceGiven, DEFAULT_SILENCE_SECONDS, 86_400, '--detect-silence-seconds');
  const subj = subject(input.subject ?? DEFAULT_SUBJECT);
  const mqttUrl = brokerUrl(mqtt, ['mqtt:', 'mqtts:'], '--detect-mqtt');
  const natsUrl = nats === undefined ? undefined : brokerUrl(nats, ['nats:', 'tls:'], '--detect-nats');
  const filter = topicFilter(topic ?? DEFAULT_TOPIC);
  const { plainText: mqttPlain, ...mqttSecurity } = resolveMqttSecurity(mqttUrl, input.mqtt ?? {}, env);
  const { plainText: natsPlain, ...natsSecurity } = natsUrl === undefined ? { plainText: false } : resolveNatsSecurity(natsUrl, input.nats ?? {}, env);
  const plainTextBrokers = [...(mqttPlain ? [mqttUrl.host] : []), ...(natsPlain && natsUrl !== undefined ? [natsUrl.host] : [])];
  return Object.freeze({
    mqttUrl: mqtt,
    topic: filter,
    ...(mqttSecurity.tls === undefined ? {} : { mqttTls: mqttSecurity.tls }),
    ...(mqttSecurity.auth === undefined ? {} : { mqttAuth: mqttSecurity.auth }),
    ...(nats === undefined ? {} : { nats: Object.freeze({ url: nats, subject: subj, stream: `CUSTODIA_${subj.replace(/[.-]/g, '_').toUpperCase()}`, durable: 'custodia-scorers', partitions, ...natsSecurity }) }),
    scorers,
    keepSeconds,
    silenceSeconds,
    ...(levelGiven === undefined ? {} : { deviceLevel: deviceLevel(levelGiven, filter) }),
    ...(plainTextBrokers.length === 0 ? {} : { plainTextBrokers: Object.freeze(plainTextBrokers) }),
  });
}
