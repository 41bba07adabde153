export { TokenService, TOKEN_AUDIENCE, TOKEN_ISSUER, MAX_TOKEN_LIFETIME_SECONDS, RefusedToken, type TokenRefusal, type SigningKey, type IssueOptions } from './token-service.js';
export type { Principal } from './principal.js';
export { RateLimiter, DEFAULT_RATE_LIMITS, WORK_PER_REQUEST, type RateLimit, type Work, type RateLimits } from './rate-limiter.js';
export { TokenBuckets, type TokenBucketOptions, type BucketDecision } from './token-buckets.js';
export { parseScopes, parseResourceScope, scopesGrant, type ResourceScope, type ScopeRestriction, type Permission, type ScopeContext } from './smart-scopes.js';
export * from './identity/index.js';
export { TREATMENT, BREAK_THE_GLASS, userPrincipal } from './principal.js';
export { BreakGlassService, checkClaim, DEFAULT_BREAK_GLASS_MINUTES, type BreakGlassSession, type BreakGlassStore, type BreakGlassClaim, type ReviewStatus } from './break-glass.js';
export { ROLE_GRANTS, roleGrants } from './role-permissions.js';
export { requirementsOf, type Requirement } from './interaction-permissions.js';
export { checkPermissions, compartmentBoundTypes, ownPatientId, type PermissionOutcome, type TypeClasses } from './permission-check.js';
export { buildVisibility, type VisibilityInputs, type VisibilityDecision, type LabelRequirement, type ConsentGroup } from './visibility-builder.js';
export { type TokenServiceOptions, type IssuedToken } from './token-service.js';
export { signedTokenClaims, type SignedTokenClaims } from './signed-token-claims.js';
export type { RevocationList } from './revocation-list.js';
export type { IssuedTokenRecord } from './issued-token-record.js';
export type { SharedBucketLimit, SharedBuckets } from './cross-process-buckets.js';
export { SharedBucketScope } from './cross-process-bucket-scope.js';
export {
  eventUser,
  recordBestEffort,
  MAX_USERNAME,
  type SecurityEvent,
  type SecurityEventKind,
  type SecurityEventSink,
  type EventUser,
  type EventGrantType,
  type RevocationReason,
  type SecondFactor,
} from './security-events.js';
export type { UserAccounts, UserStanding } from './user-standing.js';
export { ADMIN_SCOPE, ADMIN_ROLES, hasAdminScope, scopesForRole } from './admin-scope.js';
export * from './oauth/index.js';
export * from './policy/index.js';
export { LABEL_REQUIREMENTS, CLEARANCES, categoryLabel } from './label-requirements.js';
export type { OperatorAction, OperatorLog } from './operator-log.js';
export { certificateThumbprint, requireBoundCertificate, isThumbprint, type ClientCertificate } from './client-certificate.js';
export { parseDistinguishedName, parseCertificateSubject, sameDistinguishedName, formatDistinguishedName, type DistinguishedName, type DnAttribute } from './distinguished-name.js';
