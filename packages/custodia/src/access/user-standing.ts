/**
 * A user account as it stands now, asked for on every request with a user's token. Access
 * tokens are self-contained JWTs, so what they say about the user (role, clearances,
 * fhirUser) was true when they were issued; this port lets the token service hold them to
 * the account as it is: a disabled or deleted account's tokens stop working at once, a
 * token never carries a clearance the user has since lost, and a token issued before a
 * role or fhirUser change is refused (NIST SP 800-63B §7.1: sessions end when the
 * subscriber's authenticators or attributes are revoked).
 */
export interface UserStanding {
  readonly active: boolean;
  readonly role: string;
  readonly fhirUser?: string;
  readonly clearances: readonly string[];
  /** Tokens issued before this instant (epoch ms) are void: the account was disabled, or its password or second factor reset. */
  readonly sessionsNotBefore?: number;
}

export interface UserAccounts {
  /** The account with this user id now, or undefined when there is none. */
  standing(userId: string): Promise<UserStanding | undefined>;
  /**
   * Is this registered client active now? A disabled client's tokens stop working, its
   * backend-service tokens and the tokens its users got through it alike.
   */
  clientActive(clientId: string): Promise<boolean>;
}
