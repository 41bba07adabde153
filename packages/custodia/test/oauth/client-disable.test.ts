/**
 * Disabling a client (`custodia client disable`): its authentication is refused and every
 * token issued to it, or to its users through it, stops working on the next request;
 * enabling it again restores them. On every database (the check is memoised on SQLite).
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { fhirStatus, PASSWORD, postForm, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`disabling a client on ${name}`, () => {
    let h: OAuthHarness;
    let privateKey: CryptoKey;
    const grant = async () => {
      const now = Math.floor(h.clock.now() / 1000);
      const assertion = await new SignJWT({ iss: 'feed', sub: 'feed', aud: `${h.issuer}/oauth/token`, jti: randomUUID(), iat: now, exp: now + 240 })
        .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
        .sign(privateKey);
      return postForm(`${h.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
    };

    beforeAll(async () => {
      h = await startOAuthServer(name);
      const pair = await generateKeyPair('ES384', { extractable: true });
      privateKey = pair.privateKey as CryptoKey;
      await h.vault.identity.addClient({ clientId: 'feed', name: 'Feed', jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES384' }] }, scope: 'system/Patient.rs' });
      await h.vault.identity.addClient({ clientId: 'portal', name: 'Portal', public: true, redirectUris: ['http://127.0.0.1:9/cb'], scope: 'openid user/*.rs' });
    });
    afterAll(async () => h?.close());

    it("ends a backend service's tokens and refuses its authentication, until it is enabled again", async () => {
      const first = await grant();
      expect(first.status).toBe(200);
      const token = first.body['access_token'] as string;
      expect(await fhirStatus(h, token)).toBe(200);
      await h.vault.identity.disableClient('feed');
      expect(await fhirStatus(h, token)).toBe(401);
      const refused = await grant();
      expect(refused.status).toBe(401);
      expect(refused.body['error']).toBe('invalid_client');
      await h.vault.identity.enableClient('feed');
      expect(await fhirStatus(h, token)).toBe(200);
      expect((await grant()).status).toBe(200);
    });

    it('ends the tokens users got through the client, and no other', async () => {
      const u = await h.vault.identity.addUser({ username: 'nadia', role: 'clinician', password: PASSWORD });
      const throughPortal = await h.vault.tokens.issue({ authority: 'oauth', kind: 'user', subject: u.user.id, role: 'clinician', clientId: 'portal', scope: 'user/*.rs', ttlSeconds: 600 });
      const fromOperator = await h.vault.tokens.issue({ kind: 'user', subject: u.user.id, role: 'clinician', scope: 'user/*.rs', ttlSeconds: 600 });
      await h.vault.identity.disableClient('portal');
      expect(await fhirStatus(h, throughPortal)).toBe(401);
      expect(await fhirStatus(h, fromOperator)).toBe(200);
      await expect(h.vault.identity.disableClient('nobody')).rejects.toMatchObject({ code: 'identity-not-found' });
    });
  });
}
