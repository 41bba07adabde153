/**
 * One error base class with a closed union of stable string codes.
 * Each code maps to an HTTP status and a FHIR OperationOutcome issue code in
 * `error-catalog.ts`; `docs/errors.md` lists them for operators and clients.
 *
 * @example
 *   throw new CustodiaError('resource-not-found', 'Patient/123 is not known');
 */
export type ErrorCode =
  | 'request-malformed'
  | 'json-malformed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'not-acceptable'
  | 'method-not-allowed'
  | 'unknown-resource-type'
  | 'resource-structure'
  | 'resource-invalid'
  | 'resource-too-costly'
  | 'id-mismatch'
  | 'patch-invalid'
  | 'patch-failed'
  | 'resource-not-found'
  | 'resource-gone'
  | 'version-not-found'
  | 'version-conflict'
  | 'precondition-failed'
  | 'multiple-matches'
  | 'search-invalid'
  | 'search-unsupported'
  | 'search-too-costly'
  | 'page-expired'
  | 'bundle-invalid'
  | 'reference-unresolved'
  | 'not-supported'
  | 'unauthenticated'
  | 'token-invalid'
  | 'forbidden'
  | 'rate-limited'
  | 'login-failed'
  | 'login-throttled'
  | 'password-rejected'
  | 'identity-conflict'
  | 'identity-not-found'
  | 'token-unknown'
  | 'client-auth-failed'
  | 'import-failed'
  | 'config-invalid'
  | 'storage-unavailable'
  | 'storage-conflict'
  | 'decrypt-failed'
  | 'key-unavailable'
  | 'resource-erased'
  | 'erasure-refused'
  | 'ledger-invalid'
  | 'model-invalid'
  | 'model-unsupported'
  | 'audit-unavailable'
  | 'finding-transition-invalid'
  | 'stream-unavailable'
  | 'internal';

/** One problem inside an error, pointing at where it happened (a FHIRPath into the resource or request). */
export interface ErrorIssue {
  readonly diagnostics: string;
  /** FHIRPath expressions locating the problem, e.g. `Patient.birthDate`. */
  readonly expression?: readonly string[];
  /** Overrides the catalogue's OperationOutcome issue code for this issue. */
  readonly issueCode?: string;
}

export interface CustodiaErrorOptions {
  readonly issues?: readonly ErrorIssue[];
  readonly cause?: unknown;
  /** How long the caller should wait before trying again (a throttle's refusal); becomes Retry-After. */
  readonly retryAfterMs?: number;
}

export class CustodiaError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly ErrorIssue[];
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: CustodiaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CustodiaError';
    this.code = code;
    this.issues = options.issues ?? [];
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** True when `e` is a CustodiaError, optionally with one of the given codes. */
export function isCustodiaError(e: unknown, ...codes: ErrorCode[]): e is CustodiaError {
  return e instanceof CustodiaError && (codes.length === 0 || codes.includes(e.code));
}

/**
 * RFC 9110 §10.2.3: a Retry-After value in delay-seconds, rounded up (and at least 1) so
 * that a client that waits that long finds room.
 */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
