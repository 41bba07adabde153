/**
 * A connection to NATS for the telemetry bus (nats-telemetry-bus.ts): TLS when given
 * (the server's certificate always verified), one of the library's authenticators, a
 * deadline on the first connection, and a refusal told as `stream-unavailable`.
 */
import { connect, credsAuthenticator, TimeoutError, tokenAuthenticator, usernamePasswordAuthenticator, type Authenticator, type NatsConnection } from '@nats-io/transport-node';
import { CustodiaError } from '../kernel/index.js';
import { connectionFailure, type BrokerTls, type NatsAuth } from './broker-connection.js';

export interface NatsConnectionOptions {
  /** nats://host:port */
  readonly url: string;
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

export async function openNatsConnection(o: NatsConnectionOptions): Promise<NatsConnection> {
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
