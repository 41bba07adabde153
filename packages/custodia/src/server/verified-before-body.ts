/**
 * A request body is read only for a caller whose bearer token verifies, on the routes that
 * require one (/fhir, /admin, /detect, /inventory). Fastify parses a body before the route
 * runs, and the route is where the token was checked: so anyone, with no token at all,
 * could make the server parse a body of up to the body limit (32 MiB of JSON, about 0.3 s
 * of the event loop) before being refused. A preParsing hook now verifies the token of a
 * request that has a body; when it does not verify, the body is replaced by an empty one
 * and the route refuses the request as before (401, recorded, and counted against the
 * address's `unauthenticated` limit) without parsing what was sent. The principal it
 * verified is kept for the route, which then does not verify it again. Requests without a
 * body (reads) are verified by their route alone, as before. A caller whose rate-limit
 * buckets are spent (access/rate-limiter.ts: a large body is charged by its size) is
 * refused here with 429, as their route would refuse them, and the body is not read.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, type Vault } from '../app/index.js';
import { clientCertificate } from './client-certificate.js';

type Principal = Awaited<ReturnType<typeof authenticate>>;

const TOKEN_ROUTES = /^\/(?:fhir|admin|detect|inventory)(?:[/?]|$)/;
const verified = new WeakMap<FastifyRequest, Principal>();

/** The principal of the request's bearer token (and the client certificate it may be bound to), or `unauthenticated` / `token-invalid`. */
export function authenticateRequest(vault: Vault, req: FastifyRequest): Promise<Principal> {
  const header = req.headers['authorization'];
  return authenticate(vault.tokens, Array.isArray(header) ? header[0] : header, clientCertificate(req));
}

/** The principal the request's token was verified as before its body was read, if it was. */
export function verifiedBeforeBody(req: FastifyRequest): Principal | undefined {
  return verified.get(req);
}

const hasBody = (req: FastifyRequest): boolean => req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

export function registerVerifiedBodies(app: FastifyInstance, vault: Vault): void {
  // Callback style: every request passes here, and one without a body (every read) goes on at once, without a promise.
  app.addHook('preParsing', (req, _reply, payload, done) => {
    if (!hasBody(req) || !TOKEN_ROUTES.test(req.url)) {
      done(null, payload);
      return;
    }
    const unread = (): void => {
      // The route refuses the request. Fastify compares what a replaced body says it received with Content-Length.
      const empty = Readable.from([]) as Readable & { receivedEncodedLength?: number };
      empty.receivedEncodedLength = Number(req.headers['content-length'] ?? 0);
      done(null, empty);
    };
    authenticateRequest(vault, req).then(
      (principal) => {
        verified.set(req, principal);
        // Spent buckets: refused here (429, as the route's admission would refuse it; not recorded), the body unread.
        try {
          vault.rateLimiter.check(principal);
        } catch (refusal) {
          done(refusal as Error, undefined);
          return;
        }
        done(null, payload);
      },
      unread,
    );
  });
}
