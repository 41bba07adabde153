/**
 * A real vault behind a real listening server for the authorization-server tests, with
 * its base URL on the port it listens on (the issuer must be the URL clients reach), a
 * ManualClock, cheap scrypt, and a scripted browser that drives the sign-in pages the
 * way a person would: read the form, fill it in, post it, follow redirects by hand.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '../helpers/free-port.js';

export { freePort };
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import * as client from 'openid-client';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { ManualClock, secureRandom } from '../../src/kernel/index.js';
import { executeInteraction, parseInteraction, SEE_ALL } from '../../src/fhir/index.js';
import { createVault, resolveConfig, type ConfigInput, type Vault } from '../../src/app/index.js';
import { buildServer } from '../../src/server/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { TEST_SCRYPT } from '../access/identity/identity-fixtures.js';

export const PASSWORD = 'correct horse battery staple';
/** A registered redirect URI (nothing listens there: the tests read the Location header). */
export const REDIRECT = 'http://127.0.0.1:9/callback';

export interface OAuthHarness {
  readonly vault: Vault;
  readonly app: FastifyInstance;
  /** The issuer: http://127.0.0.1:<port> (https with TLS configured) */
  readonly issuer: string;
  /** The FHIR base URL: <issuer>/fhir */
  readonly fhirBase: string;
  readonly clock: ManualClock;
  readonly db: TestDatabase;
  readonly dataDir: string;
  /** An operator token (system/*.cruds). */
  operatorToken(): Promise<string>;
  /** The server's signing key (to forge tokens in negative tests). */
  signingKey(): Promise<{ key: CryptoKey; kid: string }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Settings over the harness's own (CORS origins, rate limits, a public https base URL). */
  readonly config?: Partial<ConfigInput>;
  /** The per-address sign-in throttle (default: so large it never applies). */
  readonly throttle?: { readonly capacity: number; readonly refillPerMinute: number };
}

