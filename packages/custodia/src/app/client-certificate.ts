/**
 * The client certificate of a mutual-TLS connection (RFC 8705), read for each request
 * (so a TLS 1.2 renegotiation can never leave a stale answer behind): only one the TLS
 * stack verified against `--tls-client-ca` counts. The server was told to
 * ask for certificates but not to refuse connections without a good one
 * (server/http-server.ts), so an unverified certificate is simply no certificate here.
 */
import { certificateThumbprint, parseCertificateSubject, type ClientCertificate, type DistinguishedName } from '../access/index.js';

/** What is needed of a `tls.TLSSocket` (a plain `net.Socket` has none of it). */
export interface PeerSocket {
  readonly authorized?: boolean;
  getPeerX509Certificate?(): { readonly raw: Buffer; readonly subject: string } | undefined;
}

function subjectOf(text: string): DistinguishedName {
  try {
    return parseCertificateSubject(text);
  } catch {
    // A subject we cannot read matches no registration; the thumbprint still binds tokens.
    return [];
  }
}

/** The verified client certificate of the connection, or undefined (none, unverified, or no TLS). */
export function verifiedClientCertificate(socket: PeerSocket): ClientCertificate | undefined {
  if (socket.authorized !== true || typeof socket.getPeerX509Certificate !== 'function') return undefined;
  const cert = socket.getPeerX509Certificate();
  return cert === undefined ? undefined : Object.freeze({ thumbprint: certificateThumbprint(cert.raw), subject: subjectOf(cert.subject) });
}
