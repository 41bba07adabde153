/** The verified client certificate of a request's mutual-TLS connection (RFC 8705), if any: the app reads the socket. */
import type { FastifyRequest } from 'fastify';
import { verifiedClientCertificate, type ClientCertificate, type PeerSocket } from '../app/index.js';
import { isRetiredConnection } from './tls-connections.js';

export function clientCertificate(req: FastifyRequest): ClientCertificate | undefined {
  // A connection verified under lists since replaced (server/tls-connections.ts) proves nothing now.
  if (isRetiredConnection(req.raw.socket)) return undefined;
  return verifiedClientCertificate(req.raw.socket as PeerSocket);
}
