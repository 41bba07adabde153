/**
 * Request bodies: FHIR JSON (application/fhir+json, application/json) and form-encoded
 * `_search` parameters. Bodies are attacker-controlled; the size limits are enforced by
 * fastify before parsing, and a parse failure is a clean 400 OperationOutcome.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CustodiaError } from '../app/index.js';

const lengths = new WeakMap<FastifyRequest, number>();

/** The length of the body the request's parser read (characters of its text; 0 when none was read), for its rate-limit charge. */
export function bodyLength(req: FastifyRequest): number {
  return lengths.get(req) ?? 0;
}

/**
 * Form bodies carry `_search` parameters (and OAuth forms, whose routes set 64 KiB): a
 * search takes at most 100 parameters of 4,096 characters (fhir/search), so a mebibyte
 * and a thousand pairs leave room for percent-encoding and ignored ones. Without these
 * bounds the body limit of resources applied: a 32 MiB body of 8 million empty pairs held
 * the event loop for 10 s before the request was refused, 4 s when it had no token
 * (measured 2026-12-01).
 */
export const FORM_BODY_LIMIT = 1024 * 1024;
export const MAX_FORM_PAIRS = 1000;

/** `bodyLimit` is the server's limit for other bodies; a form body gets the smaller of it and FORM_BODY_LIMIT. */
export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  // application/json-patch+json: JSON Patch (RFC 6902) for PATCH (R4 http.html §3.1.0.6).
  app.addContentTypeParser(['application/fhir+json', 'application/json', 'application/json+fhir', 'application/json-patch+json'], { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    lengths.set(req, text.length);
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(new CustodiaError('json-malformed', 'The body is not valid JSON'), undefined);
    }
  });
  // Hostile, and parsed before the caller is authenticated: bounded in bytes and in pairs,
  // which are counted before any is made.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: Math.min(FORM_BODY_LIMIT, bodyLimit) }, (req, body, done) => {
    const text = body as string;
    lengths.set(req, text.length);
    let pairs = 1;
    for (let at = text.indexOf('&'); at !== -1; at = text.indexOf('&', at + 1)) {
      if (++pairs > MAX_FORM_PAIRS) {
        done(new CustodiaError('payload-too-large', `A form body may hold at most ${MAX_FORM_PAIRS} parameters`), undefined);
        return;
      }
    }
    done(null, new URLSearchParams(text));
  });
}
