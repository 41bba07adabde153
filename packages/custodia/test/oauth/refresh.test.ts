/**
 * Refresh tokens: rotation on every use, and reuse detection that revokes the whole
 * family (RFC 9700 §4.14.2), with openid-client as a confidential (client_secret_basic)
 * and a public client. On SQLite and PostgreSQL.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { basicAuth, codeFlow, discover, fhirStatus, postForm, PASSWORD, REDIRECT, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

const SCOPE = 'openid user/Patient.rs user/Observation.rs offline_access';

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`refresh tokens on ${name}`, () => {
    let h: OAuthHarness;
    let secret: string;
    let config: client.Configuration;
    let publicConfig: client.Configuration;

    beforeAll(async () => {
      h = await startOAuthServer(name);
      await h.vault.identity.addUser({ username: 'alice', role: 'clinician', fhirUser: 'Practitioner/alice', password: PASSWORD });
      const added = await h.vault.identity.addClient({ clientId: 'server-app', name: 'Server App', redirectUris: [REDIRECT], scope: `${SCOPE} online_access` });
      secret = added.clientSecret!;
      await h.vault.identity.addClient({ clientId: 'other-app', name: 'Other App', redirectUris: [REDIRECT], scope: SCOPE });
      await h.vault.identity.addClient({ clientId: 'spa', name: 'SPA', public: true, redirectUris: [REDIRECT], scope: 'user/Patient.rs online_access' });
      config = await discover(h, 'server-app', client.ClientSecretBasic(secret));
      publicConfig = await discover(h, 'spa', client.None(), { token_endpoint_auth_method: 'none' });
    });

    afterAll(async () => {
      await h?.close();
    });

    it('rotates the refresh token on every use', async () => {
      const first = await codeFlow(h, config, { scope: SCOPE, username: 'alice' });
      expect(first.refresh_token).toBeDefined();
      const second = await client.refreshTokenGrant(config, first.refresh_token!);
      expect(second.refresh_token).toBeDefined();
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      expect(second.scope).toBe(SCOPE);
      const third = await client.refreshTokenGrant(config, second.refresh_token!);
      expect(await fhirStatus(h, third.access_token)).not.toBe(401);
    });

    it('revokes the whole family when a rotated refresh token is used again', async () => {
      const first = await codeFlow(h, config, { scope: SCOPE, username: 'alice' });
      const second = await client.refreshTokenGrant(config, first.refresh_token!);
      expect(await fhirStatus(h, second.access_token)).not.toBe(401);
      // An attacker (or a confused client) replays the first refresh token.
      const replay = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, { authorization: basicAuth('server-app', secret) });
      expect(replay.status).toBe(400);
      expect(replay.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
      // The legitimate holder's current refresh token and access tokens are dead too.
      await expect(client.refreshTokenGrant(config, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await fhirStatus(h, second.access_token)).toBe(401);
      expect(await fhirStatus(h, first.access_token)).toBe(401);
    });

    it('lets a refresh narrow the scope, never widen it', async () => {
      const first = await codeFlow(h, config, { scope: SCOPE, username: 'alice' });
      const narrow = await client.refreshTokenGrant(config, first.refresh_token!, { scope: 'user/Patient.rs' });
      expect(narrow.scope).toBe('user/Patient.rs');
      expect((await h.vault.tokens.verify(narrow.access_token)).scope).toBe('user/Patient.rs');
      // The grant keeps its scope: the next refresh may ask for all of it again.
      const full = await client.refreshTokenGrant(config, narrow.refresh_token!);
      expect(full.scope).toBe(SCOPE);
      const wide = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: full.refresh_token!, scope: `${SCOPE} user/Condition.rs` }, { authorization: basicAuth('server-app', secret) });
      expect(wide.body.error).toBe('invalid_scope');
    });

    it("refuses another client's refresh token without harming the family", async () => {
      const first = await codeFlow(h, config, { scope: SCOPE, username: 'alice' });
      const other = await h.vault.identity.addClient({ clientId: `thief-${name}`, name: 'Thief', redirectUris: [REDIRECT], scope: SCOPE });
      const stolen = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, { authorization: basicAuth(other.client.clientId, other.clientSecret!) });
      expect(stolen.body.error).toBe('invalid_grant');
      expect((await client.refreshTokenGrant(config, first.refresh_token!)).access_token).toBeDefined();
    });

    it('gives no refresh token without offline_access or online_access, and a public client its own', async () => {
      const none = await codeFlow(h, config, { scope: 'openid user/Patient.rs', username: 'alice' });
      expect(none.refresh_token).toBeUndefined();
      const online = await codeFlow(h, publicConfig, { scope: 'user/Patient.rs online_access', username: 'alice' });
      const rotated = await client.refreshTokenGrant(publicConfig, online.refresh_token!);
      expect(rotated.refresh_token).not.toBe(online.refresh_token);
    });

    it('refuses refresh tokens of a disabled user', async () => {
      await h.vault.identity.addUser({ username: 'leaver', role: 'clinician', password: PASSWORD });
      const first = await codeFlow(h, config, { scope: SCOPE, username: 'leaver' });
      h.clock.advance(1000);
      await h.vault.identity.disableUser('leaver');
      await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      // Enabled again: the sign-in from before the disable stays over, access and refresh token alike.
      await h.vault.identity.enableUser('leaver');
      await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await fhirStatus(h, first.access_token)).toBe(401);
      // A new sign-in works.
      h.clock.advance(1000);
      const again = await codeFlow(h, config, { scope: SCOPE, username: 'leaver' });
      expect(await fhirStatus(h, again.access_token)).toBe(200);
    });

    it('ends a sign-in when the password or second factor is reset by the operator', async () => {
      await h.vault.identity.addUser({ username: 'lost-phone', role: 'clinician', password: PASSWORD });
      const first = await codeFlow(h, config, { scope: SCOPE, username: 'lost-phone' });
      h.clock.advance(1000);
      await h.vault.identity.resetMfa('lost-phone');
      await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await fhirStatus(h, first.access_token)).toBe(401);
    });
  });
}
