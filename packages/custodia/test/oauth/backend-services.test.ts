/**
 * SMART Backend Services: client_credentials with private_key_jwt client authentication
 * (RFC 7523), with openid-client as the client and hand-made assertions for the
 * refusals (replayed jti, alg none, wrong audience, too long a lifetime, wrong key).
 * On SQLite and PostgreSQL.
 */
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { revokeTokenId } from '../../src/app/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { basicAuth, discover, fhirStatus, postForm, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

async function keyPair(alg: 'ES384' | 'RS384' | 'ES256', kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`backend services on ${name}`, () => {
    let h: OAuthHarness;
    let tokenUrl: string;
    let es: { privateKey: CryptoKey; jwk: JWK };
    let rs: { privateKey: CryptoKey; jwk: JWK };
    let stranger: { privateKey: CryptoKey; jwk: JWK };

    beforeAll(async () => {
      h = await startOAuthServer(name);
      tokenUrl = `${h.issuer}/oauth/token`;
      es = await keyPair('ES384', 'es-1');
      rs = await keyPair('RS384', 'rs-1');
      stranger = await keyPair('ES384', 'es-1');
      await h.vault.identity.addClient({ clientId: 'backend', name: 'Backend', jwks: { keys: [es.jwk, rs.jwk] }, scope: 'system/Patient.rs system/Observation.rs' });
      await h.vault.identity.addClient({ clientId: 'secret-app', name: 'Secret', redirectUris: ['https://app.example/cb'], scope: 'system/Patient.rs' });
    });

    // Client assertions are stamped with the real time: keep the server's clock on it.
    beforeEach(() => {
      h.clock.set(Date.now());
    });

    afterAll(async () => {
      await h?.close();
    });

    const assertion = (o: { claims?: Record<string, unknown>; key?: CryptoKey; kid?: string; alg?: string } = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: 'backend', sub: 'backend', aud: tokenUrl, jti: randomUUID(), exp: now + 240, iat: now, ...o.claims })
        .setProtectedHeader({ alg: o.alg ?? 'ES384', kid: o.kid ?? 'es-1', typ: 'JWT' })
        .sign(o.key ?? es.privateKey);
    };
    const grant = (jwt: string, scope = 'system/Patient.rs', extra: Record<string, string> = {}) =>
      postForm(tokenUrl, { grant_type: 'client_credentials', scope, client_assertion_type: ASSERTION_TYPE, client_assertion: jwt, ...extra });

    it('issues a client token through openid-client (ES384 and RS384 keys)', async () => {
      for (const k of [es, rs]) {
        const config = await discover(h, 'backend', client.PrivateKeyJwt({ key: k.privateKey, kid: k.jwk.kid! }, {
          // SMART Backend Services: the assertion's audience is the token endpoint URL.
          [client.modifyAssertion]: (_header, payload) => {
            payload['aud'] = tokenUrl;
          },
        }));
        const tokens = await client.clientCredentialsGrant(config, { scope: 'system/Patient.rs' });
        expect(tokens.token_type).toBe('bearer');
        expect(tokens.expires_in).toBe(900);
        expect(tokens.scope).toBe('system/Patient.rs');
        expect(tokens.refresh_token).toBeUndefined();
        expect(await h.vault.tokens.verify(tokens.access_token)).toMatchObject({ kind: 'client', subject: 'backend', clientId: 'backend', scope: 'system/Patient.rs' });
        expect(await fhirStatus(h, tokens.access_token)).not.toBe(401);
        // Recorded as issued, with its expiry: revoked by its id, until then (and five minutes for clock skew).
        const { jti, exp } = decodeJwt(tokens.access_token);
        expect(await revokeTokenId(h.vault.config, jti!)).toEqual({ revoked: true, recorded: true, until: exp! * 1000 + 300_000 });
        expect(await fhirStatus(h, tokens.access_token)).toBe(401);
      }
    });

    it('grants only system/ scopes within the registration', async () => {
      const mixed = await grant(await assertion(), 'system/Patient.rs system/Condition.rs patient/*.rs');
      expect(mixed.status).toBe(200);
      expect(mixed.body.scope).toBe('system/Patient.rs');
      for (const scope of ['patient/Patient.rs', 'system/*.rs', 'system/Condition.rs', 'user/Patient.rs']) {
        const r = await grant(await assertion(), scope);
        expect(r.status).toBe(400);
        expect(r.body.error).toBe('invalid_scope');
      }
      expect((await grant(await assertion(), '')).body.error).toBe('invalid_scope');
    });

    it('refuses a replayed assertion (jti seen before)', async () => {
      const jwt = await assertion();
      expect((await grant(jwt)).status).toBe(200);
      const replay = await grant(jwt);
      expect(replay.status).toBe(401);
      expect(replay.body.error).toBe('invalid_client');
    });

    it('refuses alg none, the wrong audience, a long or past lifetime, another key, and mismatched iss/sub', async () => {
      const now = Math.floor(Date.now() / 1000);
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: 'backend', sub: 'backend', aud: tokenUrl, jti: randomUUID(), exp: now + 60 })}.`;
      const cases = [
        unsigned,
        await assertion({ claims: { aud: h.issuer } }),
        await assertion({ claims: { aud: [tokenUrl, 'https://other.example/token'] } }),
        await assertion({ claims: { exp: now + 600 } }),
        await assertion({ claims: { exp: now - 120 } }),
        await assertion({ claims: { jti: undefined } }),
        await assertion({ claims: { sub: 'someone-else' } }),
        await assertion({ key: stranger.privateKey }),
        await assertion({ claims: { iss: 'nobody', sub: 'nobody' } }),
      ];
      const bodies = new Set<string>();
      for (const jwt of cases) {
        const r = await grant(jwt);
        expect(r.status).toBe(401);
        expect(r.body.error).toBe('invalid_client');
        bodies.add(JSON.stringify(r.body));
      }
      // Unknown client and bad signature look alike.
      expect(bodies.size).toBe(1);
      // A client_id that names another client than the assertion.
      expect((await grant(await assertion(), 'system/Patient.rs', { client_id: 'secret-app' })).status).toBe(401);
    });

    it('keeps client_credentials to backend services clients', async () => {
      const secret = (await h.vault.identity.addClient({ clientId: `sym-${name}`, name: 'Sym', scope: 'system/Patient.rs' })).clientSecret!;
      const r = await postForm(tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.rs' }, { authorization: basicAuth(`sym-${name}`, secret) });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('unauthorized_client');
    });
  });
}
