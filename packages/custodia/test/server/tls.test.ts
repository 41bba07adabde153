/**
 * `custodia serve --tls-cert/--tls-key`: HTTPS with TLS 1.2 or later, HSTS on every answer,
 * an https base URL (SMART discovery included); configuration mistakes are one-line
 * errors before the server starts. The transport does not depend on the database, so this
 * runs on SQLite only.
 */
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/index.js';
import { createVault, loadTlsMaterial, resolveConfig, type Vault } from '../../src/app/index.js';
import { freePort } from '../oauth/oauth-harness.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const CA = readFileSync(join(FIXTURES, 'localhost-test.crt'));
const dir = mkdtempSync(join(tmpdir(), 'custodia-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture pair, the key copied with mode 0600 (git keeps only 644/755). */
function material(keyMode = 0o600): { tlsCert: string; tlsKey: string } {
  const tlsKey = join(dir, `key-${keyMode.toString(8)}.pem`);
  copyFileSync(join(FIXTURES, 'localhost-test.key'), tlsKey);
  chmodSync(tlsKey, keyMode);
  return { tlsCert: join(FIXTURES, 'localhost-test.crt'), tlsKey };
}

function get(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: CA }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS', () => {
  let vault: Vault;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    const config = resolveConfig({ dataDir: join(dir, 'data'), port, logLevel: 'silent', ...material() });
    expect(config.fhirBaseUrl).toBe(`https://127.0.0.1:${port}/fhir`);
    vault = await createVault(config);
    app = buildServer(vault);
    await app.listen({ host: '127.0.0.1', port });
    base = config.fhirBaseUrl;
  });
  afterAll(async () => {
    await app?.close();
    await vault?.close();
  });

  it('serves the API over TLS with HSTS, and announces https endpoints', async () => {
    const r = await get(`${base}/metadata`);
    expect(r.status).toBe(200);
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const smart = JSON.parse((await get(`${base}/.well-known/smart-configuration`)).body) as { token_endpoint: string };
    expect(smart.token_endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/oauth\/token$/);
  });

  it('refuses TLS 1.1 and older in the handshake (minVersion TLSv1.2, also Node’s default)', async () => {
    const url = new URL(base);
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), ca: CA, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => {
        socket.end();
        resolve('connected');
      });
      socket.on('error', (e) => resolve(`refused: ${e.message}`));
    });
    expect(outcome).toMatch(/^refused/);
  });
});

describe('TLS configuration', () => {
  const invalid = expect.objectContaining({ code: 'config-invalid' });

  it('lets a non-loopback address serve only with TLS (or --insecure-http)', () => {
    expect(() => resolveConfig({ dataDir: dir, host: '0.0.0.0' })).toThrow(/give --tls-cert and --tls-key/);
    expect(resolveConfig({ dataDir: dir, host: '0.0.0.0', ...material() }).tls).toBeDefined();
  });

  it('needs both files, a private key of mode 0600, and real PEM', () => {
    expect(() => resolveConfig({ dataDir: dir, tlsCert: join(FIXTURES, 'localhost-test.crt') })).toThrow(/both --tls-cert and --tls-key/);
    expect(() => resolveConfig({ dataDir: dir }, { CUSTODIA_TLS_KEY: join(FIXTURES, 'localhost-test.key') })).toThrow(/both --tls-cert and --tls-key/);
    expect(() => loadTlsMaterial(resolveConfig({ dataDir: dir, ...material(0o644) }))).toThrow(/readable by other users/);
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate', { mode: 0o600 });
    expect(() => loadTlsMaterial(resolveConfig({ dataDir: dir, tlsCert: junk, tlsKey: material().tlsKey }))).toThrow(invalid);
    expect(() => loadTlsMaterial(resolveConfig({ dataDir: dir, tlsCert: join(FIXTURES, 'localhost-test.crt'), tlsKey: junk }))).toThrow(invalid);
    expect(() => loadTlsMaterial(resolveConfig({ dataDir: dir, tlsCert: join(dir, 'missing.pem'), tlsKey: material().tlsKey }))).toThrow(/cannot be read/);
  });

  it('reads the client CAs of mutual TLS (one or more PEM certificates), only with TLS', () => {
    const ca = join(dir, 'client-ca.pem');
    writeFileSync(ca, `${CA.toString()}\n${CA.toString()}`);
    const both = loadTlsMaterial(resolveConfig({ dataDir: dir, ...material(), tlsClientCa: ca }))!;
    expect(both.clientCa?.toString()).toContain('BEGIN CERTIFICATE');
    expect(resolveConfig({ dataDir: dir, ...material() }, { CUSTODIA_TLS_CLIENT_CA: ca }).tls?.clientCaFile).toBe(ca);
    expect(() => resolveConfig({ dataDir: dir, tlsClientCa: ca })).toThrow(/--tls-client-ca needs TLS/);
    const junk = join(dir, 'junk-ca.pem');
    writeFileSync(junk, 'no certificate here');
    expect(() => loadTlsMaterial(resolveConfig({ dataDir: dir, ...material(), tlsClientCa: junk }))).toThrow(/holds no PEM certificate/);
    writeFileSync(junk, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => loadTlsMaterial(resolveConfig({ dataDir: dir, ...material(), tlsClientCa: junk }))).toThrow(/not a certificate/);
  });

  it('takes client CRLs only with client CAs, from the option or CUSTODIA_TLS_CLIENT_CRL, and never serves without them', () => {
    const ca = join(dir, 'client-ca.pem');
    writeFileSync(ca, CA.toString());
    const crl = join(dir, 'client.crl');
    expect(() => resolveConfig({ dataDir: dir, ...material(), tlsClientCrl: crl })).toThrow(/--tls-client-crl needs --tls-client-ca/);
    expect(() => resolveConfig({ dataDir: dir, ...material() }, { CUSTODIA_TLS_CLIENT_CRL: crl })).toThrow(/--tls-client-crl needs --tls-client-ca/);
    const config = resolveConfig({ dataDir: dir, ...material(), tlsClientCa: ca }, { CUSTODIA_TLS_CLIENT_CRL: crl });
    expect(config.tls?.clientCrlFile).toBe(crl);
    // The synchronous reader cannot check the lists: it refuses rather than serve without them.
    expect(() => loadTlsMaterial(config)).toThrow(/prepareTlsMaterial/);
  });
});
