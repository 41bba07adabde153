/**
 * The authorization server over HTTP (SMART App Launch 2.x; RFC 6749, 7009, 7662):
 * discovery documents, the authorization endpoint and its forms, the token,
 * introspection and revocation endpoints, the end-session endpoint (OpenID Connect
 * RP-Initiated Logout 1.0), and EHR launch creation. Each route hands the
 * raw inputs to `vault.oauth` and copies its response out; nothing here decides anything.
 * Errors are OAuth JSON (RFC 6749 §5.2), never an OperationOutcome; bodies, codes and
 * tokens are never logged.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CustodiaError, errorResponse, OAUTH_PATHS, type OAuthHttpResponse, type Vault } from '../app/index.js';
import { clientCertificate } from './client-certificate.js';

/** OAuth requests are small forms: 64 KiB is plenty. */
const BODY_LIMIT = 64 * 1024;

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function send(reply: FastifyReply, r: OAuthHttpResponse): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(r.body === '' ? undefined : r.body);
}

/** Query parameters with repetitions kept (RFC 6749 §3.1 refuses repeated parameters). */
function queryPairs(req: FastifyRequest): [string, string][] {
  const url = req.raw.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? [] : [...new URLSearchParams(url.slice(q + 1))];
}

/** Errors before the handler (a body too large or of another type) as RFC 6749 §5.2 JSON. */
async function oauthErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const status = error instanceof CustodiaError ? errorResponse(error).status : typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  if (status >= 500) req.log.error({ err: error }, 'oauth request failed');
  const body =
    status === 503
      ? { error: 'temporarily_unavailable', error_description: 'The server is busy; retry later' }
      : status >= 500
        ? { error: 'server_error', error_description: 'An unexpected error occurred; it has been logged' }
        : { error: 'invalid_request', error_description: 'The request is not well formed' };
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

export function registerOAuthRoutes(app: FastifyInstance, vault: Vault): void {
  const oauth = vault.oauth;
  const options = { bodyLimit: BODY_LIMIT, errorHandler: oauthErrorHandler };
  const document = (doc: () => Record<string, unknown>) => async (_req: FastifyRequest, reply: FastifyReply) =>
    // Public metadata: browser apps may read it from any origin.
    reply.header('content-type', 'application/json; charset=utf-8').header('access-control-allow-origin', '*').send(JSON.stringify(doc()));
  const browser = (req: FastifyRequest) => ({ ip: req.ip, ...(header(req, 'cookie') === undefined ? {} : { cookie: header(req, 'cookie')! }) });

  // SMART App Launch 2.x §2.0.8: [base]/.well-known/smart-configuration; also at the issuer's root.
  app.get(OAUTH_PATHS.smartConfiguration, options, document(() => oauth.smartConfiguration()));
  app.get(`/fhir${OAUTH_PATHS.smartConfiguration}`, options, document(() => oauth.smartConfiguration()));
  app.get(OAUTH_PATHS.openidConfiguration, options, document(() => oauth.openidConfiguration()));
  app.get(OAUTH_PATHS.jwks, options, document(() => oauth.jwks()));

  // No automatic HEAD route: every authorization request starts a sign-in (a database row).
  app.get(OAUTH_PATHS.authorization, { ...options, exposeHeadRoute: false }, async (req, reply) => send(reply, await oauth.authorize(queryPairs(req), browser(req), 'GET')));
  app.post(OAUTH_PATHS.authorization, options, async (req, reply) =>
    send(reply, await oauth.authorize(req.body instanceof URLSearchParams ? req.body : [], browser(req), 'POST')),
  );
  app.post(OAUTH_PATHS.interaction, options, async (req, reply) => send(reply, await oauth.interact(req.body, browser(req))));
  app.post(OAUTH_PATHS.token, options, async (req, reply) => send(reply, await oauth.token(req.body, header(req, 'authorization'), clientCertificate(req), req.ip)));
  app.post(OAUTH_PATHS.introspection, options, async (req, reply) => send(reply, await oauth.introspect(req.body, header(req, 'authorization'), clientCertificate(req), req.ip)));
  app.post(OAUTH_PATHS.revocation, options, async (req, reply) => send(reply, await oauth.revoke(req.body, header(req, 'authorization'), clientCertificate(req), req.ip)));
  // OpenID Connect RP-Initiated Logout 1.0 §2: GET and form POST. No automatic HEAD route: it signs out.
  app.get(OAUTH_PATHS.endSession, { ...options, exposeHeadRoute: false }, async (req, reply) => send(reply, await oauth.endSession(queryPairs(req), 'GET', req.ip)));
  app.post(OAUTH_PATHS.endSession, options, async (req, reply) => send(reply, await oauth.endSession(req.body instanceof URLSearchParams ? req.body : [], 'POST', req.ip)));
  app.post(OAUTH_PATHS.launch, options, async (req, reply) => send(reply, await oauth.launch(header(req, 'authorization'), req.body, clientCertificate(req))));
}
