/**
 * What the JSON APIs outside /fhir share (`/admin/*`, `/detect/*`): the caller, authenticated
 * from the bearer token (and the client certificate it may be bound to) and held to the
 * same per-user and per-client rate limits as /fhir; and a JSON answer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Vault } from '../app/index.js';
import { authenticateRequest, verifiedBeforeBody } from './verified-before-body.js';
import { bodyLength } from './body-parsers.js';

/** authenticate → rate-limit (the request, then its body): the caller of a request, or the error that refuses it. */
export function apiCaller(vault: Vault): (req: FastifyRequest) => ReturnType<typeof authenticateRequest> {
  return async (req) => {
    const principal = verifiedBeforeBody(req) ?? (await authenticateRequest(vault, req));
    vault.rateLimiter.admit(principal);
    vault.rateLimiter.chargeWork(principal, 'bodyBytes', bodyLength(req));
    return principal;
  };
}

export function json(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}
