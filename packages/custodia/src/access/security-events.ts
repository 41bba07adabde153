/**
 * The security events of issue 5 §1 ("login, logout, failed authentication and MFA
 * events; token issuance, consent changes, break-the-glass"), as the access layer sees
 * them, and the port they leave through. app/ implements the port over the audit ledger
 * (app/security-audit.ts); access/ never imports the ledger.
 *
 * What an event may carry: who (the user as the server knows them, the client, the peer
 * address), what happened, and what an auditor needs to make sense of it (grant type,
 * scopes, patient context, the OAuth error code). Never a password, a TOTP or recovery
 * code, a token, an authorization code, a client secret or assertion. Two fields are
 * attacker- or patient-adjacent text and go only into the sealed ledger record: the
 * username typed into a failed sign-in (truncated to {@link MAX_USERNAME}: a person who
 * typed their password into the username field loses no more than that) and a
 * break-the-glass reason.
 *
 * @example
 *   await events.record({ kind: 'login-failed', client: 'web-app', address: '192.0.2.1', username: 'alice' });
 */
import type { Role } from './identity/roles.js';
import type { OAuthErrorCode } from './oauth/oauth-error.js';

/** The person an event is about, as the server knows them (never what was typed). */
export interface EventUser {
  readonly id: string;
  readonly role?: Role;
  /** `Practitioner/…`, `PractitionerRole/…` or `Patient/…`. */
  readonly fhirUser?: string;
}

/** How the second factor of a completed sign-in was given. */
export type SecondFactor = 'none' | 'totp' | 'recovery-code' | 'enrolled';

/** The grant types of the token endpoint; `other` for a missing or unknown `grant_type`. */
export type EventGrantType = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'other';

/** Why tokens stopped working: the client asked (RFC 7009), or the server ended a family it no longer trusts. */
export type RevocationReason = 'client-request' | 'code-reuse' | 'refresh-reuse' | 'sessions-ended';

/** Where a sign-in happens: the client it is for and the browser's address. */
interface SignInPlace {
  readonly client: string;
  readonly address: string;
}

