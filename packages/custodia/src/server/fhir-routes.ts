/**
 * The FHIR REST endpoint under /fhir: turns HTTP into a plain FhirHttpRequest for the
 * app's security pipeline and its FhirResult back into HTTP (R4 http.html headers:
 * ETag, Last-Modified, Location; application/fhir+json).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CustodiaError, handleFhirRequest, type FhirResult, type Vault } from '../app/index.js';
import { etagOf } from '../app/index.js';
import { clientCertificate } from './client-certificate.js';
import { verifiedBeforeBody } from './verified-before-body.js';
import { bodyLength } from './body-parsers.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** JSON is the only format offered (R4 http.html §3.1.0.1.5); `_format` and Accept may ask for it or for anything. */
function assertJsonAccepted(req: FastifyRequest, query: string): void {
  const format = new URLSearchParams(query).get('_format');
  if (format !== null && !/json/i.test(format)) throw new CustodiaError('not-acceptable', 'Only JSON is offered: use _format=json or application/fhir+json');
  const accept = header(req, 'accept');
  if (accept !== undefined && accept !== '' && !/json|\*\/\*|application\/\*/i.test(accept)) {
    throw new CustodiaError('not-acceptable', 'Only application/fhir+json is offered');
  }
}

function send(reply: FastifyReply, vault: Vault, result: FhirResult): FastifyReply {
  reply.code(result.status);
  if (result.versionId !== undefined) reply.header('etag', etagOf(result.versionId));
  if (result.lastModified !== undefined) reply.header('last-modified', new Date(result.lastModified).toUTCString());
  if (result.location !== undefined) reply.header('location', `${vault.config.fhirBaseUrl}/${result.location}`);
  if (result.body === undefined) return reply.send();
  reply.header('content-type', FHIR_JSON);
  return reply.send(typeof result.body === 'string' ? result.body : JSON.stringify(result.body));
}

export function registerFhirRoutes(app: FastifyInstance, vault: Vault): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const url = req.raw.url ?? '';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    assertJsonAccepted(req, query);
    const path = pathname.replace(/^\/fhir\/?/, '').replace(/\/+$/, '');
    const body = req.body;
    const form = body instanceof URLSearchParams ? [...body].map(([k, v]) => [k, v] as const) : undefined;
    const purposeOfUse = header(req, 'x-purpose-of-use');
    const breakGlass = purposeOfUse === undefined ? undefined : { purposeOfUse, reason: header(req, 'x-break-glass-reason'), patient: header(req, 'x-break-glass-patient') };
    const certificate = clientCertificate(req);
    const principal = verifiedBeforeBody(req);
    const result = await handleFhirRequest(vault, {
      method: req.method,
      path,
      query,
      body: form === undefined ? body : undefined,
      ...(form === undefined ? {} : { formParams: form }),
      ...optional('authorization', header(req, 'authorization')),
      ...(principal === undefined ? {} : { principal }),
      bodyLength: bodyLength(req),
      ...(certificate === undefined ? {} : { clientCertificate: certificate }),
      ...optional('ifMatch', header(req, 'if-match')),
      ...optional('ifNoneExist', header(req, 'if-none-exist')),
      ...optional('ifNoneMatch', header(req, 'if-none-match')),
      ...optional('ifModifiedSince', header(req, 'if-modified-since')),
      ...optional('prefer', header(req, 'prefer')),
      ...(breakGlass === undefined ? {} : { breakGlass }),
      address: req.ip,
    });
    return send(reply, vault, result);
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/fhir', handler });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/fhir/*', handler });
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
