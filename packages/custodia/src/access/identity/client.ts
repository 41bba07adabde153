/**
 * Client applications (OAuth 2.0 clients, SMART App Launch): identities too.
 *
 * The kinds are SMART App Launch 2.x's client types:
 * - `public`: a browser or native app that cannot keep a secret; authenticates with
 *   nothing but PKCE at the token endpoint (`token_endpoint_auth_method` `none`).
 * - `confidential-symmetric`: a server-side app with a client secret
 *   (`client_secret_basic`), generated here, shown once and stored hashed.
 * - `confidential-asymmetric`: authenticates with a JWT signed by one of its registered
 *   keys (`private_key_jwt`, RFC 7523), from a JWKS given inline or by URL. SMART
 *   Backend Services clients are of this kind. So are clients registered with a
 *   certificate subject: they authenticate with a client certificate over mutual TLS
 *   (`tls_client_auth`, RFC 8705 §2.1, PKI method), the private key never leaving them.
 */
import { CustodiaError } from '../../kernel/index.js';
import { formatDistinguishedName, parseDistinguishedName } from '../distinguished-name.js';

export type ClientKind = 'public' | 'confidential-symmetric' | 'confidential-asymmetric';
export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'private_key_jwt' | 'tls_client_auth';

export const AUTH_METHOD: Readonly<Record<ClientKind, TokenEndpointAuthMethod>> = Object.freeze({
  public: 'none',
  'confidential-symmetric': 'client_secret_basic',
  'confidential-asymmetric': 'private_key_jwt',
});

/** A JSON Web Key Set (RFC 7517 §5) holding public keys only. */
export interface PublicJwks {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

/** The stored client. `secretHash` is a secret: never log it or return it. */
export interface ClientRecord {
  readonly clientId: string;
  readonly name: string;
  readonly kind: ClientKind;
  readonly redirectUris: readonly string[];
  /** Space-separated scopes the client may be granted (RFC 6749 §3.3); empty grants nothing. */
  readonly scope: string;
  readonly secretHash?: string;
  readonly jwks?: PublicJwks;
  readonly jwksUri?: string;
  /** RFC 8705 §2.1.2 `tls_client_auth_subject_dn` (RFC 4514 text): the client authenticates with a certificate of this subject. */
  readonly tlsSubjectDn?: string;
  readonly status: 'active' | 'disabled';
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What the OAuth server and administrators see of a client. No secrets. */
export interface Client {
  readonly clientId: string;
  readonly name: string;
  readonly kind: ClientKind;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  readonly redirectUris: readonly string[];
  readonly scope: string;
  readonly jwks?: PublicJwks;
  readonly jwksUri?: string;
  /** RFC 8705 §2.1.2: the subject its client certificate must have (`tls_client_auth`). */
  readonly tlsSubjectDn?: string;
  readonly status: 'active' | 'disabled';
  readonly createdAt: number;
}

export function publicClient(r: ClientRecord): Client {
  return Object.freeze({
    clientId: r.clientId,
    name: r.name,
    kind: r.kind,
    tokenEndpointAuthMethod: r.tlsSubjectDn === undefined ? AUTH_METHOD[r.kind] : 'tls_client_auth',
    redirectUris: r.redirectUris,
    scope: r.scope,
    ...(r.jwks === undefined ? {} : { jwks: r.jwks }),
    ...(r.jwksUri === undefined ? {} : { jwksUri: r.jwksUri }),
    ...(r.tlsSubjectDn === undefined ? {} : { tlsSubjectDn: r.tlsSubjectDn }),
    status: r.status,
    createdAt: r.createdAt,
  });
}

function malformed(message: string): never {
  throw new CustodiaError('request-malformed', message);
}

/** RFC 6749 client_id: visible ASCII; we keep to the URL-safe unreserved set, 1–128 characters. */
export function checkClientId(id: string): string {
  if (!/^[A-Za-z0-9._~-]{1,128}$/.test(id)) malformed('A client id is 1-128 characters of A-Z, a-z, 0-9, ".", "_", "~" and "-"');
  return id;
}

export function checkClientName(name: string): string {
  const n = name.normalize('NFC').trim();
  // No control characters: the name is shown on the consent screen.
  if (n.length === 0 || n.length > 200 || /\p{Cc}/u.test(n)) malformed('A client name is 1-200 characters without control characters');
  return n;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * A redirect URI (RFC 6749 §3.1.2; OAuth 2.0 Security BCP RFC 9700 §2.1; native apps
 * RFC 8252 §7): absolute, no fragment, exact match later; `https`, `http` only on a
 * loopback host, or a private-use scheme in reverse-domain form (`com.example.app:/cb`).
 */
export function checkRedirectUri(uri: string): string {
  if (uri.length > 2048) malformed('A redirect URI is at most 2048 characters');
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return malformed('A redirect URI must be an absolute URI');
  }
  if (uri.includes('#')) malformed('A redirect URI must not contain a fragment');
  const scheme = u.protocol.slice(0, -1);
  if ((scheme === 'https' || scheme === 'http') && !uri.toLowerCase().startsWith(`${scheme}://`)) malformed('A redirect URI must be an absolute URI');
  if (scheme === 'https') return uri;
  if (scheme === 'http') {
    if (LOOPBACK_HOSTS.has(u.hostname)) return uri;
    return malformed('A redirect URI may use http only on a loopback address (127.0.0.1, [::1], localhost)');
  }
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) return uri;
  return malformed('A redirect URI must use https, http on loopback, or a reverse-domain private-use scheme');
}

/** An https URL (or http on loopback, for development) for a client's JWKS. */
export function checkJwksUri(uri: string): string {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return malformed('The JWKS URI must be an absolute URL');
  }
  if (uri.length > 2048 || u.hash !== '' || u.username !== '' || u.password !== '') malformed('The JWKS URI must be an https URL without credentials or fragment');
  if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname))) return uri;
  return malformed('The JWKS URI must use https');
}

