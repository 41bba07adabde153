/** Identities of the vault: users, their passwords and second factors, lockout and throttling, client applications. */
export { ROLES, isRole, DEFAULT_ROLE_POLICY, type Role, type RolePolicy } from './roles.js';
export { parseFhirUser, checkFhirUser, type FhirUserRef, type FhirUserType } from './fhir-user.js';
export { normalizeUsername, requireUsername, publicUser, type User, type UserRecord, type AccountStatus, type TotpEnrolment } from './user.js';
export {
  AUTH_METHOD,
  publicClient,
  checkClientId,
  checkClientName,
  checkRedirectUri,
  checkJwksUri,
  checkSubjectDn,
  checkScope,
  parsePublicJwks,
  type Client,
  type ClientRecord,
  type ClientKind,
  type TokenEndpointAuthMethod,
  type PublicJwks,
} from './client.js';
export {
  PasswordPolicy,
  DEFAULT_PASSWORD_POLICY,
  MAX_PASSWORD_INPUT,
  parseCommonPasswords,
  normalizePassword,
  isRepetitive,
  type CommonPasswordList,
  type PasswordPolicyOptions,
  type PasswordRejection,
  type PasswordCheck,
} from './password-policy.js';
export {
  ScryptHasher,
  PRODUCTION_SCRYPT,
  MINIMUM_PRODUCTION_SCRYPT,
  encodeScrypt,
  decodeScrypt,
  checkScryptParams,
  type ScryptParams,
  type PasswordHasher,
} from './password-hash.js';
export { base32Encode, base32Decode } from './base32.js';
export { hotp, totpAt, timeStep, verifyTotp, otpauthUri, checkTotpParams, DEFAULT_TOTP, TOTP_ALGORITHMS, TOTP_SECRET_BYTES, type TotpAlgorithm, type TotpParams, type OtpauthUriInput } from './totp.js';
export {
  generateRecoveryCode,
  generateRecoveryCodes,
  normalizeRecoveryCode,
  hashRecoveryCode,
  matchRecoveryCode,
  DEFAULT_RECOVERY_CODE_COUNT,
} from './recovery-codes.js';
export { generatePassword, generateClientSecret, hashClientSecret, verifyClientSecret } from './generated-secrets.js';
export { DEFAULT_LOCKOUT, lockDelayMs, lockedUntilAfter, isLocked, checkLockoutPolicy, type LockoutPolicy } from './lockout-policy.js';
export { IpThrottle, LoginThrottledError, throttleKey, DEFAULT_THROTTLE, type ThrottleOptions, type ThrottleDecision } from './ip-throttle.js';
export type { IdentityStore, LoginAttempt, StoredRecoveryCode } from './identity-store.js';
export { InMemoryIdentityStore } from './memory-identity-store.js';
export {
  IdentityService,
  secondFactorKind,
  type IdentityOptions,
  type NewUser,
  type AddedUser,
  type LoginResult,
  type TotpEnrolmentStart,
  type TotpConfirmation,
  type NewClient,
  type AddedClient,
} from './identity-service.js';
