/**
 * OAuth 2.0 error responses. The token, introspection and revocation endpoints answer
 * with RFC 6749 §5.2 JSON (`{"error": …, "error_description": …}`), not with a FHIR
 * OperationOutcome; the authorization endpoint sends the same codes back to the client's
 * redirect URI (RFC 6749 §4.1.2.1); bearer-token failures use RFC 6750 §3.1 codes.
 *
 * Descriptions are fixed text: they never quote request values, and never say whether a
 * user or client exists.
 */
export type OAuthErrorCode =
  // RFC 6749 §4.1.2.1 and §5.2
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  // OpenID Connect Core §3.1.2.6
  | 'login_required'
  // RFC 6750 §3.1
  | 'invalid_token'
  | 'insufficient_scope';

const STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  /** RFC 6749 §5.2: a client that authenticated with HTTP Basic gets a 401 with `WWW-Authenticate: Basic`. */
  readonly basicChallenge: boolean;

  constructor(error: OAuthErrorCode, description: string, options: { basicChallenge?: boolean; cause?: unknown } = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.error = error;
    this.basicChallenge = options.basicChallenge ?? false;
  }

  get status(): number {
    return STATUS[this.error] ?? 400;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

export function isOAuthError(e: unknown): e is OAuthError {
  return e instanceof OAuthError;
}
