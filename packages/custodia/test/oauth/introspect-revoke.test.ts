/**
 * Token introspection (RFC 7662) and revocation (RFC 7009), through openid-client and by
 * hand: what an active token reports, `{"active": false}` for everything else, revoked
 * access tokens refused by the FHIR API, refresh-token revocation killing the family.
 * On SQLite and PostgreSQL.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { basicAuth, codeFlow, createPatient, discover, fhirStatus, postForm, PASSWORD, REDIRECT, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

const SCOPE = 'openid fhirUser launch/patient user/Patient.rs patient/*.rs offline_access';

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`introspection and revocation on ${name}`, () => {
    let h: OAuthHarness;
    let config: client.Configuration;
    let otherConfig: client.Configuration;
    let publicConfig: client.Configuration;
    let secret: string;
    let patientId: string;

    beforeAll(async () => {
      h = await startOAuthServer(name);
      patientId = await createPatient(h, 'Curie', 'Marie', 'MRN-1867');
      await h.vault.identity.addUser({ username: 'alice', role: 'clinician', fhirUser: 'Practitioner/alice', password: PASSWORD });
      secret = (await h.vault.identity.addClient({ clientId: 'server-app', name: 'Server App', redirectUris: [REDIRECT], scope: SCOPE })).clientSecret!;
      const other = await h.vault.identity.addClient({ clientId: 'other-app', name: 'Other App', redirectUris: [REDIRECT], scope: SCOPE });
      await h.vault.identity.addClient({ clientId: 'spa', name: 'SPA', public: true, redirectUris: [REDIRECT], scope: SCOPE });
      config = await discover(h, 'server-app', client.ClientSecretBasic(secret));
      otherConfig = await discover(h, 'other-app', client.ClientSecretPost(other.clientSecret!), { token_endpoint_auth_method: 'client_secret_post' });
      publicConfig = await discover(h, 'spa', client.None(), { token_endpoint_auth_method: 'none' });
    });

    afterAll(async () => {
      await h?.close();
    });

    const flow = (c = config) => codeFlow(h, c, { scope: SCOPE, username: 'alice', patientQuery: 'Curie' });

    it('reports an active access token with its scope, client, subject, patient and fhirUser', async () => {
      const tokens = await flow();
      const info = await client.tokenIntrospection(config, tokens.access_token);
      const principal = await h.vault.tokens.verify(tokens.access_token);
      expect(info).toMatchObject({
        active: true,
        token_type: 'Bearer',
        scope: SCOPE,
        client_id: 'server-app',
        sub: principal.subject,
        iss: h.issuer,
        aud: h.fhirBase,
        exp: principal.expiresAt,
        jti: principal.tokenId,
        patient: patientId,
        fhirUser: `${h.fhirBase}/Practitioner/alice`,
      });
      expect(typeof info.iat).toBe('number');
      // Any confidential client may introspect an access token it holds.
      expect((await client.tokenIntrospection(otherConfig, tokens.access_token)).active).toBe(true);
    });

    it("reports a refresh token to its own client only, and nothing about garbage or operator tokens", async () => {
      const tokens = await flow();
      expect(await client.tokenIntrospection(config, tokens.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token', client_id: 'server-app', scope: SCOPE });
      expect(await client.tokenIntrospection(otherConfig, tokens.refresh_token!)).toEqual({ active: false });
      for (const t of ['garbage', 'a.b.c', 'A'.repeat(43), await h.operatorToken(), `${tokens.access_token.slice(0, -4)}AAAA`]) {
        expect(await client.tokenIntrospection(config, t)).toEqual({ active: false });
      }
    });

    it('is for authenticated confidential clients only', async () => {
      const tokens = await flow();
      const anonymous = await postForm(`${h.issuer}/oauth/introspect`, { token: tokens.access_token });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('invalid_client');
      const pub = await postForm(`${h.issuer}/oauth/introspect`, { token: tokens.access_token, client_id: 'spa' });
      expect(pub.status).toBe(401);
      const wrong = await postForm(`${h.issuer}/oauth/introspect`, { token: tokens.access_token }, { authorization: basicAuth('server-app', 'wrong') });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="custodia"');
      expect((await postForm(`${h.issuer}/oauth/introspect`, {}, { authorization: basicAuth('server-app', secret) })).body.error).toBe('invalid_request');
    });

    it('revokes an access token: the FHIR API refuses it with 401 and introspection says inactive', async () => {
      const tokens = await flow();
      expect(await fhirStatus(h, tokens.access_token)).not.toBe(401);
      await client.tokenRevocation(config, tokens.access_token);
      expect(await fhirStatus(h, tokens.access_token)).toBe(401);
      expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
      // The refresh token of the grant still works (RFC 7009 §2.1 leaves that to the server).
      const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(await fhirStatus(h, next.access_token)).not.toBe(401);
    });

    it('revokes a refresh token with its whole family, access tokens included', async () => {
      const tokens = await flow();
      const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
      await client.tokenRevocation(config, next.refresh_token!, { token_type_hint: 'refresh_token' });
      await expect(client.refreshTokenGrant(config, next.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await fhirStatus(h, next.access_token)).toBe(401);
      expect(await fhirStatus(h, tokens.access_token)).toBe(401);
    });

    it("answers 200 for unknown tokens and for another client's, and changes nothing then", async () => {
      const tokens = await flow();
      for (const t of ['garbage', 'A'.repeat(43), tokens.access_token, tokens.refresh_token!]) {
        const r = await postForm(`${h.issuer}/oauth/revoke`, { token: t, client_id: 'spa' });
        expect(r.status).toBe(200);
      }
      await client.tokenRevocation(otherConfig, tokens.access_token);
      await client.tokenRevocation(otherConfig, tokens.refresh_token!);
      expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
      expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(true);
    });

    it('lets a public client revoke its own tokens', async () => {
      const tokens = await flow(publicConfig);
      await client.tokenRevocation(publicConfig, tokens.refresh_token!);
      await expect(client.refreshTokenGrant(publicConfig, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await fhirStatus(h, tokens.access_token)).toBe(401);
    });
  });
}
