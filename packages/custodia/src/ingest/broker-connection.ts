/**
 * What the telemetry brokers' clients (mqtt-telemetry-source.ts, nats-telemetry-bus.ts)
 * share: the TLS material they are handed (PEM text, read and checked by the vault's
 * configuration, app/detect-broker-security.ts), NATS credentials, and how a refused
 * connection is told.
 */

/** PEM trust anchor, and client certificate and key (mutual TLS); absent: the system roots, no client certificate. */
export interface BrokerTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** How the vault authenticates to NATS: a .creds file (user JWT and nkey seed), a token, or a user and password. */
export type NatsAuth = { readonly kind: 'creds'; readonly creds: Uint8Array } | { readonly kind: 'token'; readonly token: string } | { readonly kind: 'user'; readonly user: string; readonly pass: string };

/** Why a connection failed, on one short line: the library's message (which never holds the password). */
export const connectionFailure = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 200);
