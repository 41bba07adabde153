/**
 * Response headers that keep browsers from caching, sniffing, framing or leaking what the
 * vault sends: @fastify/helmet for the standard set, plus `Cache-Control: no-store`,
 * which helmet does not offer.
 *
 * Helmet writes its headers on the raw response when the request arrives; headers a
 * handler sets through the reply win over them when the response is written (Node's
 * `writeHead` takes precedence over `setHeader`). That is how the sign-in pages keep
 * their own, stricter Content-Security-Policy (a style hash and `form-action`, see
 * access/oauth/pages.ts): nothing here has to know about them.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/** RFC 6797 §6.1.1: one year, the value browsers' preload lists expect. */
const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/** For the few answers fastify gives before any hook runs (a URL that does not decode). */
export const PRE_ROUTING_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
});

export function registerSecurityHeaders(app: FastifyInstance, publicBaseUrl: string): void {
  void app.register(helmet, {
    global: true,
    // Everything but the sign-in pages is JSON: it loads nothing and is framed by nobody.
    contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // RFC 6797 §7.2: a host sends HSTS only over secure transport. The vault usually sits
    // behind a TLS-terminating proxy, so the public base URL says whether clients reach it
    // over https; announcing HSTS for a plain-http deployment would lock browsers out.
    strictTransportSecurity: publicBaseUrl.startsWith('https:') ? { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: true } : false,
  });
  app.addHook('onSend', async (_req, reply) => {
    // Responses carry patient data, tokens or sign-in state: never store them — unless the
    // route itself chose how its answer is cached (only the public, hash-only answers of
    // the ledger and the witness do).
    if (reply.getHeader('cache-control') === undefined) reply.header('cache-control', 'no-store');
  });
}
