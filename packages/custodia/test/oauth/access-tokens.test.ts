/**
 * Access tokens at the FHIR API: the token service accepts the authorization server's
 * tokens (its issuer, the FHIR base URL as audience, EdDSA, typ at+jwt) besides operator
 * tokens, and refuses tampered, expired, wrong-audience, `alg: none` and revoked ones,
 * and ID tokens passed off as access tokens. On SQLite and PostgreSQL (the revocation
 * list is in the database), with unit checks of the token service on its own.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefusedToken, TOKEN_AUDIENCE, TOKEN_ISSUER, TokenService, type RevocationList, type SigningKey } from '../../src/access/index.js';
import { isCustodiaError, ManualClock, seededRandom } from '../../src/kernel/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { basicAuth, fhirStatus, postForm, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`access tokens at the FHIR API on ${name}`, () => {
    let h: OAuthHarness;

    let secret: string;

    beforeAll(async () => {
      h = await startOAuthServer(name);
      secret = (await h.vault.identity.addClient({ clientId: 'backend', name: 'Backend', scope: 'system/Patient.rs' })).clientSecret!;
    });

    afterAll(async () => {
      await h?.close();
    });

    const smartToken = (ttlSeconds = 900) =>
      h.vault.tokens.mint({ authority: 'oauth', kind: 'client', subject: 'backend', clientId: 'backend', scope: 'system/Patient.rs', ttlSeconds });

    /** A token signed with the server's own key, with any claims and header. */
    async function forged(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
      const { key, kid } = await h.signingKey();
      const now = Math.floor(h.clock.now() / 1000);
      return new SignJWT({ iss: h.issuer, aud: h.fhirBase, sub: 'backend', jti: `j-${Math.random()}`, scope: 'system/Patient.rs', kind: 'client', iat: now, exp: now + 600, ...claims })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, ...header })
        .sign(key);
    }

    it('accepts a token of the authorization server and an operator token', async () => {
      const t = await smartToken();
      expect(t.expiresAt - t.issuedAt).toBe(900);
      expect(await fhirStatus(h, t.token)).not.toBe(401);
      expect(await fhirStatus(h, await h.operatorToken())).not.toBe(401);
      expect(await fhirStatus(h, await forged({}))).not.toBe(401);
    });

    it('refuses a tampered token', async () => {
      const { token } = await smartToken();
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const widened = `${header}.${b64({ ...claims, scope: 'system/*.cruds' })}.${signature}`;
      expect(await fhirStatus(h, widened)).toBe(401);
      const flipped = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      expect(await fhirStatus(h, flipped)).toBe(401);
    });

    it('refuses alg none, the wrong audience or issuer, a mixed-up pair, an ID token, and another key', async () => {
      const now = Math.floor(h.clock.now() / 1000);
      const unsigned = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ iss: h.issuer, aud: h.fhirBase, sub: 'x', jti: 'j', scope: 'system/*.cruds', exp: now + 600 })}.`;
      expect(await fhirStatus(h, unsigned)).toBe(401);
      expect(await fhirStatus(h, await forged({ aud: 'https://other.example/fhir' }))).toBe(401);
      expect(await fhirStatus(h, await forged({ iss: 'https://other.example' }))).toBe(401);
      // Each issuer with its own audience only.
      expect(await fhirStatus(h, await forged({ aud: TOKEN_AUDIENCE }))).toBe(401);
      expect(await fhirStatus(h, await forged({ iss: TOKEN_ISSUER }))).toBe(401);
      // An ID token is signed with the same key but is not an access token.
      expect(await fhirStatus(h, await forged({ aud: h.fhirBase }, { typ: 'JWT' }))).toBe(401);
      expect(await fhirStatus(h, await forged({ aud: 'web-app' }, { typ: 'JWT' }))).toBe(401);
      const { privateKey } = await generateKeyPair('EdDSA');
      const other = await new SignJWT({ iss: h.issuer, aud: h.fhirBase, sub: 'x', jti: 'j', scope: 'system/*.cruds', exp: now + 600 }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).sign(privateKey);
      expect(await fhirStatus(h, other)).toBe(401);
    });

    it('refuses a signed token that names no known kind, or claims to be an operator token from the OAuth issuer', async () => {
      expect(await fhirStatus(h, await forged({ kind: undefined }))).toBe(401);
      expect(await fhirStatus(h, await forged({ kind: 'root' }))).toBe(401);
      expect(await fhirStatus(h, await forged({ kind: 'operator', scope: 'system/*.cruds' }))).toBe(401);
    });

    it('refuses a revoked token, even one verified (and cached) before', async () => {
      const t = await smartToken();
      expect(await fhirStatus(h, t.token)).not.toBe(401);
      const r = await postForm(`${h.issuer}/oauth/revoke`, { token: t.token }, { authorization: basicAuth('backend', secret) });
      expect(r.status).toBe(200);
      expect(await fhirStatus(h, t.token)).toBe(401);
      await expect(h.vault.tokens.verify(t.token)).rejects.toSatisfy((e) => isCustodiaError(e, 'token-invalid'));
    });

    // Moves the server clock ahead: keep last.
    it('refuses an expired token', async () => {
      const t = await smartToken(60);
      expect(await fhirStatus(h, t.token)).not.toBe(401);
      h.clock.advance(61_000);
      expect(await fhirStatus(h, t.token)).toBe(401);
    });
  });
}

describe('TokenService with an OAuth issuer and a revocation list', () => {
  const T0 = Date.UTC(2026, 0, 1);

  async function service(revoked: Set<string>) {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA');
    const key: SigningKey = { kid: 'k', privateKey, publicKey, publicJwk: {} };
    const clock = new ManualClock(T0);
    const calls: string[] = [];
    const list: RevocationList = {
      isRevoked: async (id) => {
        calls.push(id);
        return revoked.has(id);
      },
    };
    const tokens = new TokenService(key, clock, seededRandom('t'), { oauth: { issuer: 'https://vault.example', audience: 'https://vault.example/fhir' }, revocations: list });
    return { tokens, clock, calls };
  }

  it('asks the revocation list on every verification, cached or not', async () => {
    const revoked = new Set<string>();
    const { tokens, calls } = await service(revoked);
    const t = await tokens.mint({ authority: 'oauth', kind: 'client', subject: 's', scope: 'system/*.rs', ttlSeconds: 60 });
    expect((await tokens.verify(t.token)).issuer).toBe('https://vault.example');
    expect((await tokens.verify(t.token)).tokenId).toBe(t.tokenId);
    expect(calls).toEqual([t.tokenId, t.tokenId]);
    revoked.add(t.tokenId);
    await expect(tokens.verify(t.token)).rejects.toSatisfy((e) => isCustodiaError(e, 'token-invalid'));
  });

  it('names a refused token of its own key by id and reason (for the audit trail), and nothing else', async () => {
    const revoked = new Set<string>();
    const { tokens, clock } = await service(revoked);
    const refusal = async (token: string) => tokens.verify(token).then(() => 'accepted', (e: unknown) => (e instanceof RefusedToken ? `${e.code} ${e.reason} ${e.tokenId}` : isCustodiaError(e, 'token-invalid') ? 'token-invalid, no id' : String(e)));
    const kept = await tokens.mint({ authority: 'oauth', kind: 'client', subject: 's', scope: 'system/*.rs', ttlSeconds: 60 });
    const ended = await tokens.mint({ authority: 'oauth', kind: 'client', subject: 's', scope: 'system/*.rs', ttlSeconds: 60 });
    revoked.add(ended.tokenId);
    expect(await refusal(kept.token)).toBe('accepted');
    expect(await refusal(ended.token)).toBe(`token-invalid revoked ${ended.tokenId}`);
    // Tampered, or signed by another key: no id is taken from it.
    const [h, p, sig] = kept.token.split('.') as [string, string, string];
    expect(await refusal(`${h}.${p}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`)).toBe('token-invalid, no id');
    const { privateKey } = await generateKeyPair('EdDSA');
    const foreign = await new SignJWT({ scope: 'system/*.rs', kind: 'client' }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).setIssuer('https://vault.example').setAudience('https://vault.example/fhir').setSubject('s').setJti('forged-id').setIssuedAt(T0 / 1000 - 120).setExpirationTime(T0 / 1000 - 60).sign(privateKey);
    expect(await refusal(foreign)).toBe('token-invalid, no id');
    clock.advance(61_000);
    expect(await refusal(kept.token)).toBe(`token-invalid expired ${kept.tokenId}`);
  });

  it('keeps operator tokens working, and the old three-argument constructor', async () => {
    const { tokens } = await service(new Set());
    const op = await tokens.issue({ subject: 'operator', scope: 'system/*.cruds', ttlSeconds: 60 });
    expect((await tokens.verify(op)).issuer).toBe(TOKEN_ISSUER);
    const { privateKey, publicKey } = await generateKeyPair('EdDSA');
    const plain = new TokenService({ kid: 'k', privateKey, publicKey, publicJwk: {} }, new ManualClock(T0), seededRandom('p'));
    expect((await plain.verify(await plain.issue({ subject: 'o', scope: 'system/*.rs', ttlSeconds: 60 }))).kind).toBe('operator');
    await expect(plain.mint({ authority: 'oauth', subject: 's', scope: '', ttlSeconds: 60 })).rejects.toSatisfy((e) => isCustodiaError(e, 'config-invalid'));
  });
});
