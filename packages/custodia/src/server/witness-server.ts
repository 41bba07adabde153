/**
 * `custodia witness serve`: a C2SP tlog-witness on its own, with nothing else — no FHIR,
 * no tokens, no patient data. The add-checkpoint and monitoring endpoints sit at the
 * root (submission and monitoring prefix: the server's base URL), beside /healthz.
 * With `tls` it serves HTTPS, TLS 1.2 at least, like the vault (http-server.ts).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { TlsMaterial, WitnessService } from '../app/index.js';
import { PRE_ROUTING_HEADERS } from './security-headers.js';
import { registerWitnessRoutes } from './witness-routes.js';
import { secureContextOptions, type ServerOptions } from './http-server.js';

export interface WitnessServerOptions extends ServerOptions {
  /** Serve HTTPS with this certificate and key (a witness's TLS has no client CA: nobody is asked for a certificate). */
  readonly tls?: TlsMaterial;
}

export function buildWitnessServer(witness: WitnessService, options: WitnessServerOptions = {}): FastifyInstance {
  const app = Fastify({
    ...(options.tls === undefined ? {} : { https: secureContextOptions(options.tls) }),
    logger: options.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    frameworkErrors: (_error, _req, reply) => {
      void (reply as FastifyReply).code(400).headers({ 'content-type': 'text/plain; charset=utf-8', ...PRE_ROUTING_HEADERS }).send('bad request\n');
    },
  } as FastifyServerOptions) as unknown as FastifyInstance;
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (reply.getHeader('cache-control') === undefined) reply.header('cache-control', 'no-store');
  });
  app.setNotFoundHandler(async (_req, reply) => reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('not found\n'));
  app.get('/healthz', async () => ({ status: 'ok' }));
  registerWitnessRoutes(app, witness, '');
  return app;
}