export async function startOAuthServer(dialect: 'sqlite' | 'postgres', options: HarnessOptions = {}): Promise<OAuthHarness> {
  const db = await createTestDatabase(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'custodia-oauth-'));
  const port = await freePort();
  const tls = options.config?.tlsCert !== undefined || options.config?.tlsSelfSigned === true;
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const config = resolveConfig({
    dataDir,
    database: db.options.database,
    ...(db.options.schema === undefined ? {} : { postgresSchema: db.options.schema }),
    port,
    baseUrl: `${issuer}/fhir`,
    logLevel: 'silent',
    ...options.config,
    // As the sign-in throttle below: suites start hundreds of sign-ins from 127.0.0.1 on a
    // clock that stands still; the limit's own tests set theirs.
    rateLimits: { authorize: { perSecond: 10_000, burst: 10_000 }, ...options.config?.rateLimits },
  });
  const clock = new ManualClock(Date.now());
  const vault = await createVault(config, {
    clock,
    random: secureRandom,
    identity: { scrypt: TEST_SCRYPT, throttle: options.throttle ?? { capacity: 10_000, refillPerMinute: 10_000 } },
    oauth: { fetchJwksUri: false },
  });
  // OAUTH_TEST_LOG=1 shows the server's error log while debugging a test.
  const app = buildServer(vault, process.env['OAUTH_TEST_LOG'] === undefined ? {} : { logger: { level: 'error' } });
  await app.listen({ host: '127.0.0.1', port });
  return {
    vault,
    app,
    issuer,
    fhirBase: `${issuer}/fhir`,
    clock,
    db,
    dataDir,
    operatorToken: () => vault.tokens.issue({ subject: 'operator', scope: 'system/*.cruds', ttlSeconds: 3600 }),
    async signingKey() {
      const jwk = JSON.parse(readFileSync(join(dataDir, 'keys', 'token-signing.jwk'), 'utf8')) as JWK;
      return { key: (await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey, kid: jwk.kid! };
    },
    async close() {
      await app.close();
      await vault.close();
      await db.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ── a scripted browser ──────────────────────────────────────────────────────────

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`', '#61': '=' };
const unescape = (s: string): string => s.replace(/&(amp|lt|gt|quot|#39|#96|#61);/g, (_, e: string) => ENTITIES[e]!);

export interface ParsedForm {
  readonly action: string;
  readonly fields: Record<string, string>;
  /** name → values of submit buttons and radio inputs. */
  readonly choices: Record<string, string[]>;
}

/** The first form of a page: its action, hidden and text fields, buttons and radios. */
export function parseForm(html: string): ParsedForm {
  const form = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(html);
  if (form === null) throw new Error(`no form in page: ${html.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  const choices: Record<string, string[]> = {};
  for (const m of form[2]!.matchAll(/<(input|button)\b([^>]*)>/g)) {
    const attrs = Object.fromEntries([...m[2]!.matchAll(/([a-z-]+)(?:="([^"]*)")?/g)].map((a) => [a[1]!, unescape(a[2] ?? '')]));
    const name = attrs['name'];
    if (name === undefined) continue;
    if (m[1] === 'button' || attrs['type'] === 'radio') (choices[name] ??= []).push(attrs['value'] ?? '');
    else fields[name] = attrs['value'] ?? '';
  }
  return { action: unescape(form[1]!), fields, choices };
}

export interface Page {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly location?: string;
}

export class Browser {
  readonly cookies = new Map<string, string>();

  /**
   * `headers`: sent with every request (e.g. the X-Forwarded-For a proxy would add);
   * `fetcher`: how requests go out (test/helpers/https-client.ts for a TLS server).
   */
  constructor(
    private readonly headers: Record<string, string> = {},
    private readonly fetcher: (url: string, init?: RequestInit) => Promise<Response> = fetch,
  ) {}

  async #fetch(url: string, init: RequestInit): Promise<Page> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.fetcher(url, { ...init, redirect: 'manual', headers: { ...this.headers, ...(init.headers as Record<string, string>), ...(cookie === '' ? {} : { cookie }) } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const location = res.headers.get('location');
    return { status: res.status, headers: res.headers, text: await res.text(), ...(location === null ? {} : { location }) };
  }

  get(url: string): Promise<Page> {
    return this.#fetch(url, { method: 'GET' });
  }

  post(url: string, form: Record<string, string>): Promise<Page> {
    return this.#fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }

  /** Fills the page's form with `values` (over its hidden fields) and posts it. */
  submit(page: Page, values: Record<string, string>): Promise<Page> {
    const form = parseForm(page.text);
    return this.post(form.action, { ...form.fields, ...values });
  }
}

export interface SignIn {
  readonly username: string;
  readonly password?: string;
  /** A second-factor code, when the user has one. */
  readonly code?: () => string;
  /** For a standalone launch/patient by staff: the search text, and which result to choose (default: first). */
  readonly patientQuery?: string;
  readonly decision?: 'approve' | 'deny';
}

/** Drives the pages from the authorization URL to the redirect back to the client; returns the final Location. */
export async function signIn(browser: Browser, authorizationUrl: string, s: SignIn): Promise<string> {
  let page = await browser.get(authorizationUrl);
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${page.location ?? page.text.slice(0, 300)}`);
  page = await browser.submit(page, { username: s.username, password: s.password ?? PASSWORD });
  if (parseForm(page.text).fields['step'] === 'mfa') {
    if (s.code === undefined) throw new Error('a second factor was asked for');
    page = await browser.submit(page, { code: s.code() });
  }
  if (page.status !== 200 || parseForm(page.text).fields['step'] !== 'consent') throw new Error(`expected the consent page, got ${page.status}: ${page.text.slice(0, 600)}`);
  page = await browser.submit(page, { decision: s.decision ?? 'approve' });
  if (page.status === 200 && parseForm(page.text).fields['step'] === 'patient') {
    page = await browser.submit(page, { action: 'search', query: s.patientQuery ?? '' });
    const form = parseForm(page.text);
    const patient = form.choices['patient']?.[0];
    if (patient === undefined) throw new Error('no patient found');
    page = await browser.submit(page, { action: 'select', patient });
  }
  if (page.status !== 303 || page.location === undefined) throw new Error(`expected the redirect to the client, got ${page.status}: ${page.text.slice(0, 600)}`);
  return page.location;
}

export interface JsonReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** A form POST (token, introspection, revocation endpoints) and its JSON answer. */
export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<JsonReply> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** The status of a FHIR read with a bearer token. */
export async function fhirStatus(h: OAuthHarness, token: string, path = 'Patient'): Promise<number> {
  const res = await fetch(`${h.fhirBase}/${path}`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** PKCE parameters for a hand-built authorization request. */
export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const { createHash, randomBytes } = await import('node:crypto');
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A hand-built authorization URL (for the negative tests, which openid-client would refuse to build). */
export function authorizeUrl(h: OAuthHarness, params: Record<string, string | undefined>): string {
  const u = new URL(`${h.issuer}/oauth/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

/** Creates a patient in the vault's store (directly, not through the HTTP access pipeline); returns its id. */
export async function createPatient(h: OAuthHarness, family: string, given: string, mrn: string): Promise<string> {
  const body = { resourceType: 'Patient', name: [{ family, given: [given] }], birthDate: '1815-12-10', identifier: [{ system: 'urn:mrn', value: mrn }] };
  const result = await executeInteraction(h.vault.fhir, parseInteraction({ method: 'POST', path: 'Patient', query: '', body }), { returnPreference: undefined, handling: 'lenient', owner: 'test', visibility: SEE_ALL }, () => undefined);
  if (result.status !== 201) throw new Error(`creating a patient: ${result.status}`);
  return result.location!.split('/')[1]!;
}

/** openid-client's configuration for a client of the harness's server. */
export function discover(h: OAuthHarness, clientId: string, auth: client.ClientAuth, metadata: Partial<client.ClientMetadata> = {}): Promise<client.Configuration> {
  return client.discovery(new URL(h.issuer), clientId, { redirect_uris: [REDIRECT], ...metadata }, auth, { execute: [client.allowInsecureRequests] });
}

/** The whole authorization code flow through openid-client and the scripted browser. */
export async function codeFlow(
  h: OAuthHarness,
  config: client.Configuration,
  o: { scope: string; username: string; patientQuery?: string },
): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: o.scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    aud: h.fhirBase,
  });
  const location = await signIn(new Browser(), url.toString(), { username: o.username, ...(o.patientQuery === undefined ? {} : { patientQuery: o.patientQuery }) });
  return client.authorizationCodeGrant(config, new URL(location), { pkceCodeVerifier: verifier, expectedState: state });
}
