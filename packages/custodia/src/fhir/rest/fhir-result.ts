/**
 * The framework-free result of a FHIR interaction: status, body and the headers R4
 * http.html asks for (ETag, Last-Modified, Location). The server adapter turns it into
 * an HTTP response; batch/transaction processing turns it into a Bundle entry.
 */
import type { StoredVersion } from '../ports/resource-store.js';

export interface FhirResult {
  readonly status: number;
  /** JSON text (stored resources are returned as stored) or an object to serialise. */
  readonly body?: string | object;
  /** `Type/id/_history/v`, relative to the FHIR base. */
  readonly location?: string;
  readonly versionId?: number;
  /** Epoch milliseconds. */
  readonly lastModified?: number;
  /**
   * The stored versions the response discloses (read, vread, search matches and includes,
   * history): what the audit names as the entities read and the patients whose data was
   * returned. Never sent.
   */
  readonly returned?: readonly StoredVersion[];
}

/** ETag per R4 http.html §3.1.0.1.4: a weak tag of the version id. */
export function etagOf(versionId: number): string {
  return `W/"${versionId}"`;
}

/** Parses `W/"3"` or `"3"` (If-Match); undefined when it does not name a version. Input is attacker-controlled. */
export function parseEtag(header: string): number | undefined {
  const m = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(header);
  return m === null ? undefined : Number(m[1]);
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** `201 Created`, as Bundle.entry.response.status wants it. */
export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
}
