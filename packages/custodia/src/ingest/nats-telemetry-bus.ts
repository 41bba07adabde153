/**
 * The TelemetryBus over NATS JetStream (issue 6 §1: "several scorers can share a
 * subject"). JetStream docs: "Streams" (WorkQueue retention), "Consumers" (durable pull
 * consumers, AckExplicit, AckWait, redelivery), "Model deep dive" (message
 * deduplication by Nats-Msg-Id within the duplicate window).
 *
 * - publish: one message per record on `subject`, the record in the WUSTL-EHMS message
 *   format (wustl-message.ts), with Nats-Msg-Id = the flow id, so a repeated publish of a
 *   flow within the duplicate window is stored once.
 * - the stream keeps `subject` with WorkQueue retention: a message is removed once
 *   acknowledged.
 * - consume: every consumer pulls from one durable consumer with explicit acks, so the
 *   server hands each message to one puller at a time. The handler's success acks it
 *   (and waits for the server's confirmation, so a counted record is an acknowledged
 *   one); a rejection naks it for redelivery a second later; a message a consumer held when it
 *   stopped or died is redelivered to another once `ackWaitMs` passes.
 * - what arrives is hostile (any client with publish rights on the subject can write
 *   there): each message is parsed by the same strict parser as MQTT, and a bad one is
 *   counted, reported (subject, stream sequence, reason) and terminated — never retried,
 *   never fatal.
 * - transport: with `tls` the client insists on TLS and verifies the server's certificate
 *   (against `tls.ca` when given, else the system roots), presenting a client certificate
 *   when given; `auth` is a .creds file (JWT + nkey), a token or a user and password, given
 *   to the library's authenticators. A refused connection is `stream-unavailable`.
 */
