/**
 * Migration 0014: a client may be registered with the subject of its TLS client
 * certificate (RFC 8705 §2.1.2 `tls_client_auth_subject_dn`, RFC 4514 text) and then
 * authenticates with that certificate over mutual TLS (access/oauth/client-authenticator.ts).
 */
export function clientCertificateSchema(): string[] {
  return ['ALTER TABLE identity_clients ADD COLUMN tls_subject_dn TEXT'];
}
