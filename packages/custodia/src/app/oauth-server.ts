/**
 * The SMART App Launch 2.x authorization server, composed: the facade the HTTP adapter
 * calls (server/oauth-routes.ts). Each method takes what arrived over HTTP (parameters,
 * the form body, the Authorization and Cookie headers, the peer address) and returns an
 * HTTP-neutral response to copy out as it is.
 */
import type { Clock, Random } from '../kernel/index.js';
import {
  AuthorizationFlow,
  ClientAuthenticator,
  EndSessionEndpoint,
  clientKeys,
  jwksDocument,
  LaunchService,
  oauthEndpoints,
  openidConfiguration,
  resolveLifetimes,
  smartConfiguration,
  TokenEndpoint,
  TokenIssuer,
  type BrowserRequest,
  type ClientCertificate,
  type IdentityService,
  type OAuthEndpoints,
  type OAuthHttpResponse,
  type OAuthOptions,
  type OAuthStore,
  type RateLimiter,
  type SecurityEventSink,
  type SigningKey,
  type TokenService,
} from '../access/index.js';
import type { FhirContext } from '../fhir/index.js';
import { fhirPatientDirectory } from './oauth-patients.js';
import type { AccessControl } from './access-control.js';

export interface OAuthServer {
  readonly endpoints: OAuthEndpoints;
  smartConfiguration(): Record<string, unknown>;
  openidConfiguration(): Record<string, unknown>;
  jwks(): Record<string, unknown>;
  /** `GET`/`POST /oauth/authorize`. */
  authorize(params: Iterable<readonly [string, string]>, browser: BrowserRequest, method: 'GET' | 'POST'): Promise<OAuthHttpResponse>;
  /** `POST /oauth/interaction`: the sign-in, second-factor, consent and patient forms. */
  interact(body: unknown, browser: BrowserRequest): Promise<OAuthHttpResponse>;
  /**
   * `certificate`, here and below: the connection's verified client certificate (mutual
   * TLS), if any; `address`: the caller's network address, for the audit trail.
   */
  token(body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string): Promise<OAuthHttpResponse>;
  introspect(body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string): Promise<OAuthHttpResponse>;
  revoke(body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string): Promise<OAuthHttpResponse>;
  /** `GET`/`POST /oauth/logout`: OpenID Connect RP-Initiated Logout (the query, or the form body). */
  endSession(params: Iterable<readonly [string, string]>, method: 'GET' | 'POST', address?: string): Promise<OAuthHttpResponse>;
  /** `POST /oauth/launch`: an EHR launch context. */
  launch(authorization: string | undefined, body: unknown, certificate?: ClientCertificate): Promise<OAuthHttpResponse>;
}

export interface OAuthServerDeps {
  readonly fhirBaseUrl: string;
  /** Mutual TLS is configured: discovery announces tls_client_auth and certificate-bound tokens (RFC 8705). */
  readonly mutualTls?: boolean;
  /** The access decision: a sign-in only ever offers or launches patients the user may see. */
  readonly access: AccessControl;
  readonly key: SigningKey;
  readonly tokens: TokenService;
  readonly identity: IdentityService;
  readonly store: OAuthStore;
  readonly fhir: FhirContext;
  readonly clock: Clock;
  readonly random: Random;
  /** Token requests per client (the token endpoint) and sign-outs (the end-session endpoint); without it, none are limited. */
  readonly rateLimiter?: RateLimiter;
  /** Sign-in, second-factor, consent, token and client-authentication events (the audit ledger: security-audit.ts). */
  readonly events: SecurityEventSink;
  readonly options?: OAuthOptions;
}

/** Expired rows are deleted at most this often, by whichever request comes along. */
const PURGE_INTERVAL_MS = 10 * 60_000;

export function createOAuthServer(d: OAuthServerDeps): OAuthServer {
  const endpoints = oauthEndpoints(d.fhirBaseUrl);
  const lifetimes = resolveLifetimes(d.options?.lifetimes);
  const patients = fhirPatientDirectory(d.fhir, d.access);
  const issuer = new TokenIssuer(d.tokens, d.key, d.clock, d.random, endpoints, lifetimes);
  const authenticator = new ClientAuthenticator(d.identity, d.store, d.clock, clientKeys({ fetchJwksUri: d.options?.fetchJwksUri ?? true }), endpoints.token);
  const limited = d.rateLimiter === undefined ? {} : { rateLimiter: d.rateLimiter };
  const flow = new AuthorizationFlow({
    identity: d.identity,
    store: d.store,
    patients,
    clock: d.clock,
    random: d.random,
    endpoints,
    lifetimes,
    maxAttempts: d.options?.maxInteractionAttempts ?? 10,
    events: d.events,
    ...limited,
  });
  const tokenEndpoint = new TokenEndpoint({ identity: d.identity, store: d.store, tokens: d.tokens, issuer, authenticator, clock: d.clock, endpoints, events: d.events, ...limited });
  const endSession = new EndSessionEndpoint({ identity: d.identity, store: d.store, clock: d.clock, endpoints, idTokenKey: d.key.publicKey, events: d.events, ...limited });
  const launches = new LaunchService(d.tokens, d.store, patients, d.clock, d.random, lifetimes);
  const discovery = { mutualTls: d.mutualTls === true };
  const smart = smartConfiguration(endpoints, discovery);
  const oidc = openidConfiguration(endpoints, discovery);
  const jwks = jwksDocument(d.key.publicJwk);

  let lastPurge = d.clock.now();
  const housekeeping = (): void => {
    const now = d.clock.now();
    if (now - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = now;
    // Best effort: a failed purge leaves expired rows, which every lookup ignores anyway.
    d.store.purgeExpired(now).catch(() => undefined);
  };
  const kept = <A extends unknown[]>(fn: (...args: A) => Promise<OAuthHttpResponse>) => (...args: A): Promise<OAuthHttpResponse> => {
    housekeeping();
    return fn(...args);
  };

  return Object.freeze({
    endpoints,
    smartConfiguration: () => smart,
    openidConfiguration: () => oidc,
    jwks: () => jwks,
    authorize: kept((params: Iterable<readonly [string, string]>, browser: BrowserRequest, method: 'GET' | 'POST') => flow.start(params, browser, method)),
    interact: kept((body: unknown, browser: BrowserRequest) => flow.interact(body, browser)),
    token: kept((body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string) => tokenEndpoint.token(body, authorization, certificate, address)),
    introspect: kept((body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string) => tokenEndpoint.introspect(body, authorization, certificate, address)),
    revoke: kept((body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string) => tokenEndpoint.revoke(body, authorization, certificate, address)),
    endSession: kept((params: Iterable<readonly [string, string]>, method: 'GET' | 'POST', address?: string) => endSession.endSession(params, method, address)),
    launch: kept((authorization: string | undefined, body: unknown, certificate?: ClientCertificate) => launches.create(authorization, body, certificate)),
  });
}
