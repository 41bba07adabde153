/**
 * Cross-origin access for SMART browser apps (the Fetch standard's CORS protocol), with
 * @fastify/cors doing the protocol. Off unless the operator lists origins; then only
 * those exact origins, and only on the endpoints a browser app calls with a bearer token
 * or its PKCE code: the FHIR API and the token, introspection and revocation endpoints.
 *
 * Never with credentials: the vault authenticates API calls by bearer token, so a
 * browser's cookies have no business crossing origins, and the sign-in pages (which do
 * use a cookie) and the admin API get no CORS headers at all. A request from any other
 * origin is answered as if CORS did not exist: no Access-Control-Allow-Origin, and a
 * preflight gets the same 404 as any unknown OPTIONS request. The public discovery
 * documents keep their own `Access-Control-Allow-Origin: *` (oauth-routes.ts).
 */
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAUTH_PATHS } from '../app/index.js';

/** Request headers beyond the CORS-safelisted ones that FHIR and OAuth clients send. */
const FHIR_REQUEST_HEADERS = ['Authorization', 'Content-Type', 'Accept', 'Prefer', 'If-Match', 'If-None-Match', 'If-None-Exist', 'If-Modified-Since'];
/** Response headers a FHIR client reads (R4 http.html): not safelisted, so named here. */
const EXPOSED_HEADERS = ['Location', 'Content-Location', 'ETag', 'Last-Modified', 'Retry-After'];
/** How long a browser may reuse a preflight answer (seconds; browsers cap it at 2 hours or less). */
const PREFLIGHT_MAX_AGE = 600;

const OAUTH_CORS_PATHS = new Set<string>([OAUTH_PATHS.token, OAUTH_PATHS.introspection, OAUTH_PATHS.revocation]);

/** Which CORS settings a path gets, by its raw path (a preflight matches no route of its own). */
function endpointOf(req: FastifyRequest): 'fhir' | 'oauth' | undefined {
  const url = req.raw.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (OAUTH_CORS_PATHS.has(path)) return 'oauth';
  if ((path === '/fhir' || path.startsWith('/fhir/')) && !path.startsWith('/fhir/.well-known/')) return 'fhir';
  return undefined;
}

export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  const common = { credentials: false, maxAge: PREFLIGHT_MAX_AGE, exposedHeaders: EXPOSED_HEADERS, strictPreflight: true } as const;
  const fhir: FastifyCorsOptions = { ...common, methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], allowedHeaders: FHIR_REQUEST_HEADERS };
  const oauth: FastifyCorsOptions = { ...common, methods: ['POST'], allowedHeaders: ['Authorization', 'Content-Type'] };
  void app.register(cors, {
    // `Origin` is attacker-controlled: it is only ever compared, exactly, with the list.
    delegator: (req, callback) => {
      const origin = req.headers.origin;
      const endpoint = endpointOf(req);
      if (endpoint === undefined || origin === undefined || !allowed.has(origin)) return callback(null, { origin: false });
      callback(null, { ...(endpoint === 'fhir' ? fhir : oauth), origin });
    },
  });
}
