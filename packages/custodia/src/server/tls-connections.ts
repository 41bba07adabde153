/**
 * Open connections after the TLS material changes. `setSecureContext` serves new
 * connections only: a client whose certificate was revoked meanwhile keeps the verdict of
 * its handshake on a keep-alive connection — for as long as it keeps it busy, which a
 * device polling every few seconds does for days. So when a replaced CRL or client CA
 * file is taken up, every connection made before is retired: an idle one is closed at
 * once, a busy one after its response (`Connection: close`, RFC 9112 §9.6), and the
 * client's next request makes a new handshake under the new lists. A request that still
 * reaches a retired connection (a pipelined one) is answered with `Connection: close` and
 * without the connection's certificate (server/client-certificate.ts): deny by default.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { TLSSocket } from 'node:tls';

/** Set on a socket once it is retired: the state lives with the connection, not in a registry. */
const RETIRED = Symbol('custodia.retiredConnection');

/** Whether requests on `socket` must not rely on its handshake's verdict. */
export const isRetiredConnection = (socket: object): boolean => (socket as { [RETIRED]?: boolean })[RETIRED] === true;

export interface ConnectionRetirement {
  /** Retires every open connection: idle ones are closed now, busy ones after their response. */
  retireAll(): void;
}

/**
 * Tracks the TLS connections of `server` (call before it listens): the TLS sockets, which
 * requests see as `req.socket` (the `connection` event gives the TCP socket beneath).
 * Node's own `closeIdleConnections` closes the idle ones; the busy ones are those with a
 * response in flight.
 */
export function trackConnections(server: Server): ConnectionRetirement {
  const open = new Set<TLSSocket>();
  const inFlight = new Map<TLSSocket, ServerResponse>();
  server.on('secureConnection', (s: TLSSocket) => {
    open.add(s);
    s.once('close', () => {
      open.delete(s);
      inFlight.delete(s);
    });
  });
  // Listeners run after Fastify's, which answers asynchronously: headers are not sent yet.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const s = req.socket as TLSSocket;
    if (isRetiredConnection(s) && !res.headersSent) res.setHeader('Connection', 'close');
    inFlight.set(s, res);
    res.once('close', () => {
      if (inFlight.get(s) === res) inFlight.delete(s);
    });
  });
  return {
    retireAll() {
      for (const s of open) (s as unknown as { [RETIRED]: boolean })[RETIRED] = true;
      server.closeIdleConnections();
      for (const [s, res] of inFlight) {
        if (!res.headersSent) res.setHeader('Connection', 'close');
        else res.once('finish', () => s.end());
      }
    },
  };
}
