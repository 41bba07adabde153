/**
 * Mutual TLS for system clients (issue 4 §5; RFC 8705) over real HTTPS with real
 * certificates: a test CA made here (test/helpers/test-pki.ts) is the server's
 * --tls-client-ca; a client certificate it issued authenticates a backend client at the
 * token endpoint (tls_client_auth, §2.1) and the tokens issued over it are bound to it
 * (cnf.x5t#S256, §3.1) and refused on a connection without it (§3). Certificates from
 * another CA, of another subject, expired or revoked (the server's --tls-client-crl holds
 * the CA's CRL) are refused; clients without a certificate
 * (browsers, public apps) are served as before. On SQLite and PostgreSQL (the registered
 * subject is stored).
 */
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { httpsFetch, type FetchLike, type TlsIdentity } from '../helpers/https-client.js';
import { createTestCa, type Issued } from '../helpers/test-pki.js';
import { authorizeUrl, basicAuth, Browser, PASSWORD, pkce, REDIRECT, signIn, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

const FIXTURES = fileURLToPath(new URL('../server/fixtures/', import.meta.url));
/** The server's certificate (the committed localhost test pair): what clients trust. */
const SERVER_CA = readFileSync(join(FIXTURES, 'localhost-test.crt'));
const USER_SCOPE = 'user/Patient.rs offline_access';

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`mutual TLS on ${name}`, () => {
    let h: OAuthHarness;
    let dir: string;
    let lab: Issued;
    let billing: Issued;
    let impostor: Issued;
    let expired: Issued;
    let revoked: Issued;
    let webSecret: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'custodia-mtls-'));
      const ca = await createTestCa('Custodia Test Client CA');
      const rogue = await createTestCa('Rogue CA');
      // ASN.1 order O, then CN: "CN=lab-system,O=Hospital" in RFC 4514 text.
      lab = await ca.issue([{ O: ['Hospital'] }, { CN: ['lab-system'] }]);
      billing = await ca.issue([{ O: ['Hospital'] }, { CN: ['billing'] }]);
      impostor = await rogue.issue([{ O: ['Hospital'] }, { CN: ['lab-system'] }]);
      expired = await ca.issue([{ O: ['Hospital'] }, { CN: ['lab-system'] }], { notAfter: new Date(Date.now() - 1000) });
      const tlsKey = join(dir, 'server.key');
      copyFileSync(join(FIXTURES, 'localhost-test.key'), tlsKey);
      chmodSync(tlsKey, 0o600);
      revoked = await ca.issue([{ O: ['Hospital'] }, { CN: ['lab-system'] }]);
      const tlsClientCa = join(dir, 'client-ca.pem');
      writeFileSync(tlsClientCa, ca.cert);
      const tlsClientCrl = join(dir, 'client-ca.crl');
      writeFileSync(tlsClientCrl, await ca.revoke([revoked]));
      h = await startOAuthServer(name, { config: { tlsCert: join(FIXTURES, 'localhost-test.crt'), tlsKey, tlsClientCa, tlsClientCrl } });
      await h.vault.identity.addUser({ username: 'alice', role: 'clinician', fhirUser: 'Practitioner/alice', password: PASSWORD });
      await h.vault.identity.addClient({ clientId: 'lab', name: 'Lab system', tlsSubjectDn: 'cn=lab-system, o=Hospital', redirectUris: [REDIRECT], scope: `system/Patient.rs ${USER_SCOPE}` });
      webSecret = (await h.vault.identity.addClient({ clientId: 'web', name: 'Web app', redirectUris: [REDIRECT], scope: USER_SCOPE })).clientSecret!;
    });

    afterAll(async () => {
      await h?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const over = (identity?: TlsIdentity): FetchLike => httpsFetch(SERVER_CA, identity);
    const json = async (res: Response): Promise<Reply> => {
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
    };
    const token = async (identity: TlsIdentity | undefined, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> =>
      json(await over(identity)(`${h.issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() }));
    const labToken = (identity: TlsIdentity | undefined, clientId = 'lab') => token(identity, { grant_type: 'client_credentials', client_id: clientId, scope: 'system/Patient.rs' });
    const fhir = async (identity: TlsIdentity | undefined, accessToken: string): Promise<Reply> => json(await over(identity)(`${h.fhirBase}/Patient`, { headers: { authorization: `Bearer ${accessToken}` } }));

    it('stores the subject as RFC 4514 text and announces tls_client_auth and certificate-bound tokens', async () => {
      expect(await h.vault.identity.getClient('lab')).toMatchObject({ kind: 'confidential-asymmetric', tokenEndpointAuthMethod: 'tls_client_auth', tlsSubjectDn: 'CN=lab-system,O=Hospital' });
      const smart = (await json(await over()(`${h.fhirBase}/.well-known/smart-configuration`))).body;
      expect(smart.token_endpoint).toBe(`${h.issuer}/oauth/token`);
      expect(smart.token_endpoint_auth_methods_supported).toContain('tls_client_auth');
      expect(smart.tls_client_certificate_bound_access_tokens).toBe(true);
      const oidc = (await json(await over()(`${h.issuer}/.well-known/openid-configuration`))).body;
      expect(oidc.token_endpoint_auth_methods_supported).toContain('tls_client_auth');
      expect(oidc.introspection_endpoint_auth_methods_supported).toContain('tls_client_auth');
      expect(oidc.tls_client_certificate_bound_access_tokens).toBe(true);
    });

    it('authenticates a backend client by its certificate and binds its token to that certificate', async () => {
      const issued = await labToken(lab);
      expect(issued.status).toBe(200);
      expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'system/Patient.rs' });
      const claims = decodeJwt(issued.body.access_token);
      expect(claims).toMatchObject({ sub: 'lab', client_id: 'lab', cnf: { 'x5t#S256': lab.thumbprint } });

      expect((await fhir(lab, issued.body.access_token)).status).toBe(200);
      // RFC 8705 §3: the token alone, or with any other certificate, is refused (401 invalid token).
      for (const identity of [undefined, billing, impostor]) {
        const r = await fhir(identity, issued.body.access_token);
        expect(r.status).toBe(401);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(r.body.issue[0].code).toBe('security');
      }

      // RFC 8705 §3.2: introspection (here by the lab client itself, authenticated the same way) shows the binding.
      const info = await json(
        await over(lab)(`${h.issuer}/oauth/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: 'lab', token: issued.body.access_token }).toString() }),
      );
      expect(info.body).toMatchObject({ active: true, client_id: 'lab', cnf: { 'x5t#S256': lab.thumbprint } });
    });

    it('refuses the client without its certificate, with another CA’s, another subject’s, an expired or a revoked one', async () => {
      for (const identity of [undefined, impostor, billing, expired, revoked]) {
        const r = await labToken(identity);
        expect(r.status).toBe(401);
        expect(r.body.error).toBe('invalid_client');
      }
      // A certificate authenticates only the client registered with its subject.
      expect((await labToken(lab, 'web')).body.error).toBe('invalid_client');
      await h.vault.identity.disableClient('lab');
      try {
        expect((await labToken(lab)).body.error).toBe('invalid_client');
      } finally {
        await h.vault.identity.enableClient('lab');
      }
      expect((await labToken(lab)).status).toBe(200);
    });

    it('still serves clients without a certificate, and unbound tokens whatever the connection presents', async () => {
      expect((await over()(`${h.fhirBase}/metadata`)).status).toBe(200);
      const operator = await h.operatorToken();
      for (const identity of [undefined, lab, impostor]) expect((await fhir(identity, operator)).status).toBe(200);
    });

    /** Signs alice in through a browser without a certificate; returns the code and its PKCE verifier. */
    async function authorizationCode(clientId: string): Promise<{ code: string; verifier: string }> {
      const { verifier, challenge } = await pkce();
      const url = authorizeUrl(h, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: USER_SCOPE, state: 'xyz-state-123', code_challenge: challenge, code_challenge_method: 'S256', aud: h.fhirBase });
      const location = await signIn(new Browser({}, over()), url, { username: 'alice' });
      return { code: new URL(location).searchParams.get('code')!, verifier };
    }

    it('binds user tokens to the certificate of the token request, whatever the client authentication', async () => {
      // tls_client_auth, code flow: the browser has no certificate, the client's back end has one.
      const a = await authorizationCode('lab');
      const viaCert = await token(lab, { grant_type: 'authorization_code', client_id: 'lab', code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier });
      expect(viaCert.status).toBe(200);
      expect(decodeJwt(viaCert.body.access_token)).toMatchObject({ kind: 'user', cnf: { 'x5t#S256': lab.thumbprint } });
      expect((await fhir(lab, viaCert.body.access_token)).status).toBe(200);
      expect((await fhir(undefined, viaCert.body.access_token)).status).toBe(401);
      // The refresh needs the client's certificate again, and its access token is bound to it too.
      expect((await token(undefined, { grant_type: 'refresh_token', client_id: 'lab', refresh_token: viaCert.body.refresh_token })).body.error).toBe('invalid_client');
      const refreshed = await token(lab, { grant_type: 'refresh_token', client_id: 'lab', refresh_token: viaCert.body.refresh_token });
      expect(refreshed.status).toBe(200);
      expect(decodeJwt(refreshed.body.access_token).cnf).toEqual({ 'x5t#S256': lab.thumbprint });

      // A client secret over a connection with a verified certificate: bound too (RFC 8705 §3).
      const b = await authorizationCode('web');
      const secretWithCert = await token(billing, { grant_type: 'authorization_code', code: b.code, redirect_uri: REDIRECT, code_verifier: b.verifier }, { authorization: basicAuth('web', webSecret) });
      expect(decodeJwt(secretWithCert.body.access_token).cnf).toEqual({ 'x5t#S256': billing.thumbprint });
      expect((await fhir(billing, secretWithCert.body.access_token)).status).toBe(200);
      expect((await fhir(lab, secretWithCert.body.access_token)).status).toBe(401);

      // Without a certificate (or with one the CA did not issue) the token is an ordinary bearer token.
      for (const identity of [undefined, impostor]) {
        const c = await authorizationCode('web');
        const plain = await token(identity, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, { authorization: basicAuth('web', webSecret) });
        expect(plain.status).toBe(200);
        expect(decodeJwt(plain.body.access_token).cnf).toBeUndefined();
        expect((await fhir(undefined, plain.body.access_token)).status).toBe(200);
      }
    });

    it('refuses a bound token at the EHR launch and admin endpoints without its certificate', async () => {
      const bound = await h.vault.tokens.issue({ subject: 'operator', scope: 'system/*.cruds', ttlSeconds: 300, certificateThumbprint: lab.thumbprint });
      const launch = async (identity?: TlsIdentity) =>
        json(await over(identity)(`${h.issuer}/oauth/launch`, { method: 'POST', headers: { authorization: `Bearer ${bound}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'patient=nobody' }));
      expect((await launch()).body.error).toBe('invalid_token');
      // With it, the token is good: the launch fails only for the unknown patient.
      expect((await launch(lab)).body).toEqual({ error: 'invalid_request', error_description: 'No such patient' });
      const admin = (identity?: TlsIdentity) => over(identity)(`${h.issuer}/admin/btg-reviews`, { headers: { authorization: `Bearer ${bound}` } });
      expect((await admin()).status).toBe(401);
      expect((await admin(lab)).status).toBe(200);
    });
  });
}
