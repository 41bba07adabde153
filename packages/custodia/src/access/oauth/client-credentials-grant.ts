/**
 * The client credentials grant (RFC 6749 §4.4) as SMART Backend Services profiles it
 * (backend-services.html §"Obtaining an access token"): only for clients that
 * authenticate with an asymmetric key, `private_key_jwt` as SMART requires or
 * `tls_client_auth` (RFC 8705 §2.1), only `system/` scopes, only within the client's
 * registered scope; no refresh token (§4.4.3). A token requested over a verified client
 * certificate is bound to it (RFC 8705 §3).
 */
import type { Client } from '../identity/index.js';
import type { RequestParams } from './authorization-request.js';
import type { IssuedTokens } from './authorization-code-grant.js';
import { OAuthError } from './oauth-error.js';
import { grantScopes, parseRequestedScope } from './scope-grant.js';
import type { TokenIssuer } from './token-issuer.js';

export async function clientCredentials(p: RequestParams, client: Client, issuer: TokenIssuer, certificateThumbprint?: string): Promise<IssuedTokens> {
  if (client.kind !== 'confidential-asymmetric') throw new OAuthError('unauthorized_client', 'Only backend services clients (private_key_jwt or tls_client_auth) may use the client_credentials grant');
  const scopes = grantScopes(parseRequestedScope(p.get('scope')), client.scope, 'client_credentials');
  const scope = scopes.join(' ');
  const { body, accessTokenId } = await issuer.forClient(client, scope, certificateThumbprint);
  return { body, scope, accessTokenId };
}
