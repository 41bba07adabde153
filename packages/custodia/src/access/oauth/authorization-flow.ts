/**
 * The authorization endpoint (RFC 6749 §3.1, §4.1.1–4.1.2; SMART App Launch 2.x
 * app-launch.html §2.0.6) as a sequence of server-rendered steps:
 *
 *   authorization request ─▶ sign-in ─▶ second factor (TOTP enrolled or required by the
 *   role; a user whose role requires one and who has none enrols an authenticator here
 *   and is shown recovery codes once) ─▶ consent ─▶ patient selection (standalone
 *   `launch/patient` by a user who is not a patient) ─▶ redirect to the client with
 *   `code`, `state` and `iss`
 *
 * The validated request and the progress are kept in the database (a pending
 * authorization, 10 minutes), addressed by a random handle in each form and bound to the
 * browser (browser-binding.ts) and a CSRF token. Every step moves the stored stage
 * forward by compare-and-set, so a form cannot be replayed or skip a step. All form
 * fields are attacker-controlled.
 *
 * Each step's security event (security-events.ts) is recorded as it happens. A success
 * — sign-in, second factor, enrolment, consent — is recorded before the sign-in moves on,
 * and when it cannot be the sign-in ends there (503, start again); a failure is recorded
 * if it can be, and the user sees the same refusal either way.
 */
import { isCustodiaError, uuidV4, type Clock, type Random } from '../../kernel/index.js';
import { parseFhirUser, secondFactorKind, type Client, type IdentityService, type TotpEnrolmentStart, type User } from '../identity/index.js';
import { eventUser, MAX_USERNAME, recordBestEffort, type SecondFactor, type SecurityEvent, type SecurityEventSink } from '../security-events.js';
import { AuthorizationError, checkClientTarget, redirectTo, RequestParams, validateAuthorizationRequest, type AuthorizationRequest } from './authorization-request.js';
import { bindingCookie, readBrowserId } from './browser-binding.js';
import type { SafeHtml } from './html.js';
import { pageResponse, rateLimitedPage, redirectResponse, type OAuthHttpResponse } from './http-response.js';
import type { GrantRecord, OAuthStore, PendingAuthorization, PendingStage, PendingUpdate } from './oauth-store.js';
import type { OAuthEndpoints, OAuthLifetimes } from './oauth-settings.js';
import { consentPage, enrolPage, errorPage, formTargetOf, loginPage, patientPage, recoveryCodesPage, secondFactorPage, type FormBinding, type PageContent } from './pages.js';
import { qrCodeSvg } from './qr-code.js';
import type { PatientDirectory } from './patient-directory.js';
import { isHandle, randomHandle, sameSecret, sha256 } from './secrets.js';
import { grantExpiry, refreshKind } from './token-issuer.js';
import { scopesForRole } from '../admin-scope.js';
import type { RateLimiter } from '../rate-limiter.js';

/** What the HTTP adapter passes about the browser. */
export interface BrowserRequest {
  readonly cookie?: string;
  /** The peer address, for sign-in throttling. */
  readonly ip: string;
}

export interface AuthorizationFlowDeps {
  readonly identity: IdentityService;
  readonly store: OAuthStore;
  readonly patients: PatientDirectory;
  readonly clock: Clock;
  readonly random: Random;
  readonly endpoints: OAuthEndpoints;
  readonly lifetimes: OAuthLifetimes;
  readonly maxAttempts: number;
  /** Where sign-in, second-factor and consent events go (the audit ledger). */
  readonly events: SecurityEventSink;
  /** Limits the sign-ins started per address; without it there is no limit. */
  readonly rateLimiter?: Pick<RateLimiter, 'admitAuthorizationFrom'>;
}

/** One form submission, once the pending request and its bindings are verified. */
interface Step {
  readonly pending: PendingAuthorization;
  readonly handle: string;
  readonly csrf: string;
  readonly client: Client;
  readonly form: RequestParams;
  readonly ip: string;
}

const MESSAGES = {
  loginFailed: 'The username or password is not valid, or the account cannot sign in now.',
  codeFailed: 'The code is not valid. Enter the current code from your authenticator app, or an unused recovery code.',
  throttled: 'Too many sign-in attempts from this address. Wait a few minutes, then try again.',
  unrecorded: 'This sign-in could not be recorded in the audit trail, so it cannot continue. Wait a few minutes, return to the application and start again.',
} as const;

