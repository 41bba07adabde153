/**
 * Discovery: SMART's .well-known/smart-configuration (at the issuer and under the FHIR
 * base), OpenID Connect provider metadata, and the JWK Set with public members only.
 * Also the token endpoint's RFC 6749 §5.2 errors, which must never say whether a client
 * exists. SQLite only: these read no storage worth comparing across dialects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, postForm, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

describe('discovery documents', () => {
  let h: OAuthHarness;

  beforeAll(async () => {
    h = await startOAuthServer('sqlite');
  });

  afterAll(async () => {
    await h?.close();
  });

  const get = async (path: string) => {
    const res = await fetch(`${h.issuer}${path}`);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
  };

  it('serves the SMART configuration at the issuer and under the FHIR base', async () => {
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const { status, headers, body } = await get(path);
      expect(status).toBe(200);
      expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(headers.get('access-control-allow-origin')).toBe('*');
      expect(body).toMatchObject({
        issuer: h.issuer,
        jwks_uri: `${h.issuer}/.well-known/jwks.json`,
        authorization_endpoint: `${h.issuer}/oauth/authorize`,
        token_endpoint: `${h.issuer}/oauth/token`,
        introspection_endpoint: `${h.issuer}/oauth/introspect`,
        revocation_endpoint: `${h.issuer}/oauth/revoke`,
        grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'ES256', 'ES384', 'EdDSA'],
      });
      for (const c of [
        'launch-ehr',
        'launch-standalone',
        'client-public',
        'client-confidential-symmetric',
        'client-confidential-asymmetric',
        'context-ehr-patient',
        'context-standalone-patient',
        'sso-openid-connect',
        'permission-offline',
        'permission-patient',
        'permission-user',
        'permission-v1',
        'permission-v2',
        'authorize-post',
      ]) {
        expect(body['capabilities']).toContain(c);
      }
      expect(body['scopes_supported']).toEqual(expect.arrayContaining(['openid', 'fhirUser', 'launch', 'launch/patient', 'offline_access', 'patient/*.rs', 'system/*.rs']));
    }
  });

  it('names the same endpoints in the CapabilityStatement (SMART oauth-uris extension and service code), and the statement stays valid', async () => {
    const { status, body } = await get('/fhir/metadata');
    expect(status).toBe(200);
    const security = body.rest[0].security;
    expect(security.service[0].coding).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }]);
    const uris = Object.fromEntries(security.extension.find((e: any) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris').extension.map((e: any) => [e.url, e.valueUri]));
    const smart = (await get('/.well-known/smart-configuration')).body;
    expect(uris).toEqual({ authorize: smart.authorization_endpoint, token: smart.token_endpoint, revoke: smart.revocation_endpoint, introspect: smart.introspection_endpoint });
    expect(h.vault.fhir.validator.validate(body)).toEqual([]);
  });

  it('serves OpenID Connect provider metadata', async () => {
    const { body } = await get('/.well-known/openid-configuration');
    expect(body).toMatchObject({
      issuer: h.issuer,
      authorization_endpoint: `${h.issuer}/oauth/authorize`,
      token_endpoint: `${h.issuer}/oauth/token`,
      jwks_uri: `${h.issuer}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['EdDSA'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('publishes the public signing key only', async () => {
    const { body } = await get('/.well-known/jwks.json');
    expect(body['keys']).toHaveLength(1);
    const key = body['keys'][0] as Record<string, unknown>;
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
  });

  it('answers token-endpoint mistakes with RFC 6749 §5.2 JSON, never an OperationOutcome', async () => {
    const secret = (await h.vault.identity.addClient({ clientId: 'app', name: 'App', redirectUris: ['https://app.example/cb'], scope: 'openid' })).clientSecret!;
    const token = `${h.issuer}/oauth/token`;
    const auth = { authorization: basicAuth('app', secret) };
    const expectError = (r: { status: number; body: any; headers: Headers }, status: number, error: string) => {
      expect(r.status).toBe(status);
      expect(r.body).toEqual({ error, error_description: expect.any(String) });
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('pragma')).toBe('no-cache');
    };
    expectError(await postForm(token, { grant_type: 'password', username: 'a', password: 'b' }, auth), 400, 'unsupported_grant_type');
    expectError(await postForm(token, {}, auth), 400, 'invalid_request');
    expectError(await postForm(`${token}`, { grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://app.example/cb', code_verifier: 'v'.repeat(43) }, auth), 400, 'invalid_grant');
    // Two authentication methods at once.
    expectError(await postForm(token, { grant_type: 'client_credentials', client_secret: secret }, auth), 400, 'invalid_request');
    // Wrong secret and unknown client: the same 401 with a Basic challenge.
    const wrong = await postForm(token, { grant_type: 'client_credentials' }, { authorization: basicAuth('app', 'wrong') });
    const unknown = await postForm(token, { grant_type: 'client_credentials' }, { authorization: basicAuth('nobody', 'wrong') });
    expectError(wrong, 401, 'invalid_client');
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="custodia"');
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.headers.get('www-authenticate')).toBe('Basic realm="custodia"');
    // client_secret_post.
    expectError(await postForm(token, { grant_type: 'client_credentials', client_id: 'app', client_secret: 'wrong' }), 401, 'invalid_client');
    // No authentication at all, and a confidential client pretending to be public.
    expectError(await postForm(token, { grant_type: 'client_credentials' }), 401, 'invalid_client');
    expectError(await postForm(token, { grant_type: 'authorization_code', client_id: 'app', code: 'x' }), 401, 'invalid_client');
    // Repeated parameters.
    const repeated = await fetch(token, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth }, body: 'grant_type=client_credentials&grant_type=refresh_token' });
    expect(repeated.status).toBe(400);
    // Not a form.
    const json = await fetch(token, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"grant_type":"client_credentials"}' });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
    const text = await fetch(token, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { error: string }).error).toBe('invalid_request');
  });
});
