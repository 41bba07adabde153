/**
 * A client certificate the TLS stack verified against the configured CAs (mutual TLS,
 * RFC 8705), as the access layer sees it, and the check that binds an access token to it.
 *
 * RFC 8705 §3: "the protected resource MUST obtain the client certificate used for mutual
 * TLS authentication and MUST verify that the certificate matches the certificate
 * associated with the access token. If they do not match, the resource access attempt
 * MUST be rejected with an error, per [RFC6750], using an HTTP 401 status code and the
 * 'invalid_token' error code."
 */
import { createHash } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';
import type { DistinguishedName } from './distinguished-name.js';
import type { Principal } from './principal.js';

export interface ClientCertificate {
  /** RFC 8705 §3.1 `x5t#S256`: base64url SHA-256 of the DER certificate. */
  readonly thumbprint: string;
  /** Its subject, RFC 4514 order (empty when it cannot be read). */
  readonly subject: DistinguishedName;
}

/** RFC 8705 §3.1: "the base64url-encoded SHA-256 hash of the DER encoding of the X.509 certificate". */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** A SHA-256 thumbprint in base64url without padding: 43 characters. */
export function isThumbprint(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v);
}

/**
 * Refuses a certificate-bound token (`cnf.x5t#S256`) that comes over a connection without
 * that certificate. Unbound tokens pass whatever the connection presented.
 */
export function requireBoundCertificate(principal: Principal, presented: ClientCertificate | undefined): void {
  if (principal.certificateThumbprint === undefined) return;
  if (presented?.thumbprint !== principal.certificateThumbprint) {
    throw new CustodiaError('token-invalid', 'The bearer token is bound to a client certificate this connection did not present');
  }
}
