/**
 * The authorization code flow with PKCE, end to end, with openid-client 6 as the
 * independent client against a listening server: discovery, the sign-in pages driven
 * like a browser (password, TOTP second factor, consent, patient selection), the code
 * exchange with a verified ID token, EHR and patient launches, and the refusals around
 * it (PKCE, redirect URI, aud, CSRF, reused and expired codes). On SQLite and PostgreSQL.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpAt, base32Decode } from '../../src/access/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import {
  authorizeUrl,
  Browser,
  createPatient,
  fhirStatus,
  parseForm,
  pkce,
  postForm,
  PASSWORD,
  REDIRECT,
  signIn,
  startOAuthServer,
  type OAuthHarness,
} from './oauth-harness.js';

const APP_SCOPE = 'openid fhirUser profile launch/patient offline_access patient/*.rs user/*.rs';

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`authorization code flow on ${name}`, () => {
    let h: OAuthHarness;
    let config: client.Configuration;
    let patientId: string;
    let aliceId: string;
    let totp: { secret: string; algorithm: 'SHA1' | 'SHA256' | 'SHA512'; digits: number; period: number };

    beforeAll(async () => {
      h = await startOAuthServer(name);
      patientId = await createPatient(h, 'Lovelace', 'Ada', 'MRN-1815');
      await createPatient(h, 'Byron', 'George', 'MRN-1788');
      await h.vault.identity.addClient({ clientId: 'web-app', name: 'Web <App> & "Co"', public: true, redirectUris: [REDIRECT, 'com.example.app:/cb'], scope: `${APP_SCOPE} launch launch/encounter` });
      aliceId = (await h.vault.identity.addUser({ username: 'alice', role: 'clinician', fhirUser: 'Practitioner/alice', password: PASSWORD })).user.id;
      await h.vault.identity.addUser({ username: 'pat', role: 'patient', fhirUser: `Patient/${patientId}`, password: PASSWORD });
      const bob = await h.vault.identity.addUser({ username: 'bob', role: 'clinician', fhirUser: 'Practitioner/bob', password: PASSWORD });
      totp = await h.vault.identity.enrollTotp(bob.user.id);
      await h.vault.identity.confirmTotp(bob.user.id, totpAt(base32Decode(totp.secret)!, h.clock.now(), totp));
      await h.vault.identity.addUser({ username: 'carol', role: 'clinician', password: PASSWORD });
      await h.vault.identity.addUser({ username: 'nina', role: 'nurse', password: PASSWORD });
      await h.vault.identity.setRoleMfaRequired('nurse', true);
      config = await client.discovery(new URL(h.issuer), 'web-app', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }, client.None(), {
        execute: [client.allowInsecureRequests],
      });
      // Verify the ID token's signature against the published JWKS too.
      client.enableNonRepudiationChecks(config);
    });

    afterAll(async () => {
      await h?.close();
    });

    async function start(extra: Record<string, string> = {}, scope = APP_SCOPE) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope,
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        aud: h.fhirBase,
        ...extra,
      });
      return { url: url.toString(), verifier, state, nonce };
    }

    const exchange = (location: string, a: { verifier: string; state: string; nonce: string }) =>
      client.authorizationCodeGrant(config, new URL(location), { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce, idTokenExpected: true });

    it('is discovered through openid-configuration', () => {
      const m = config.serverMetadata();
      expect(m.issuer).toBe(h.issuer);
      expect(m.token_endpoint).toBe(`${h.issuer}/oauth/token`);
      expect(m.code_challenge_methods_supported).toEqual(['S256']);
    });

    it('signs a clinician in with a TOTP second factor, asks consent, lets them choose a patient, and issues verified tokens', async () => {
      const a = await start();
      // The next time step's code: enrolment used the current one.
      const code = () => totpAt(base32Decode(totp.secret)!, h.clock.now() + 30_000, totp);
      const location = await signIn(new Browser(), a.url, { username: 'bob', code, patientQuery: 'Lovelace' });
      expect(location.startsWith(`${REDIRECT}?`)).toBe(true);
      expect(new URL(location).searchParams.get('iss')).toBe(h.issuer);
      const tokens = await exchange(location, a);
      expect(tokens.token_type).toBe('bearer');
      expect(tokens.expires_in).toBe(900);
      expect(tokens.scope).toBe(APP_SCOPE);
      expect(tokens['patient']).toBe(patientId);
      expect(tokens['need_patient_banner']).toBe(true);
      expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const claims = tokens.claims()!;
      expect(claims).toMatchObject({ iss: h.issuer, aud: 'web-app', nonce: a.nonce, fhirUser: `${h.fhirBase}/Practitioner/bob`, preferred_username: 'bob' });
      const principal = await h.vault.tokens.verify(tokens.access_token);
      expect(principal).toMatchObject({ kind: 'user', role: 'clinician', fhirUser: 'Practitioner/bob', patient: patientId, clientId: 'web-app', issuer: h.issuer });
      expect(await fhirStatus(h, tokens.access_token, `Patient/${patientId}`)).not.toBe(401);
    });

    it('finds patients by identifier too, and only lets the user choose among the results', async () => {
      const a = await start();
      const browser = new Browser();
      let page = await browser.get(a.url);
      page = await browser.submit(page, { username: 'alice', password: PASSWORD });
      page = await browser.submit(page, { decision: 'approve' });
      expect(parseForm(page.text).fields['step']).toBe('patient');
      page = await browser.submit(page, { action: 'search', query: 'MRN-1788' });
      expect(page.text).toContain('George Byron');
      expect(page.text).not.toContain('Lovelace');
      const offered = parseForm(page.text).choices['patient']!;
      expect(offered).toHaveLength(1);
      // A patient that was not offered cannot be chosen.
      const refused = await browser.submit(page, { action: 'select', patient: patientId });
      expect(refused.status).toBe(400);
      const done = await browser.submit(refused, { action: 'search', query: 'Lovelace' });
      const location = (await browser.submit(done, { action: 'select', patient: patientId })).location!;
      expect((await exchange(location, a))['patient']).toBe(patientId);
    });

    it("gives a patient their own record as the patient context, without a selection step", async () => {
      const a = await start();
      const tokens = await exchange(await signIn(new Browser(), a.url, { username: 'pat' }), a);
      expect(tokens['patient']).toBe(patientId);
      expect(tokens.claims()!['fhirUser']).toBe(`${h.fhirBase}/Patient/${patientId}`);
      expect(await h.vault.tokens.verify(tokens.access_token)).toMatchObject({ kind: 'user', role: 'patient', patient: patientId });
    });

    it('EHR launch: a launch id from POST /oauth/launch gives its patient and encounter', async () => {
      const res = await fetch(`${h.issuer}/oauth/launch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await h.operatorToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ patient: `Patient/${patientId}`, encounter: 'enc-1' }),
      });
      expect(res.status).toBe(201);
      const { launch, expires_in } = (await res.json()) as { launch: string; expires_in: number };
      expect(expires_in).toBe(300);
      const a = await start({ launch }, 'openid launch patient/*.rs');
      const tokens = await exchange(await signIn(new Browser(), a.url, { username: 'alice' }), a);
      expect(tokens['patient']).toBe(patientId);
      expect(tokens['encounter']).toBe('enc-1');
      expect(tokens['need_patient_banner']).toBe(false);
      expect(tokens.scope).toBe('openid launch patient/*.rs');
      expect(tokens.refresh_token).toBeUndefined();
    });

    it('EHR launch: refuses launches for unknown patients, bad tokens, other roles, and other users', async () => {
      const post = async (token: string, body: unknown) =>
        fetch(`${h.issuer}/oauth/launch`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await post(await h.operatorToken(), { patient: 'nope' })).status).toBe(400);
      expect((await post('garbage', { patient: patientId })).status).toBe(401);
      const nora = await h.vault.identity.addUser({ username: 'nora-launch', role: 'nurse', password: PASSWORD });
      const nurse = await h.vault.tokens.issue({ subject: nora.user.id, kind: 'user', role: 'nurse', scope: 'user/*.rs', ttlSeconds: 60 });
      expect((await post(nurse, { patient: patientId })).status).toBe(403);
      // A clinician's launch is bound to that clinician: carol cannot sign in with alice's.
      const alice = await h.vault.tokens.issue({ subject: aliceId, kind: 'user', role: 'clinician', scope: 'user/*.rs', ttlSeconds: 60 });
      const res = await post(alice, { patient: patientId });
      expect(res.status).toBe(201);
      const launchId = ((await res.json()) as { launch: string }).launch;
      const a = await start({ launch: launchId }, 'launch patient/*.rs');
      const browser = new Browser();
      const refused = await browser.submit(await browser.get(a.url), { username: 'carol', password: PASSWORD });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('This launch was opened for another user');
      // A launch id is single use: the authorization request above claimed it.
      const again = await new Browser().get((await start({ launch: launchId }, 'launch patient/*.rs')).url);
      expect(new URL(again.location!).searchParams.get('error')).toBe('invalid_request');
      const unknown = await browser.get((await start({ launch: 'A'.repeat(43) }, 'launch patient/*.rs')).url);
      expect(new URL(unknown.location!).searchParams.get('error')).toBe('invalid_request');
    });

    it('has a user whose role requires a second factor, and who has none, enrol an authenticator at sign-in', async () => {
      const browser = new Browser();
      const a = await start();
      let page = await browser.submit(await browser.get(a.url), { username: 'nina', password: PASSWORD });
      expect(page.status).toBe(200);
      expect(parseForm(page.text).fields['step']).toBe('enrol');
      expect(page.text).toContain('<svg');
      expect(page.text).not.toMatch(/<script|style=/);
      const key = /Key: <code>([A-Z2-7 ]+)<\/code>/.exec(page.text)![1]!.replace(/ /g, '');
      const params = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
      const codeAt = (t: number) => totpAt(base32Decode(key)!, t, params);
      // A wrong code shows the same key again (the enrolment is still pending).
      const wrong = String((Number(codeAt(h.clock.now())) + 1) % 1_000_000).padStart(6, '0');
      page = await browser.submit(page, { code: wrong });
      expect(page.status).toBe(401);
      expect(page.text).toContain(key.slice(0, 4));
      expect(parseForm(page.text).fields['step']).toBe('enrol');
      page = await browser.submit(page, { code: codeAt(h.clock.now()) });
      expect(parseForm(page.text).fields['step']).toBe('recovery');
      const recovery = [...page.text.matchAll(/<li>([A-Za-z0-9-]{8,})<\/li>/g)].map((m) => m[1]!);
      expect(recovery.length).toBeGreaterThanOrEqual(8);
      page = await browser.submit(page, {});
      expect(parseForm(page.text).fields['step']).toBe('consent');
      page = await browser.submit(page, { decision: 'approve' });
      if (parseForm(page.text).fields['step'] === 'patient') {
        page = await browser.submit(page, { action: 'search', query: 'Lovelace' });
        page = await browser.submit(page, { action: 'select', patient: parseForm(page.text).choices['patient']![0]! });
      }
      expect((await exchange(page.location!, a)).access_token).toBeTruthy();
      // From now on the authenticator is asked for; a recovery code works once instead.
      h.clock.advance(60_000);
      await expect(signIn(new Browser(), (await start()).url, { username: 'nina', code: () => codeAt(h.clock.now()), patientQuery: 'Lovelace' })).resolves.toContain('code=');
      await expect(signIn(new Browser(), (await start()).url, { username: 'nina', code: () => recovery[0]!, patientQuery: 'Lovelace' })).resolves.toContain('code=');
      await expect(signIn(new Browser(), (await start()).url, { username: 'nina', code: () => recovery[0]!, patientQuery: 'Lovelace' })).rejects.toThrow(/expected the consent page, got 401/);
    });

    it('lets only the secret a sign-in showed be confirmed through it, when a second sign-in starts enrolment too', async () => {
      await h.vault.identity.addUser({ username: 'nadia', role: 'nurse', password: PASSWORD });
      const params = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
      const keyOf = (text: string) => /Key: <code>([A-Z2-7 ]+)<\/code>/.exec(text)![1]!.replace(/ /g, '');
      const first = new Browser();
      const firstPage = await first.submit(await first.get((await start()).url), { username: 'nadia', password: PASSWORD });
      const second = new Browser();
      const secondPage = await second.submit(await second.get((await start()).url), { username: 'nadia', password: PASSWORD });
      const firstKey = keyOf(firstPage.text);
      expect(keyOf(secondPage.text)).not.toBe(firstKey);
      // The first page's secret was replaced: its right code no longer enrols anything.
      const stale = await first.submit(firstPage, { code: totpAt(base32Decode(firstKey)!, h.clock.now(), params) });
      expect(stale.status).toBe(403);
      expect(stale.text).toContain('started again elsewhere');
      const ok = await second.submit(secondPage, { code: totpAt(base32Decode(keyOf(secondPage.text))!, h.clock.now(), params) });
      expect(parseForm(ok.text).fields['step']).toBe('recovery');
    });

    it('answers a wrong password and an unknown user alike', async () => {
      const browser = new Browser();
      const wrong = await browser.submit(await browser.get((await start()).url), { username: 'someone', password: 'not the password' });
      const unknown = await browser.submit(await browser.get((await start()).url), { username: 'someone', password: PASSWORD });
      await h.vault.identity.addUser({ username: 'someone', role: 'clinician', password: PASSWORD }).catch(() => undefined);
      const known = await browser.submit(await browser.get((await start()).url), { username: 'someone', password: 'not the password' });
      const strip = (t: string) => t.replace(/value="[A-Za-z0-9_-]{43}"/g, '');
      expect(wrong.status).toBe(401);
      expect(known.status).toBe(401);
      expect(strip(known.text)).toBe(strip(unknown.text));
      expect(strip(known.text)).toBe(strip(wrong.text));
      expect(known.text).toContain('The username or password is not valid');
    });

    it('sends the user back with access_denied when they deny', async () => {
      const a = await start();
      const location = await signIn(new Browser(), a.url, { username: 'alice', decision: 'deny' });
      const params = new URL(location).searchParams;
      expect(params.get('error')).toBe('access_denied');
      expect(params.get('state')).toBe(a.state);
      expect(params.get('code')).toBeNull();
    });

    it('serves pages without scripts, escaped, unframeable, with a strict CSP', async () => {
      const page = await new Browser().get((await start()).url);
      expect(page.status).toBe(200);
      expect(page.text).not.toMatch(/<script/i);
      expect(page.text).toContain('Web &lt;App&gt; &amp; &quot;Co&quot;');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self' http:\/\/127\.0\.0\.1:9; frame-ancestors 'none'; base-uri 'none'$/);
      expect(page.headers.get('set-cookie')).toMatch(/^custodia-signin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(page.headers.get('cache-control')).toBe('no-store');
    });

    it('accepts the authorization request by POST (authorize-post)', async () => {
      const a = await start();
      const browser = new Browser();
      const page = await browser.post(`${h.issuer}/oauth/authorize`, Object.fromEntries(new URL(a.url).searchParams));
      expect(page.status).toBe(200);
      expect(parseForm(page.text).fields['step']).toBe('login');
    });

    it('refuses PKCE plain, a missing challenge, and a missing or wrong aud, back at the redirect URI without a code', async () => {
      const { challenge } = await pkce();
      const base = { response_type: 'code', client_id: 'web-app', redirect_uri: REDIRECT, scope: 'openid patient/*.rs', state: 's-1', aud: h.fhirBase, code_challenge: challenge, code_challenge_method: 'S256' };
      for (const params of [
        { ...base, code_challenge_method: 'plain' },
        { ...base, code_challenge_method: undefined },
        { ...base, code_challenge: undefined },
        { ...base, aud: undefined },
        { ...base, aud: 'https://other.example/fhir' },
        { ...base, state: undefined },
      ]) {
        const page = await new Browser().get(authorizeUrl(h, params));
        expect(page.status).toBe(302);
        const back = new URL(page.location!);
        expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
        expect(back.searchParams.get('error')).toBe('invalid_request');
        expect(back.searchParams.get('code')).toBeNull();
        expect(back.searchParams.get('iss')).toBe(h.issuer);
      }
      const wrongType = new URL((await new Browser().get(authorizeUrl(h, { ...base, response_type: 'token' }))).location!);
      expect(wrongType.searchParams.get('error')).toBe('unsupported_response_type');
      expect(wrongType.searchParams.get('state')).toBe('s-1');
      const noScope = new URL((await new Browser().get(authorizeUrl(h, { ...base, scope: 'system/*.rs' }))).location!);
      expect(noScope.searchParams.get('error')).toBe('invalid_scope');
      // No sign-in session is kept, so prompt=none cannot succeed (OIDC Core §3.1.2.6).
      const silent = new URL((await new Browser().get(authorizeUrl(h, { ...base, prompt: 'none' }))).location!);
      expect(silent.searchParams.get('error')).toBe('login_required');
    });

    it('never redirects to an unregistered redirect URI or for an unknown client: it shows an error page', async () => {
      const { challenge } = await pkce();
      const base = { response_type: 'code', client_id: 'web-app', redirect_uri: REDIRECT, scope: 'openid', state: 's', aud: h.fhirBase, code_challenge: challenge, code_challenge_method: 'S256' };
      for (const params of [
        { ...base, redirect_uri: 'https://attacker.example/cb' },
        { ...base, redirect_uri: `${REDIRECT}/more` },
        { ...base, redirect_uri: undefined },
        { ...base, client_id: 'nobody' },
        { ...base, client_id: undefined },
      ]) {
        const page = await new Browser().get(authorizeUrl(h, params));
        expect(page.status).toBe(400);
        expect(page.location).toBeUndefined();
        expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(page.text).not.toContain('attacker.example');
      }
    });

    it('refuses a form without its CSRF token, with another CSRF token, from another browser, or replayed', async () => {
      const browser = new Browser();
      const page = await browser.get((await start({}, 'openid patient/*.rs')).url);
      const form = parseForm(page.text);
      const { csrf: _csrf, ...withoutCsrf } = form.fields;
      const missing = await browser.post(form.action, { ...withoutCsrf, username: 'alice', password: PASSWORD });
      expect(missing.status).toBe(400);
      expect(missing.text).toContain('missing its security token');
      const forged = await browser.post(form.action, { ...form.fields, csrf: 'A'.repeat(43), username: 'alice', password: PASSWORD });
      expect(forged.status).toBe(403);
      const elsewhere = await new Browser().post(form.action, { ...form.fields, username: 'alice', password: PASSWORD });
      expect(elsewhere.status).toBe(403);
      const ok = await browser.submit(page, { username: 'alice', password: PASSWORD });
      expect(parseForm(ok.text).fields['step']).toBe('consent');
      // The sign-in form again, after the step was passed.
      const replay = await browser.submit(page, { username: 'alice', password: PASSWORD });
      expect(replay.status).toBe(409);
      // A consent form posted twice yields one code.
      const first = await browser.submit(ok, { decision: 'approve' });
      expect(first.status).toBe(303);
      expect((await browser.submit(ok, { decision: 'approve' })).status).toBe(400);
    });

    it('refuses a wrong code_verifier, and the code is then spent', async () => {
      const a = await start();
      const location = await signIn(new Browser(), a.url, { username: 'alice', patientQuery: 'Lovelace' });
      const code = new URL(location).searchParams.get('code')!;
      const form = { grant_type: 'authorization_code', client_id: 'web-app', redirect_uri: REDIRECT, code };
      const wrong = await postForm(`${h.issuer}/oauth/token`, { ...form, code_verifier: (await pkce()).verifier });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toBe('invalid_grant');
      expect((await postForm(`${h.issuer}/oauth/token`, { ...form, code_verifier: a.verifier })).body.error).toBe('invalid_grant');
    });

    it('refuses a code for another redirect URI, and a missing verifier', async () => {
      const a = await start();
      const code = new URL(await signIn(new Browser(), a.url, { username: 'alice', patientQuery: 'Lovelace' })).searchParams.get('code')!;
      const other = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'authorization_code', client_id: 'web-app', redirect_uri: 'com.example.app:/cb', code, code_verifier: a.verifier });
      expect(other.body.error).toBe('invalid_grant');
      const none = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'authorization_code', client_id: 'web-app', redirect_uri: REDIRECT, code });
      expect(none.body.error).toBe('invalid_request');
    });

    it('refuses a reused code and revokes the tokens issued from it (RFC 6749 §4.1.2)', async () => {
      const a = await start();
      const location = await signIn(new Browser(), a.url, { username: 'alice', patientQuery: 'Lovelace' });
      const tokens = await exchange(location, a);
      expect(await fhirStatus(h, tokens.access_token, `Patient/${patientId}`)).not.toBe(401);
      const code = new URL(location).searchParams.get('code')!;
      const again = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'authorization_code', client_id: 'web-app', redirect_uri: REDIRECT, code, code_verifier: a.verifier });
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
      expect(await fhirStatus(h, tokens.access_token, `Patient/${patientId}`)).toBe(401);
      const refreshed = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'refresh_token', client_id: 'web-app', refresh_token: tokens.refresh_token! });
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    // Moves the server clock ahead: keep last.
    it('refuses a code after 60 seconds', async () => {
      const a = await start();
      const code = new URL(await signIn(new Browser(), a.url, { username: 'alice', patientQuery: 'Lovelace' })).searchParams.get('code')!;
      h.clock.advance(61_000);
      const late = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'authorization_code', client_id: 'web-app', redirect_uri: REDIRECT, code, code_verifier: a.verifier });
      expect(late.body.error).toBe('invalid_grant');
    });
  });
}