/** A certificate subject (RFC 4514 text, operator input), checked and written back in canonical form. */
export function checkSubjectDn(text: string): string {
  return formatDistinguishedName(parseDistinguishedName(text.trim()));
}

/** RFC 6749 §3.3 scope tokens: %x21 / %x23-5B / %x5D-7E, separated by single spaces. */
export function checkScope(scope: string): string {
  const tokens = scope.split(/\s+/).filter((t) => t !== '');
  if (scope.length > 4096 || tokens.some((t) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(t))) malformed('The scope is space-separated tokens of visible ASCII other than " and \\');
  return [...new Set(tokens)].join(' ');
}

/** Members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };

/** Parses a JWKS (operator input) and refuses anything but public asymmetric keys. */
export function parsePublicJwks(text: string): PublicJwks {
  if (text.length > 65_536) malformed('The JWKS is larger than 64 KiB');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return malformed('The JWKS is not valid JSON');
  }
  const keys = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)['keys'] : undefined;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 20) malformed('The JWKS must be an object with 1-20 "keys"');
  const out: Record<string, unknown>[] = [];
  for (const k of keys as unknown[]) {
    if (typeof k !== 'object' || k === null || Array.isArray(k)) malformed('Each JWKS key must be a JSON object');
    const key = k as Record<string, unknown>;
    const required = typeof key['kty'] === 'string' ? REQUIRED_MEMBERS[key['kty']] : undefined;
    if (required === undefined) malformed('Each JWKS key must have kty RSA, EC or OKP');
    if (PRIVATE_MEMBERS.some((m) => m in key)) malformed('The JWKS holds a private or symmetric key: register public keys only');
    if (required.some((m) => typeof key[m] !== 'string')) malformed(`A ${key['kty'] as string} key needs ${required.join(', ')}`);
    out.push(Object.freeze({ ...key }));
  }
  return Object.freeze({ keys: Object.freeze(out) });
}
