/**
 * Authenticates the client at the token, introspection and revocation endpoints (RFC
 * 6749 §2.3 and §3.2.1) with the method its registration allows:
 * - public: `none` (its id only; PKCE protects the code, RFC 7636);
 * - confidential-symmetric: `client_secret_basic` or `client_secret_post`;
 * - confidential-asymmetric: `private_key_jwt` (client-assertion.ts), or
 *   `tls_client_auth` (RFC 8705 §2.1, PKI method) for a client registered with a
 *   certificate subject: the request carries its `client_id` (§2: "REQUIRED") and comes
 *   over a TLS connection whose client certificate chains to a configured CA (the TLS
 *   stack checks that) and has exactly that subject (§2.1.2).
 * Every failure is the same `invalid_client` (RFC 6749 §5.2), whether the client is
 * unknown, disabled, of another kind, or gave a wrong secret or signature.
 */
import { isCustodiaError, type Clock } from '../../kernel/index.js';
import type { Client, IdentityService } from '../identity/index.js';
import type { ClientCertificate } from '../client-certificate.js';
import { parseDistinguishedName, sameDistinguishedName } from '../distinguished-name.js';
import { verifyClientAssertion } from './client-assertion.js';
import type { PresentedCredentials } from './client-credentials.js';
import type { ClientKeys } from './client-keys.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthStore } from './oauth-store.js';

export class ClientAuthenticator {
  constructor(
    private readonly identity: IdentityService,
    private readonly store: OAuthStore,
    private readonly clock: Clock,
    private readonly keys: ClientKeys,
    private readonly tokenEndpoint: string,
  ) {}

  /**
   * `endpoint` is the URL being called (accepted as assertion audience besides the token
   * endpoint); `certificate` the verified client certificate of the connection, if any.
   */
  async authenticate(c: PresentedCredentials, endpoint: string, certificate?: ClientCertificate): Promise<Client> {
    switch (c.method) {
      case 'client_secret_basic':
      case 'client_secret_post':
        try {
          return await this.identity.authenticateClientSecret(c.clientId, c.secret);
        } catch (e) {
          if (isCustodiaError(e, 'client-auth-failed')) throw new OAuthError('invalid_client', 'Client authentication failed', { basicChallenge: c.method === 'client_secret_basic' });
          throw e;
        }
      case 'private_key_jwt':
        return verifyClientAssertion(c.assertion, c.clientId, {
          identity: this.identity,
          store: this.store,
          clock: this.clock,
          keys: this.keys,
          audiences: [...new Set([this.tokenEndpoint, endpoint])],
        });
      case 'none': {
        // Only a client_id: a public client, or a certificate-authenticated one.
        const client = await this.identity.getClient(c.clientId);
        if (client === undefined || client.status !== 'active') throw new OAuthError('invalid_client', 'Client authentication failed');
        if (client.tokenEndpointAuthMethod === 'tls_client_auth') return certifiedClient(client, certificate);
        if (client.kind !== 'public') throw new OAuthError('invalid_client', 'Client authentication failed');
        return client;
      }
    }
  }
}

/** RFC 8705 §2.1.2: the certificate's subject is the one registered for the client. */
function certifiedClient(client: Client, certificate: ClientCertificate | undefined): Client {
  if (certificate === undefined || client.tlsSubjectDn === undefined || !sameDistinguishedName(parseDistinguishedName(client.tlsSubjectDn), certificate.subject)) {
    throw new OAuthError('invalid_client', 'Client authentication failed');
  }
  return client;
}
