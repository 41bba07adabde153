/**
 * A user of the vault: the stored record (with its secrets, seen only by the identity
 * service and its store) and the public view everything else gets.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { Role } from './roles.js';
import type { TotpAlgorithm } from './totp.js';

export type AccountStatus = 'active' | 'disabled';

/** A TOTP secret bound to a user; `confirmed` once the user proved they hold it. */
export interface TotpEnrolment {
  /** The shared secret, RFC 4648 base32 without padding. */
  readonly secret: string;
  readonly algorithm: TotpAlgorithm;
  readonly digits: number;
  readonly confirmed: boolean;
}

/** The stored user. Holds secrets: never log it, never return it from an API. */
export interface UserRecord {
  /** Random UUID: the token subject. */
  readonly id: string;
  /** Normalised (see `normalizeUsername`). */
  readonly username: string;
  readonly role: Role;
  /** `Practitioner/ID`, `PractitionerRole/ID` or `Patient/ID`. */
  readonly fhirUser?: string;
  readonly status: AccountStatus;
  /** Self-describing password hash (`$scrypt$ln=…,r=…,p=…$salt$hash`). */
  readonly passwordHash: string;
  readonly totp?: TotpEnrolment;
  /** Consecutive failed sign-in attempts (password or second factor). */
  readonly failedLogins: number;
  /** Epoch ms until which sign-in is refused; absent when not locked. */
  readonly lockedUntil?: number;
  /** Sensitive-data clearances an administrator granted (v3 codes such as HIV, ETH, PSY, R). */
  readonly clearances: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What callers outside the identity module see of a user. No secrets. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  readonly fhirUser?: string;
  readonly status: AccountStatus;
  /** A confirmed TOTP authenticator is enrolled. */
  readonly mfaEnrolled: boolean;
  readonly clearances: readonly string[];
  readonly createdAt: number;
}

export function publicUser(r: UserRecord): User {
  return Object.freeze({
    id: r.id,
    username: r.username,
    role: r.role,
    ...(r.fhirUser === undefined ? {} : { fhirUser: r.fhirUser }),
    status: r.status,
    mfaEnrolled: r.totp?.confirmed === true,
    clearances: [...r.clearances],
    createdAt: r.createdAt,
  });
}

const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;
/** Longer input is refused before any normalisation work. */
const MAX_USERNAME_INPUT = 512;

/**
 * The canonical form of a username (attacker-controlled at sign-in): NFKC, lower case,
 * 1–128 of `a-z 0-9 . _ @ + -`, starting with a letter or digit. Undefined when the input
 * cannot be a username. Usernames are compared in this form only, so `Alice` and
 * `ａｌｉｃｅ` (full width) are the same account.
 */
export function normalizeUsername(input: string): string | undefined {
  if (input.length === 0 || input.length > MAX_USERNAME_INPUT) return undefined;
  const u = input.normalize('NFKC').toLowerCase();
  return USERNAME.test(u) ? u : undefined;
}

/** `normalizeUsername` for administration: throws `request-malformed`. */
export function requireUsername(input: string): string {
  const u = normalizeUsername(input);
  if (u === undefined) {
    throw new CustodiaError('request-malformed', 'A username is 1-128 characters of a-z, 0-9, ".", "_", "@", "+" and "-", starting with a letter or digit');
  }
  return u;
}
