/**
 * Live device telemetry from an MQTT broker (issue 6 §1): subscribes to a topic filter
 * (MQTT 3.1.1 §4.7; QoS 1, at least once) and hands each message, parsed as hostile input
 * (wustl-message.ts), to `onRecord` — in the app, the bus's publish.
 *
 * - A bad message is counted and reported with its topic, its sequence on this
 *   subscription (1-based, in arrival order) and the reason; it never stops the source.
 *   So is a record whose hand-on refuses it (`RecordRefused`: the app's check of the
 *   topic's device against the record's sender, topic-identity.ts).
 * - Records are handed on one at a time, in arrival order. At most `queueLimit` messages
 *   wait (default 10,000); beyond, new ones are dropped and counted, so a flood costs
 *   bounded memory. A message whose hand-on fails is counted as dropped too.
 * - Flow ids: the message's FlowId, else `<source id>-<sequence>`, where the source id is
 *   drawn from the injected Random when the source opens (unique across restarts).
 * - Transport: mqtts:// is TLS with the broker's certificate always verified (against `tls.ca`
 *   when given, else the system roots), a client certificate for mutual TLS when given;
 *   a broker that is unreachable, fails verification or refuses the credentials is a
 *   `stream-unavailable` error naming why, never the password.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { connectionFailure, type BrokerTls } from './broker-connection.js';
import type { TelemetryRecord, TelemetryReport } from '../detect/index.js';
import { CustodiaError, type Clock, type Random } from '../kernel/index.js';
import { TelemetryTally } from './bad-telemetry-log.js';
import { RecordRefused } from './record-refused.js';
import { parseTelemetryMessage, TELEMETRY_MAX_BYTES } from './wustl-message.js';

export interface MqttTelemetryOptions {
  /** mqtt://host:port or mqtts://host:port */
  readonly url: string;
  /** A topic filter, e.g. `hospital/+/telemetry`. */
  readonly topic: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly maxBytes?: number;
  readonly queueLimit?: number;
  /** Broker credentials, when it asks for them. */
  readonly username?: string;
  readonly password?: string;
  /** mqtts:// only: PEM trust anchor, and client certificate and key (mutual TLS). */
  readonly tls?: BrokerTls;
}


export interface MqttTelemetrySource {
  report(): TelemetryReport;
  /** Settles once every message received so far has been handed on (for tests and shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function openMqttTelemetry(options: MqttTelemetryOptions, onRecord: (r: TelemetryRecord, topic: string) => Promise<void>): Promise<MqttTelemetrySource> {
  const sourceId = options.random.bytes(6).toString('hex');
  const maxBytes = options.maxBytes ?? TELEMETRY_MAX_BYTES;
  const queueLimit = options.queueLimit ?? 10_000;
  const tally = new TelemetryTally();
  let waiting = 0;
  let chain: Promise<void> = Promise.resolve();
  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(options.url, {
      clientId: `custodia-detect-${sourceId}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
      ...(options.tls?.cert === undefined ? {} : { cert: options.tls.cert }),
      ...(options.tls?.key === undefined ? {} : { key: options.tls.key }),
      rejectUnauthorized: true, // the broker's certificate is always verified
    });
  } catch (e) {
    throw new CustodiaError('stream-unavailable', `The MQTT broker cannot be reached or refused the connection: ${connectionFailure(e)}`, { cause: e });
  }
  client.on('message', (topic, payload) => {
    tally.received += 1;
    const sequence = tally.received;
    if (waiting >= queueLimit) {
      tally.dropped += 1;
      return;
    }
    let record: TelemetryRecord;
    try {
      // The payload is attacker-controlled: the parser checks size, encoding, members, types and ranges.
      record = parseTelemetryMessage(payload, { position: { topic, sequence }, fallbackId: `${sourceId}-${sequence}`, receivedMs: options.clock.now(), maxBytes });
    } catch (e) {
      if (!(e instanceof RecordRefused)) throw e;
      tally.bad(topic, sequence, e.reason);
      return;
    }
    waiting += 1;
    chain = chain.then(async () => {
      try {
        await onRecord(record, topic);
        tally.records += 1;
      } catch (e) {
        if (e instanceof RecordRefused) tally.bad(topic, sequence, e.reason);
        else tally.dropped += 1;
      } finally {
        waiting -= 1;
      }
    });
  });
  try {
    await client.subscribeAsync(options.topic, { qos: 1 });
  } catch (e) {
    await client.endAsync(true);
    throw new CustodiaError('stream-unavailable', 'The MQTT broker refused the subscription', { cause: e });
  }
  return {
    report: () => tally.report(),
    idle: async () => {
      let seen: Promise<void>;
      do {
        seen = chain;
        await seen;
      } while (seen !== chain);
    },
    close: async () => {
      await client.endAsync();
      await chain;
    },
  };
}