const TOO_MANY_SIGN_INS = errorPage({ title: 'Too many sign-ins', message: 'Too many sign-ins were started from this address. Wait a moment, then return to the application and try again.' });

export class AuthorizationFlow {
  readonly #secure: boolean;

  constructor(private readonly d: AuthorizationFlowDeps) {
    this.#secure = d.endpoints.issuer.startsWith('https:');
  }

  /** `GET` or `POST /oauth/authorize` (SMART `authorize-post`). */
  async start(pairs: Iterable<readonly [string, string]>, browser: BrowserRequest, method: 'GET' | 'POST'): Promise<OAuthHttpResponse> {
    const status = method === 'GET' ? 302 : 303;
    // Per address, before anything is looked up or stored: each request would add a pending
    // sign-in. Refused with a page, not a redirect: the redirect URI is not checked yet.
    try {
      await this.d.rateLimiter?.admitAuthorizationFrom(browser.ip);
    } catch (e) {
      if (isCustodiaError(e, 'rate-limited')) return rateLimitedPage(e.retryAfterMs ?? 1000, TOO_MANY_SIGN_INS);
      throw e;
    }
    const p = new RequestParams(pairs);
    try {
      const clientId = p.get('client_id');
      const client = clientId === undefined ? undefined : await this.d.identity.getClient(clientId);
      const { redirectUri } = checkClientTarget(p, client);
      const v = validateAuthorizationRequest(p, client!, redirectUri, this.d.endpoints.fhirBaseUrl);
      const now = this.d.clock.now();
      let request: AuthorizationRequest = v.request;
      if (v.launchId !== undefined) {
        // SMART EHR launch: the launch id names a context created by POST /oauth/launch. It
        // is claimed here, once: a launch id that leaked (logs, referrers, history) cannot
        // start another sign-in.
        const launch = await this.d.store.claimLaunch(sha256(v.launchId), now);
        if (launch === undefined) throw new AuthorizationError('invalid_request', 'The launch is unknown, has expired or was already used', { redirectUri, state: v.request.state });
        request = {
          ...request,
          launch: { patient: launch.patient, ...(launch.encounter === undefined ? {} : { encounter: launch.encounter }), ...(launch.boundUser === undefined ? {} : { boundUser: launch.boundUser }) },
        };
      }
      const existing = readBrowserId(browser.cookie, this.#secure);
      const browserId = existing ?? randomHandle(this.d.random);
      const handle = randomHandle(this.d.random);
      const csrf = randomHandle(this.d.random);
      const pending: PendingAuthorization = {
        handleHash: sha256(handle),
        browserHash: sha256(browserId),
        csrfHash: sha256(csrf),
        request,
        stage: 'login',
        version: 0,
        attempts: 0,
        createdAt: now,
        expiresAt: now + this.d.lifetimes.pending * 1000,
      };
      await this.d.store.insertPending(pending);
      const cookie = existing === undefined ? bindingCookie(browserId, this.#secure) : undefined;
      return this.#page(200, request, loginPage({ binding: { request: handle, csrf, step: 'login' }, action: this.d.endpoints.interaction, clientName: client!.name }), cookie);
    } catch (e) {
      if (!(e instanceof AuthorizationError)) throw e;
      if (e.target === undefined) return pageResponse(400, errorPage({ title: 'This sign-in cannot start', message: e.message }));
      return redirectResponse(status, redirectTo(e.target, this.d.endpoints.issuer, { error: e.error, error_description: e.message }));
    }
  }

  /** `POST /oauth/interaction`: one step of a pending sign-in. */
  async interact(body: unknown, browser: BrowserRequest): Promise<OAuthHttpResponse> {
    if (!(body instanceof URLSearchParams)) return this.#error(400, 'This form was not sent as a form.');
    const form = new RequestParams(body);
    const handle = form.get('request');
    const csrf = form.get('csrf');
    if (!isHandle(handle) || !isHandle(csrf)) return this.#error(400, 'This form is missing its security token. Return to the application and start again.');
    const handleHash = sha256(handle);
    const pending = await this.d.store.findPending(handleHash, this.d.clock.now());
    if (pending === undefined) return this.#error(400, 'This sign-in has expired or was already completed. Return to the application and start again.');
    const browserId = readBrowserId(browser.cookie, this.#secure);
    const browserOk = sameSecret(sha256(browserId ?? ''), pending.browserHash);
    const csrfOk = sameSecret(sha256(csrf), pending.csrfHash);
    if (!browserOk || !csrfOk) return this.#error(403, 'This form was not sent from the page this server showed in this browser. Return to the application and start again.');
    if (pending.attempts >= this.d.maxAttempts) {
      await this.d.store.deletePending(handleHash);
      return this.#error(429, 'Too many attempts. Return to the application and start again.');
    }
    if (form.get('step') !== pending.stage) return this.#error(409, 'This page is out of date. Return to the application and start again.');
    const client = await this.d.identity.getClient(pending.request.clientId);
    if (client === undefined || client.status !== 'active') {
      await this.d.store.deletePending(handleHash);
      return this.#error(400, 'This application is no longer registered with this server.');
    }
    const step: Step = { pending, handle, csrf, client, form, ip: browser.ip };
    switch (pending.stage) {
      case 'login':
        return this.#login(step);
      case 'mfa':
        return this.#secondFactor(step);
      case 'enrol':
        return this.#enrol(step);
      case 'recovery':
        return this.#afterRecoveryCodes(step);
      case 'consent':
        return this.#consent(step);
      case 'patient':
        return this.#choosePatient(step);
    }
  }

  // ── steps ───────────────────────────────────────────────────────────────────

  async #login(s: Step): Promise<OAuthHttpResponse> {
    const username = s.form.get('username') ?? '';
    let result;
    try {
      result = await this.d.identity.authenticate(username, s.form.get('password') ?? '', s.ip);
    } catch (e) {
      if (!isCustodiaError(e, 'login-failed', 'login-throttled')) throw e;
      const throttled = isCustodiaError(e, 'login-throttled');
      const typed = username.slice(0, MAX_USERNAME);
      await recordBestEffort(
        this.d.events,
        throttled ? { kind: 'login-throttled', step: 'password', ...(typed === '' ? {} : { username: typed }), ...this.#place(s) } : { kind: 'login-failed', username: typed, ...this.#place(s) },
      );
      return this.#retry(s, 'login', throttled ? 429 : 401, () =>
        loginPage({ binding: this.#binding(s, 'login'), action: this.d.endpoints.interaction, clientName: s.client.name, error: throttled ? MESSAGES.throttled : MESSAGES.loginFailed, username: username.slice(0, 128) }),
      );
    }
    if (result.mfaRequired && !result.mfaEnrolled) {
      // First sign-in since the account was created or its authenticator was reset: the
      // password is accepted, the second factor is set up now (docs/threat-model.md
      // discusses what this trusts).
      const enrolment = await this.d.identity.enrollTotp(result.user.id);
      const qr = await qrCodeSvg(enrolment.otpauthUri);
      return this.#advance(s, { stage: 'enrol', userId: result.user.id, enrolmentHash: sha256(enrolment.secret) }, () => this.#enrolPage(s, enrolment, qr));
    }
    if (result.mfaRequired) {
      return this.#advance(s, { stage: 'mfa', userId: result.user.id }, () => secondFactorPage({ binding: this.#binding(s, 'mfa'), action: this.d.endpoints.interaction }));
    }
    return (await this.#recorded(s, this.#signedIn(s, result.user, 'none'))) ?? this.#toConsent(s, result.user);
  }

  async #secondFactor(s: Step): Promise<OAuthHttpResponse> {
    const userId = s.pending.userId!;
    const code = s.form.get('code') ?? '';
    const method = secondFactorKind(code);
    let user: User;
    try {
      user = await this.d.identity.verifySecondFactor(userId, code, s.ip);
    } catch (e) {
      if (!isCustodiaError(e, 'login-failed', 'login-throttled')) throw e;
      const throttled = isCustodiaError(e, 'login-throttled');
      await recordBestEffort(
        this.d.events,
        throttled
          ? { kind: 'login-throttled', step: 'second-factor', user: { id: userId }, ...this.#place(s) }
          : { kind: 'mfa-failed', user: { id: userId }, method, enrolment: false, ...this.#place(s) },
      );
      return this.#retry(s, 'mfa', throttled ? 429 : 401, () =>
        secondFactorPage({ binding: this.#binding(s, 'mfa'), action: this.d.endpoints.interaction, error: throttled ? MESSAGES.throttled : MESSAGES.codeFailed }),
      );
    }
    const factor: SecurityEvent = { kind: method === 'totp' ? 'mfa-succeeded' : 'recovery-code-used', user: eventUser(user), ...this.#place(s) };
    return (await this.#recorded(s, factor, this.#signedIn(s, user, method))) ?? this.#toConsent(s, user);
  }

  async #enrol(s: Step): Promise<OAuthHttpResponse> {
    const userId = s.pending.userId!;
    const changed = 'The authenticator set-up was started again elsewhere, so this one no longer counts. Return to the application and start again; if you did not start it, tell your administrator.';
    // The secret this sign-in showed, and no other: a concurrent enrolment (another
    // sign-in with the same password) replaces the pending secret.
    const shown = await this.d.identity.pendingTotpEnrolment(userId);
    if (shown === undefined || s.pending.enrolmentHash === undefined || !sameSecret(sha256(shown.secret), s.pending.enrolmentHash)) return this.#abandon(s, changed);
    let codes: readonly string[];
    try {
      ({ recoveryCodes: codes } = await this.d.identity.confirmTotp(userId, s.form.get('code') ?? '', shown.secret));
    } catch (e) {
      if (!isCustodiaError(e, 'login-failed')) {
        if (isCustodiaError(e, 'identity-conflict')) return this.#abandon(s, changed);
        throw e;
      }
      await recordBestEffort(this.d.events, { kind: 'mfa-failed', user: { id: userId }, method: 'totp', enrolment: true, ...this.#place(s) });
      const enrolment = shown;
      const qr = await qrCodeSvg(enrolment.otpauthUri);
      return this.#retry(s, 'enrol', 401, () => this.#enrolPage(s, enrolment, qr, 'The code is not valid. Enter the code your authenticator app shows now.'));
    }
    // The password was accepted and the new authenticator confirmed: the sign-in is complete.
    const user = (await this.d.identity.getUser(userId)) ?? { id: userId };
    const refused = await this.#recorded(s, { kind: 'mfa-enrolled', user: eventUser(user), ...this.#place(s) }, this.#signedIn(s, user, 'enrolled'));
    return refused ?? this.#advance(s, { stage: 'recovery', userId }, () => recoveryCodesPage({ binding: this.#binding(s, 'recovery'), action: this.d.endpoints.interaction, codes }));
  }

  async #afterRecoveryCodes(s: Step): Promise<OAuthHttpResponse> {
    const user = await this.#activeUser(s);
    if (user === undefined) return this.#abandon(s, 'This account cannot sign in now.');
    return this.#toConsent(s, user);
  }

  #enrolPage(s: Step, e: TotpEnrolmentStart, qrSvg: SafeHtml, error?: string): PageContent {
    return enrolPage({ binding: this.#binding(s, 'enrol'), action: this.d.endpoints.interaction, secret: e.secret, otpauthUri: e.otpauthUri, qrSvg, ...(error === undefined ? {} : { error }) });
  }

  /** The user is known: check the launch fits them, then ask for consent. */
  async #toConsent(s: Step, user: User): Promise<OAuthHttpResponse> {
    const r = s.pending.request;
    const own = ownPatient(user);
    if (r.launch?.boundUser !== undefined && r.launch.boundUser !== user.id) {
      return this.#abandon(s, 'This launch was opened for another user. Sign in as that user, or open the application again.');
    }
    if (user.role === 'patient' && (own === undefined ? r.scopes.includes('launch/patient') || r.launch !== undefined : r.launch !== undefined && r.launch.patient !== own)) {
      return this.#abandon(s, 'Your account is not linked to this patient record. Ask an administrator to link it.');
    }
    return this.#advance(s, { stage: 'consent', userId: user.id, authTime: Math.floor(this.d.clock.now() / 1000) }, () =>
      consentPage({ binding: this.#binding(s, 'consent'), action: this.d.endpoints.interaction, clientName: s.client.name, username: user.username, scopes: scopesForRole(r.scopes, user.role) }),
    );
  }

  async #consent(s: Step): Promise<OAuthHttpResponse> {
    const decision = s.form.get('decision');
    const r = s.pending.request;
    if (decision === 'deny') {
      await this.d.store.deletePending(s.pending.handleHash);
      return redirectResponse(303, redirectTo(r, this.d.endpoints.issuer, { error: 'access_denied', error_description: 'The user denied access' }));
    }
    if (decision !== 'approve') return this.#error(400, 'Choose Allow or Deny.');
    const user = await this.#activeUser(s);
    if (user === undefined) return this.#abandon(s, 'This account cannot sign in now.');
    const needsPatient = r.scopes.includes('launch/patient') && r.launch === undefined && user.role !== 'patient';
    if (needsPatient) {
      return this.#advance(s, { stage: 'patient' }, () => patientPage({ binding: this.#binding(s, 'patient'), action: this.d.endpoints.interaction }));
    }
    return this.#complete(s, user, user.role === 'patient' ? ownPatient(user) : r.launch?.patient);
  }

  async #choosePatient(s: Step): Promise<OAuthHttpResponse> {
    const user = await this.#activeUser(s);
    if (user === undefined) return this.#abandon(s, 'This account cannot sign in now.');
    const action = s.form.get('action');
    const query = (s.form.get('query') ?? '').trim().slice(0, 200);
    if (action === 'select') {
      const chosen = s.form.get('patient');
      if (chosen !== undefined && s.pending.candidates?.includes(chosen) === true) return this.#complete(s, user, chosen);
      return this.#retry(s, 'patient', 400, () =>
        patientPage({ binding: this.#binding(s, 'patient'), action: this.d.endpoints.interaction, query, error: 'Search, then choose one of the patients found.' }),
      );
    }
    if (query === '') {
      return this.#retry(s, 'patient', 400, () => patientPage({ binding: this.#binding(s, 'patient'), action: this.d.endpoints.interaction, error: 'Enter a name or an identifier.' }));
    }
    const results = (await this.d.patients.search(query, user)).slice(0, 20);
    return this.#advance(s, { stage: 'patient', candidates: results.map((c) => c.id) }, () =>
      patientPage({ binding: this.#binding(s, 'patient'), action: this.d.endpoints.interaction, query, results }),
    );
  }

  /** RFC 6749 §4.1.2: the code, single use, bound to client, redirect URI and PKCE challenge. */
  async #complete(s: Step, user: User, patient: string | undefined): Promise<OAuthHttpResponse> {
    const r = s.pending.request;
    const now = this.d.clock.now();
    const launch = r.launch;
    const encounter = launch?.encounter !== undefined && (r.scopes.includes('launch') || r.scopes.includes('launch/encounter')) ? launch.encounter : undefined;
    const grant: GrantRecord = {
      id: uuidV4(this.d.random),
      clientId: r.clientId,
      context: {
        userId: user.id,
        scope: scopesForRole(r.scopes, user.role).join(' '),
        ...(patient === undefined ? {} : { patient }),
        ...(encounter === undefined ? {} : { encounter }),
        ...(r.nonce === undefined ? {} : { nonce: r.nonce }),
        authTime: s.pending.authTime ?? Math.floor(now / 1000),
        // The EHR shows its own banner in an EHR launch; a standalone app must show one.
        needPatientBanner: launch === undefined,
      },
      createdAt: now,
      expiresAt: grantExpiry(refreshKind(r.scopes), now, this.d.lifetimes),
    };
    const code = randomHandle(this.d.random);
    const stored = await this.d.store.completePending(s.pending.handleHash, s.pending.version, grant, {
      codeHash: sha256(code),
      grantId: grant.id,
      clientId: r.clientId,
      redirectUri: r.redirectUri,
      codeChallenge: r.codeChallenge,
      expiresAt: now + this.d.lifetimes.code * 1000,
    });
    if (!stored) return this.#error(409, 'This sign-in was already completed. Return to the application.');
    const consent: SecurityEvent = {
      kind: 'consent-granted',
      user: eventUser(user),
      scope: grant.context.scope,
      ...(patient === undefined ? {} : { patient }),
      grant: grant.id,
      ...this.#place(s),
    };
    try {
      await this.d.events.record(consent);
    } catch (e) {
      // The code never leaves the server; the grant it would redeem is ended all the same.
      await this.d.store.revokeGrant(grant.id, this.d.clock.now()).catch(() => undefined);
      if (!isCustodiaError(e, 'audit-unavailable')) throw e;
      return this.#error(503, MESSAGES.unrecorded);
    }
    return redirectResponse(303, redirectTo(r, this.d.endpoints.issuer, { code }));
  }

  // ── helpers ─────────────────────────────────────────────────────────────────

  /** The client and browser address every sign-in event names. */
  #place(s: Step): { client: string; address: string } {
    return { client: s.pending.request.clientId, address: s.ip };
  }

  #signedIn(s: Step, user: Pick<User, 'id'> & Partial<Pick<User, 'role' | 'fhirUser'>>, secondFactor: SecondFactor): SecurityEvent {
    return { kind: 'login-succeeded', user: eventUser(user), secondFactor, ...this.#place(s) };
  }

  /**
   * Records the events of a step that succeeded, durably, before the sign-in moves on.
   * Undefined when they are recorded; otherwise the sign-in ends here with a 503 page: a
   * sign-in the audit trail does not know of does not go on.
   */
  async #recorded(s: Step, ...events: SecurityEvent[]): Promise<OAuthHttpResponse | undefined> {
    try {
      // Together: the audit trail writes records that arrive in one turn in one commit.
      await Promise.all(events.map((e) => this.d.events.record(e)));
      return undefined;
    } catch (e) {
      await this.d.store.deletePending(s.pending.handleHash);
      if (!isCustodiaError(e, 'audit-unavailable')) throw e;
      return this.#error(503, MESSAGES.unrecorded);
    }
  }

  async #activeUser(s: Step): Promise<User | undefined> {
    const user = s.pending.userId === undefined ? undefined : await this.d.identity.getUser(s.pending.userId);
    return user?.status === 'active' ? user : undefined;
  }

  #binding(s: Step, step: PendingStage): FormBinding {
    return { request: s.handle, csrf: s.csrf, step };
  }

  #page(status: number, r: Pick<AuthorizationRequest, 'redirectUri'>, content: PageContent, cookie?: string): OAuthHttpResponse {
    const target = formTargetOf(r.redirectUri);
    return pageResponse(status, content, { formTargets: target === undefined ? [] : [target], ...(cookie === undefined ? {} : { cookie }) });
  }

  #error(status: number, message: string, title = 'This sign-in cannot continue'): OAuthHttpResponse {
    return pageResponse(status, errorPage({ title, message }));
  }

  async #abandon(s: Step, message: string): Promise<OAuthHttpResponse> {
    await this.d.store.deletePending(s.pending.handleHash);
    return this.#error(403, message);
  }

  /** Moves the pending request on (compare-and-set) and shows the next page. */
  async #advance(s: Step, update: PendingUpdate, next: () => PageContent): Promise<OAuthHttpResponse> {
    if (!(await this.d.store.updatePending(s.pending.handleHash, s.pending.version, update))) return this.#error(409, 'This page is out of date. Return to the application and start again.');
    return this.#page(200, s.pending.request, next());
  }

  /** Counts a failed submission and shows the same step again. */
  async #retry(s: Step, stage: PendingStage, status: number, next: () => PageContent): Promise<OAuthHttpResponse> {
    const update: PendingUpdate = { stage, countAttempt: true };
    if (!(await this.d.store.updatePending(s.pending.handleHash, s.pending.version, update))) return this.#error(409, 'This page is out of date. Return to the application and start again.');
    return this.#page(status, s.pending.request, next());
  }
}

/** A patient user's own Patient id (SMART: their `patient` context is their own record). */
function ownPatient(user: User): string | undefined {
  const ref = user.fhirUser === undefined ? undefined : parseFhirUser(user.fhirUser);
  return ref?.type === 'Patient' ? ref.id : undefined;
}
