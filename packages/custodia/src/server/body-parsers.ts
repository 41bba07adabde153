/**
 * Request bodies: FHIR JSON (application/fhir+json, application/json) and form-encoded
 * `_search` parameters. Bodies are attacker-controlled; the size limit is enforced by
 * fastify before parsing, and a parse failure is a clean 400 OperationOutcome.
 */
import type { FastifyInstance } from 'fastify';
import { CustodiaError } from '../app/index.js';

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  // application/json-patch+json: JSON Patch (RFC 6902) for PATCH (R4 http.html §3.1.0.6).
  app.addContentTypeParser(['application/fhir+json', 'application/json', 'application/json+fhir', 'application/json-patch+json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
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
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
}