import { connect, credsAuthenticator, TimeoutError, tokenAuthenticator, usernamePasswordAuthenticator, type Authenticator, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { BusConsumer, PublishOutcome, TelemetryBus, TelemetryHandler, TelemetryRecord } from '../detect/index.js';
import { CustodiaError, type Clock } from '../kernel/index.js';
import { connectionFailure, type BrokerTls, type NatsAuth } from './broker-connection.js';
import { TelemetryTally } from './bad-telemetry-log.js';
import { RecordRefused } from './record-refused.js';
import { formatTelemetryMessage, parseTelemetryMessage } from './wustl-message.js';

export interface NatsBusOptions {
  /** nats://host:port */
  readonly url: string;
  readonly stream: string;
  readonly subject: string;
  /** The durable consumer every scorer shares. */
  readonly durable: string;
  /** How long a taken, unacknowledged message waits before redelivery (default 30 s). */
  readonly ackWaitMs?: number;
  /** Messages each consumer pulls ahead (default 64). */
  readonly prefetch?: number;
  readonly clock: Clock;
  /** TLS, required when present: PEM trust anchor, and client certificate and key (mutual TLS). */
  readonly tls?: BrokerTls;
  readonly auth?: NatsAuth;
  /** How long the first connection may take, handshake included (default {@link CONNECT_TIMEOUT_MS}). */
  readonly connectTimeoutMs?: number;
}

/**
 * The default deadline of a connection (the library's is 20 s). Not every refusal makes
 * the NATS client give up: an account at its connection limit gets `-ERR 'maximum
 * account active connections exceeded'` during the handshake, which the client (nats.js
 * 3.3, nats-io/nats.js#292) does not report, and the connection only times out.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

const NS_PER_MS = 1_000_000;

function authenticator(auth: NatsAuth): Authenticator {
  switch (auth.kind) {
    case 'creds':
      return credsAuthenticator(auth.creds);
    case 'token':
      return tokenAuthenticator(auth.token);
    case 'user':
      return usernamePasswordAuthenticator(auth.user, auth.pass);
  }
}


async function open(o: NatsBusOptions): Promise<NatsConnection> {
  const deadline = o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  try {
    return await connect({
      servers: o.url,
      name: 'custodia-detect',
      timeout: deadline,
      maxReconnectAttempts: -1,
      // A tls options object makes the client refuse a server without TLS; certificates are always verified.
      ...(o.tls === undefined ? {} : { tls: { ...o.tls } }),
      ...(o.auth === undefined ? {} : { authenticator: authenticator(o.auth) }),
    });
  } catch (e) {
    if (e instanceof TimeoutError) {
      throw new CustodiaError('stream-unavailable', `The NATS server did not complete the connection within ${deadline / 1000} s: it may have refused it in a way the NATS client does not report (an account at its connection limit is refused so; the server's log says why), or it is slow or not a NATS server`, { cause: e });
    }
    throw new CustodiaError('stream-unavailable', `The NATS server cannot be reached or refused the connection: ${connectionFailure(e)}`, { cause: e });
  }
}

/** Creates the stream and the durable consumer if they are missing; leaves existing ones as they are. */
async function ensureTopology(nc: NatsConnection, o: NatsBusOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(o.stream);
  } catch {
    await jsm.streams.add({ name: o.stream, subjects: [o.subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: 2 * 60_000 * NS_PER_MS });
  }
  try {
    await jsm.consumers.info(o.stream, o.durable);
  } catch {
    await jsm.consumers.add(o.stream, { durable_name: o.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: (o.ackWaitMs ?? 30_000) * NS_PER_MS, max_ack_pending: 10_000 });
  }
}

export class NatsTelemetryBus implements TelemetryBus {
  readonly #connections = new Set<NatsConnection>();

  private constructor(
    private readonly options: NatsBusOptions,
    publisher: NatsConnection,
    private readonly js: JetStreamClient,
  ) {
    this.#connections.add(publisher);
  }

  /** Connects, and creates the stream and durable consumer when missing. */
  static async open(options: NatsBusOptions): Promise<NatsTelemetryBus> {
    const nc = await open(options);
    try {
      await ensureTopology(nc, options);
    } catch (e) {
      await nc.close();
      throw new CustodiaError('stream-unavailable', 'JetStream is not available on the NATS server', { cause: e });
    }
    return new NatsTelemetryBus(options, nc, jetstream(nc));
  }

  async publish(record: TelemetryRecord): Promise<PublishOutcome> {
    // JetStream's publish acknowledgement says whether the stream already held this Nats-Msg-Id (within its duplicate window).
    const ack = await this.js.publish(this.options.subject, formatTelemetryMessage(record), { msgID: record.id });
    return ack.duplicate ? 'duplicate' : 'held';
  }

  /** A consumer on a connection of its own, as a separate scorer process would have. */
  async consume(handler: TelemetryHandler): Promise<BusConsumer> {
    const nc = await open(this.options);
    this.#connections.add(nc);
    const consumer = await jetstream(nc).consumers.get(this.options.stream, this.options.durable);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: this.options.prefetch ?? 64 });
    const tally = new TelemetryTally();
    let stopping = false;
    const handle = async (m: JsMsg): Promise<void> => {
      tally.received += 1;
      const sequence = m.seq;
      let record;
      try {
        record = parseTelemetryMessage(m.data, { position: { topic: m.subject, sequence }, fallbackId: `${this.options.stream}-${sequence}`, receivedMs: this.options.clock.now() });
      } catch (e) {
        if (!(e instanceof RecordRefused)) throw e;
        tally.bad(m.subject, sequence, e.reason);
        // A bare +TERM: nats-server before 2.10 does not know `+TERM <reason>`, ignores it as
        // an acknowledgement and redelivers the message after AckWait, again and again. The
        // reason is in the consumer's own report.
        m.term();
        return;
      }
      try {
        await handler(record);
      } catch {
        if (!stopping) m.nak(1_000); // redelivered after a second, not in a tight loop
        return;
      }
      if (stopping) return; // not acknowledged: redelivered to another consumer
      await m.ackAck();
      tally.records += 1;
    };
    const done = (async () => {
      for await (const m of messages) {
        if (stopping) break;
        await handle(m);
      }
    })().finally(() => {
      this.#connections.delete(nc);
      return nc.isClosed() ? undefined : nc.close();
    });
    return {
      stop: async () => {
        stopping = true;
        // Closing the connection drops every message pulled and not acknowledged: the server redelivers them after AckWait.
        await messages.close().catch(() => undefined);
        await nc.close().catch(() => undefined);
        await done.catch(() => undefined);
      },
      report: () => tally.report(),
      done: done.catch(() => undefined),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#connections].map((nc) => nc.drain().catch(() => nc.close())));
  }
}
