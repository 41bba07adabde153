/**
 * Who is asking: the verified content of a bearer token. Tokens are signed by this
 * server, so their claims are trusted once the signature, issuer, audience and expiry
 * check out; everything here comes from a token this server issued.
 */
import type { Role } from './identity/roles.js';
import { parseScopes, type ResourceScope } from './smart-scopes.js';

/** HL7 v3 PurposeOfUse (http://terminology.hl7.org/CodeSystem/v3-ActReason) codes the vault acts on. */
export const TREATMENT = 'TREAT';
export const BREAK_THE_GLASS = 'BTG';

export interface Principal {
  /** Token subject: a user id, a client id, or `operator` for `custodia token`. */
  readonly subject: string;
  readonly issuer: string;
  /** Token id (jti), for audit. */
  readonly tokenId: string;
  readonly scope: string;
  readonly scopes: readonly ResourceScope[];
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** When the token was issued, epoch ms (the `iat_ms` claim this server adds, else `iat` × 1000). */
  readonly issuedAtMs?: number;
  /** operator: `custodia token` without --user; user: a person; client: a backend service. */
  readonly kind: 'operator' | 'user' | 'client';
  /** The OAuth client the token was issued to, when there is one. */
  readonly clientId?: string;
  readonly role?: Role;
  /** The FHIR resource the user is (`Practitioner/…`, `PractitionerRole/…`, `Patient/…`). */
  readonly fhirUser?: string;
  /** SMART launch context: the patient `patient/` scopes are about. */
  readonly patient?: string;
  /** Purpose of use (HL7 v3 ActReason), TREAT unless the token says otherwise. */
  readonly purposeOfUse: string;
  /** The free-text reason given with purpose of use BTG. */
  readonly breakGlassReason?: string;
  /** Sensitive-data labels (v3 codes such as HIV, ETH) this user has been explicitly granted. */
  readonly clearances: readonly string[];
  /**
   * RFC 8705 §3.1 `cnf.x5t#S256`: the token is bound to the client certificate with this
   * SHA-256 thumbprint and is good only over a connection that presents it.
   */
  readonly certificateThumbprint?: string;
}

/**
 * A principal that stands for a user in a decision the server makes on their behalf,
 * with no token behind it: an administrator's explanation of their access, the sign-in
 * page's patient picker. It carries the account's role, fhirUser and clearances.
 *
 * @example
 *   userPrincipal(user, { issuer: 'explain', tokenId: 'explain', scope: 'user/*.cruds' })
 */
export function userPrincipal(
  user: { readonly id: string; readonly role: Role; readonly fhirUser?: string; readonly clearances: readonly string[] },
  o: { readonly issuer: string; readonly tokenId: string; readonly scope: string; readonly purposeOfUse?: string },
): Principal {
  return {
    subject: user.id,
    issuer: o.issuer,
    tokenId: o.tokenId,
    scope: o.scope,
    scopes: parseScopes(o.scope),
    expiresAt: Number.MAX_SAFE_INTEGER,
    kind: 'user',
    role: user.role,
    ...(user.fhirUser === undefined ? {} : { fhirUser: user.fhirUser }),
    purposeOfUse: o.purposeOfUse ?? TREATMENT,
    clearances: user.clearances,
  };
}