export type SecurityEvent =
  /** Every factor the account needs was given; the sign-in goes on to consent. */
  | ({ readonly kind: 'login-succeeded'; readonly user: EventUser; readonly secondFactor: SecondFactor } & SignInPlace)
  /** Wrong password, unknown, disabled or locked account — one outcome, as the user sees it. `username` as typed, truncated. */
  | ({ readonly kind: 'login-failed'; readonly username: string } & SignInPlace)
  /** The address used up its sign-in attempts (identity/ip-throttle.ts). */
  | ({ readonly kind: 'login-throttled'; readonly step: 'password' | 'second-factor'; readonly username?: string; readonly user?: EventUser } & SignInPlace)
  | ({ readonly kind: 'mfa-succeeded'; readonly user: EventUser } & SignInPlace)
  /** A second factor given as a recovery code, which is now spent. */
  | ({ readonly kind: 'recovery-code-used'; readonly user: EventUser } & SignInPlace)
  /** A wrong code at the second-factor step, or when confirming a new authenticator (`enrolment`). */
  | ({ readonly kind: 'mfa-failed'; readonly user: EventUser; readonly method: 'totp' | 'recovery-code'; readonly enrolment: boolean } & SignInPlace)
  | ({ readonly kind: 'mfa-enrolled'; readonly user: EventUser } & SignInPlace)
  /** The user approved the app's scopes on the consent page; `grant` is the new grant (refresh-token family). */
  | ({ readonly kind: 'consent-granted'; readonly user: EventUser; readonly scope: string; readonly patient?: string; readonly grant: string } & SignInPlace)
  | {
      readonly kind: 'token-issued';
      readonly grantType: Exclude<EventGrantType, 'other'>;
      readonly client: string;
      /** Absent for client_credentials: the client acts for itself. */
      readonly user?: EventUser;
      readonly scope: string;
      readonly patient?: string;
      readonly grant?: string;
      readonly address?: string;
      /** The `jti` of the access token issued (never the token). */
      readonly tokenId?: string;
    }
  /** An authenticated client's token request refused, with the RFC 6749 §5.2 error code. */
  | { readonly kind: 'token-refused'; readonly grantType: EventGrantType; readonly client: string; readonly error: OAuthErrorCode; readonly address?: string }
  /**
   * Tokens ended: by the server (a reused code or refresh token, sessions ended), or by a
   * client revoking an access token, or its own (RFC 7009). A client revoking a user's
   * refresh token is that user's `logout` instead.
   */
  | {
      readonly kind: 'token-revoked';
      readonly client: string;
      readonly token: 'refresh_token' | 'access_token' | 'grant';
      readonly reason: RevocationReason;
      readonly grant?: string;
      readonly user?: EventUser;
      readonly patient?: string;
      readonly address?: string;
    }
  /**
   * The user signed out of an app: its client revoked a refresh token of theirs (RFC 7009,
   * `via: 'revocation'`), or the app sent them to the end-session endpoint (OpenID Connect
   * RP-Initiated Logout 1.0, `via: 'end-session'`). `grants` are the grants this ended
   * (none when the user had already signed out), `patients` their patient contexts.
   */
  | {
      readonly kind: 'logout';
      readonly user: EventUser;
      readonly client: string;
      readonly via: 'revocation' | 'end-session';
      readonly grants: readonly string[];
      readonly patients: readonly string[];
      readonly address?: string;
    }
  /**
   * A client asked about a token (RFC 7662): what it was told — `active` (with the kind of
   * token), `inactive`, or `refused` with the OAuth error. Never the token, nor what the
   * answer said about its subject or patient.
   */
  | {
      readonly kind: 'token-introspected';
      readonly client: string;
      readonly outcome: 'active' | 'inactive' | 'refused';
      readonly token?: 'refresh_token' | 'access_token';
      readonly error?: OAuthErrorCode;
      readonly address?: string;
    }
  /**
   * Client authentication failed at the token, introspection or revocation endpoint.
   * `clientId` is the id presented (attacker-controlled, unauthenticated), if any.
   */
  | {
      readonly kind: 'client-auth-failed';
      readonly endpoint: 'token' | 'introspection' | 'revocation';
      readonly method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none' | 'unknown';
      readonly clientId?: string;
      readonly error: OAuthErrorCode;
      readonly address?: string;
    }
  /** A break-the-glass session was opened; `reason` is the clinician's free text (sealed record only). */
  | {
      readonly kind: 'break-glass-opened';
      readonly user: EventUser;
      readonly client?: string;
      readonly patient: string;
      readonly reason: string;
      readonly session: string;
      /** Epoch milliseconds. */
      readonly expiresAt: number;
      readonly address?: string;
    };

export type SecurityEventKind = SecurityEvent['kind'];

/** How much of a failed sign-in's username is kept. */
export const MAX_USERNAME = 64;

/**
 * Where security events go. `record` resolves once the event is durable and rejects
 * (`audit-unavailable`) when it cannot be made so. Callers decide what a rejection
 * means: a success whose record cannot be written does not happen (no sign-in, no
 * token, no break-the-glass session); a refusal stays the same refusal.
 */
export interface SecurityEventSink {
  record(event: SecurityEvent): Promise<void>;
}

/** The user of an event, from an account or a token's principal. */
export function eventUser(u: { readonly id: string; readonly role?: Role | undefined; readonly fhirUser?: string | undefined }): EventUser {
  return { id: u.id, ...(u.role === undefined ? {} : { role: u.role }), ...(u.fhirUser === undefined ? {} : { fhirUser: u.fhirUser }) };
}

/**
 * Records the event of a refusal (or of a revocation, which has taken effect) if it can:
 * the answer is the same either way, so a ledger that cannot take the record does not
 * turn it into another error, and the record is lost (docs/threat-model.md, Known gaps).
 */
export async function recordBestEffort(sink: SecurityEventSink, event: SecurityEvent): Promise<void> {
  try {
    await sink.record(event);
  } catch {
    // The refusal stands.
  }
}
