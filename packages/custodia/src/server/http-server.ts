/**
 * The fastify adapter: HTTP in, plain requests to the app, HTTP out. It holds no
 * domain logic. Logs carry method, route, status and timing, never URLs with search
 * values, bodies or tokens (patient data stays out of logs).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { CustodiaError, errorResponse, type TlsMaterial, type Vault } from '../app/index.js';
import { registerBodyParsers } from './body-parsers.js';
import { registerVerifiedBodies } from './verified-before-body.js';
import { FHIR_JSON, registerFhirRoutes } from './fhir-routes.js';
import { registerOAuthRoutes } from './oauth-routes.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerLedgerRoutes } from './ledger-routes.js';
import { registerDetectRoutes } from './detect-routes.js';
import { registerInventoryRoutes } from './inventory-routes.js';
import { registerWitnessRoutes } from './witness-routes.js';
import { PRE_ROUTING_HEADERS, registerSecurityHeaders } from './security-headers.js';
import { registerCors } from './cors.js';

export interface ServerOptions {
  /** A pino logger configuration, or false for none (tests). */
  readonly logger?: FastifyServerOptions['logger'];
}

/** Fastify's own errors mapped to our catalogue. */
function fastifyError(e: unknown): unknown {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CustodiaError('payload-too-large', 'The body is larger than this server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CustodiaError('unsupported-media-type', 'Send application/fhir+json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new CustodiaError('json-malformed', 'The body is empty or its length is wrong');
    default:
      if (typeof e === 'object' && e !== null && 'statusCode' in e && (e as { statusCode: number }).statusCode < 500 && !(e instanceof CustodiaError)) {
        return new CustodiaError('request-malformed', 'The request is not well formed');
      }
      return e;
  }
}

/**
 * The certificate, key and TLS floor (TLS 1.2) of the server, the client CAs and their
 * CRLs (with a CRL, OpenSSL checks every certificate of a client's chain against its
 * issuer's list: app/tls-crl.ts), also for replacing them while it runs (app/tls-renewal.ts).
 */
export function secureContextOptions(tls: TlsMaterial): { cert: Buffer; key: Buffer; minVersion: 'TLSv1.2'; ca?: Buffer; crl?: Buffer } {
  return { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa }), ...(tls.clientCrl === undefined ? {} : { crl: tls.clientCrl.pem }) };
}

export function buildServer(vault: Vault, options: ServerOptions = {}): FastifyInstance {
  // TLS 1.2 at least (issue 4, transport): older versions are refused in the handshake.
  // Mutual TLS (RFC 8705 §2.1): every client is asked for a certificate and verified
  // against the configured CAs; one without a certificate, or with an unverifiable one,
  // still connects (browsers, public apps) and is simply not authenticated by it
  // (app/client-certificate.ts reads only verified ones).
  const tls = vault.tls;
  const mutual = tls?.clientCa === undefined ? {} : { requestCert: true, rejectUnauthorized: false };
  const https = tls === undefined ? {} : { https: { ...secureContextOptions(tls), ...mutual } };
  const app = Fastify({
    ...https,
    logger: options.logger ?? false,
    bodyLimit: vault.config.bodyLimitBytes,
    // Fastify's own request logs include the URL (search values); ours below do not.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Client addresses (the sign-in throttle) from X-Forwarded-For only when the request
    // comes from a proxy the operator named (app/trusted-proxies.ts); never from anyone else.
    trustProxy: vault.config.trustedProxies.length === 0 ? false : [...vault.config.trustedProxies],
    routerOptions: { maxParamLength: 512 },
    // Errors fastify raises before routing (a URL that does not decode, a bad Content-Type
    // header) get the same OperationOutcome treatment as everything else.
    // These run before any hook (so before helmet): they get the essential headers by hand.
    frameworkErrors: (error, _req, reply) => {
      const r = errorResponse(fastifyError(error));
      void (reply as FastifyReply).code(r.status).headers({ 'content-type': FHIR_JSON, ...PRE_ROUTING_HEADERS }).send(JSON.stringify(r.body));
    },
  } as FastifyServerOptions) as unknown as FastifyInstance;
  registerBodyParsers(app, vault.config.bodyLimitBytes);
  registerVerifiedBodies(app, vault);

  // Every request counts as in flight from its arrival until its response has ended or its
  // connection closed (the store decides from this whether an fsync may block the event loop).
  app.addHook('onRequest', (_req, reply, done) => {
    reply.raw.once('close', vault.inFlight.enter());
    done();
  });
  registerSecurityHeaders(app, vault.config.fhirBaseUrl);
  registerCors(app, vault.config.corsOrigins);
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler(async (error, req, reply) => {
    const r = errorResponse(fastifyError(error));
    if (r.internal) req.log.error({ err: error }, 'request failed');
    if (r.status === 401) reply.header('www-authenticate', 'Bearer realm="custodia"');
    return reply.code(r.status).headers(r.headers).header('content-type', FHIR_JSON).send(JSON.stringify(r.body));
  });
  app.setNotFoundHandler(async (_req, reply) => {
    const r = errorResponse(new CustodiaError('resource-not-found', 'No such endpoint'));
    return reply.code(r.status).header('content-type', FHIR_JSON).send(JSON.stringify(r.body));
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  registerFhirRoutes(app, vault);
  registerOAuthRoutes(app, vault);
  registerAdminRoutes(app, vault);
  registerLedgerRoutes(app, vault);
  registerDetectRoutes(app, vault);
  registerInventoryRoutes(app, vault);
  // With --witness-for: this vault cosigns other logs' checkpoints (C2SP tlog-witness) under /witness.
  if (vault.witness !== undefined) registerWitnessRoutes(app, vault.witness, '/witness');
  return app;
}
