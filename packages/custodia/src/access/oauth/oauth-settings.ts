/**
 * Where the authorization server lives and how long what it hands out lives.
 *
 * The issuer is the origin of the FHIR base URL (`http://127.0.0.1:8080` for
 * `http://127.0.0.1:8080/fhir`); its endpoints hang below it. Access tokens are for the
 * FHIR base URL itself (SMART App Launch `aud`).
 */
import { CustodiaError } from '../../kernel/index.js';

export interface OAuthEndpoints {
  readonly issuer: string;
  readonly fhirBaseUrl: string;
  readonly authorization: string;
  /** Where the sign-in, second-factor, consent and patient-selection forms post. */
  readonly interaction: string;
  readonly token: string;
  readonly introspection: string;
  readonly revocation: string;
  /** OpenID Connect RP-Initiated Logout 1.0 `end_session_endpoint`. */
  readonly endSession: string;
  readonly jwks: string;
  readonly launch: string;
}

export const OAUTH_PATHS = Object.freeze({
  authorization: '/oauth/authorize',
  interaction: '/oauth/interaction',
  token: '/oauth/token',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  endSession: '/oauth/logout',
  jwks: '/.well-known/jwks.json',
  launch: '/oauth/launch',
  smartConfiguration: '/.well-known/smart-configuration',
  openidConfiguration: '/.well-known/openid-configuration',
});

export function oauthEndpoints(fhirBaseUrl: string): OAuthEndpoints {
  let issuer: string;
  try {
    issuer = new URL(fhirBaseUrl).origin;
  } catch (e) {
    throw new CustodiaError('config-invalid', 'The FHIR base URL is not an absolute URL', { cause: e });
  }
  return Object.freeze({
    issuer,
    fhirBaseUrl,
    authorization: issuer + OAUTH_PATHS.authorization,
    interaction: issuer + OAUTH_PATHS.interaction,
    token: issuer + OAUTH_PATHS.token,
    introspection: issuer + OAUTH_PATHS.introspection,
    revocation: issuer + OAUTH_PATHS.revocation,
    endSession: issuer + OAUTH_PATHS.endSession,
    jwks: issuer + OAUTH_PATHS.jwks,
    launch: issuer + OAUTH_PATHS.launch,
  });
}

/** Lifetimes in seconds. */
export interface OAuthLifetimes {
  /** Access tokens: short, because a JWT cannot be recalled except through the revocation list. */
  readonly accessToken: number;
  readonly idToken: number;
  /** RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED"; ours is one minute. */
  readonly code: number;
  /** A sign-in in progress (from the authorization request to the code). */
  readonly pending: number;
  /** An EHR launch id, from `POST /oauth/launch` to its authorization request. */
  readonly launch: number;
  /** One refresh token of an `offline_access` grant (each use rotates it). */
  readonly offlineRefreshToken: number;
  /** An `offline_access` grant as a whole: no rotation extends it past this. */
  readonly offlineGrant: number;
  /** An `online_access` grant as a whole (there are no server sessions: a working day stands for "while online"). */
  readonly onlineGrant: number;
}

export const DEFAULT_LIFETIMES: OAuthLifetimes = Object.freeze({
  accessToken: 15 * 60,
  idToken: 15 * 60,
  code: 60,
  pending: 10 * 60,
  launch: 5 * 60,
  offlineRefreshToken: 30 * 24 * 3600,
  offlineGrant: 90 * 24 * 3600,
  onlineGrant: 12 * 3600,
});

export interface OAuthOptions {
  readonly lifetimes?: Partial<OAuthLifetimes>;
  /**
   * Fetch the JWKS of clients registered with a `jwks_uri` (private_key_jwt). On in
   * production; tests register their JWKS inline and run without it.
   */
  readonly fetchJwksUri?: boolean;
  /** Form submissions one pending sign-in may take before it is abandoned. */
  readonly maxInteractionAttempts?: number;
}

export function resolveLifetimes(partial: Partial<OAuthLifetimes> = {}): OAuthLifetimes {
  const l = { ...DEFAULT_LIFETIMES, ...partial };
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isInteger(v) || v < 1) throw new CustodiaError('config-invalid', `OAuth lifetime ${k} must be a positive number of seconds`);
  }
  // The token service refuses access tokens living longer than a day.
  if (l.accessToken > 24 * 3600 || l.idToken > 24 * 3600) throw new CustodiaError('config-invalid', 'Access and ID tokens live at most 24 hours');
  return Object.freeze(l);
}
