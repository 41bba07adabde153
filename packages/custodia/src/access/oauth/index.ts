/** The SMART App Launch 2.x / OAuth 2.0 authorization server: domain pieces and ports. */
export { OAuthError, isOAuthError, type OAuthErrorCode } from './oauth-error.js';
export { oauthEndpoints, resolveLifetimes, DEFAULT_LIFETIMES, OAUTH_PATHS, type OAuthEndpoints, type OAuthLifetimes, type OAuthOptions } from './oauth-settings.js';
export { smartConfiguration, openidConfiguration, jwksDocument, ASSERTION_ALGORITHMS, SMART_CAPABILITIES, SCOPES_SUPPORTED, type DiscoveryOptions } from './smart-configuration.js';
export { AuthorizationFlow, type AuthorizationFlowDeps, type BrowserRequest } from './authorization-flow.js';
export { RequestParams, redirectUriMatches, type AuthorizationRequest, type LaunchContext } from './authorization-request.js';
export { TokenEndpoint, type TokenEndpointDeps } from './token-endpoint.js';
export { EndSessionEndpoint, type EndSessionDeps } from './end-session.js';
export { TokenIssuer } from './token-issuer.js';
export { ClientAuthenticator } from './client-authenticator.js';
export { clientKeys, type ClientKeys } from './client-keys.js';
export { LaunchService } from './launch-service.js';
export { jsonResponse, oauthErrorResponse, type OAuthHttpResponse } from './http-response.js';
export { verifyCodeVerifier, isCodeChallenge, isCodeVerifier } from './pkce.js';
export { grantScopes, isCovered, describeScope, parseRequestedScope } from './scope-grant.js';
export { escapeHtml, html } from './html.js';
export { loginPage, consentPage, secondFactorPage, patientPage, errorPage, layout, pageHeaders, PAGE_STYLE_HASH, type PatientChoice } from './pages.js';
export { bindingCookieName } from './browser-binding.js';
export { sha256 as oauthHash } from './secrets.js';
export type { PatientDirectory } from './patient-directory.js';
export type {
  OAuthStore,
  PendingAuthorization,
  PendingStage,
  PendingUpdate,
  GrantContext,
  GrantRecord,
  CodeRecord,
  RefreshTokenRecord,
  TokenIssue,
  RedeemOutcome,
  LaunchRecord,
} from './oauth-store.js';
