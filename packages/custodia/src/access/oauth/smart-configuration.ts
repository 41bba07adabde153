/**
 * Discovery documents.
 * - SMART App Launch 2.x §2.0.8 "SMART on FHIR well-known configuration"
 *   (conformance.html): `GET [base]/.well-known/smart-configuration`.
 * - OpenID Connect Discovery 1.0 §3 provider metadata, with RFC 8414 fields, for OIDC
 *   clients (`sso-openid-connect`).
 * - RFC 7517 §5 JWK Set of the token-signing key (public members only).
 */
import { ADMIN_SCOPE } from '../admin-scope.js';
import type { JWK } from 'jose';
import { CONTEXT_SCOPES } from './scope-grant.js';
import type { OAuthEndpoints } from './oauth-settings.js';

/** RFC 7523 client assertions: the algorithms accepted (`none` never is). SMART requires RS384 and ES384. */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'ES256', 'ES384', 'EdDSA'] as const;

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;

/** Methods for introspection and revocation: the confidential ones (RFC 7662 §2.1), plus `none` for revoking a public client's own tokens (RFC 7009 §2.1). */
const CONFIDENTIAL_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

/** SMART App Launch 2.x §2.0.9 capabilities this server implements. */
export const SMART_CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'sso-openid-connect',
  'permission-offline',
  'permission-online',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
  'authorize-post',
] as const;

export const SCOPES_SUPPORTED = [
  ...CONTEXT_SCOPES,
  'patient/*.cruds',
  'patient/*.rs',
  'patient/*.read',
  'patient/*.write',
  'patient/*.*',
  'user/*.cruds',
  'user/*.rs',
  'user/*.read',
  'user/*.write',
  'user/*.*',
  'system/*.cruds',
  'system/*.rs',
  'system/*.read',
  'system/*.write',
  'system/*.*',
  ADMIN_SCOPE,
] as const;

/** What the deployment offers beyond the fixed set. */
export interface DiscoveryOptions {
  /**
   * Mutual TLS is configured (`--tls-client-ca`): RFC 8705 §2.1 `tls_client_auth` client
   * authentication and §3.3 certificate-bound access tokens
   * (`tls_client_certificate_bound_access_tokens`).
   */
  readonly mutualTls?: boolean;
}

const authMethods = (o: DiscoveryOptions, methods: readonly string[]): string[] => [...methods, ...(o.mutualTls === true ? ['tls_client_auth'] : [])];
const mtlsMetadata = (o: DiscoveryOptions): Record<string, unknown> => (o.mutualTls === true ? { tls_client_certificate_bound_access_tokens: true } : {});

export function smartConfiguration(e: OAuthEndpoints, o: DiscoveryOptions = {}): Record<string, unknown> {
  return {
    issuer: e.issuer,
    jwks_uri: e.jwks,
    authorization_endpoint: e.authorization,
    token_endpoint: e.token,
    introspection_endpoint: e.introspection,
    revocation_endpoint: e.revocation,
    end_session_endpoint: e.endSession,
    grant_types_supported: [...GRANT_TYPES],
    response_types_supported: ['code'],
    scopes_supported: [...SCOPES_SUPPORTED],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: authMethods(o, TOKEN_ENDPOINT_AUTH_METHODS),
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    capabilities: [...SMART_CAPABILITIES],
    ...mtlsMetadata(o),
  };
}

export function openidConfiguration(e: OAuthEndpoints, o: DiscoveryOptions = {}): Record<string, unknown> {
  return {
    issuer: e.issuer,
    authorization_endpoint: e.authorization,
    token_endpoint: e.token,
    jwks_uri: e.jwks,
    introspection_endpoint: e.introspection,
    revocation_endpoint: e.revocation,
    // OpenID Connect RP-Initiated Logout 1.0 §2.1.
    end_session_endpoint: e.endSession,
    scopes_supported: [...SCOPES_SUPPORTED],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANT_TYPES],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['EdDSA'],
    token_endpoint_auth_methods_supported: authMethods(o, TOKEN_ENDPOINT_AUTH_METHODS),
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    introspection_endpoint_auth_methods_supported: authMethods(o, CONFIDENTIAL_AUTH_METHODS),
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    revocation_endpoint_auth_methods_supported: authMethods(o, TOKEN_ENDPOINT_AUTH_METHODS),
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'fhirUser'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    // RFC 9207: the authorization response names its issuer (mix-up defence).
    authorization_response_iss_parameter_supported: true,
    ...mtlsMetadata(o),
  };
}

/** RFC 7517 §5: the public members of the signing key only. */
export function jwksDocument(publicJwk: JWK): { keys: JWK[] } {
  const { kty, crv, x, kid, alg, use } = publicJwk;
  return { keys: [{ kty, crv, x, kid, alg, use } as JWK] };
}
