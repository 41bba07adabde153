/**
 * Transport security as `custodia serve` sets it up (issue 4 §5): the self-signed
 * localhost certificate of --tls-self-signed (made on first start, kept on the next,
 * fingerprint printed for pinning), TLS 1.2 as the floor, HSTS, and the refusal to serve
 * plain HTTP on a non-loopback address unless --insecure-http (or CUSTODIA_INSECURE_HTTP=1)
 * says so, loudly. The built binary in a child process, real TLS clients.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, serveCli } from '../helpers/cli-process.js';
import { httpsFetch } from '../helpers/https-client.js';
import { createTestCa } from '../helpers/test-pki.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('custodia-transport-');

interface Handshake {
  readonly protocol: string | null;
  readonly peer: X509Certificate | undefined;
}

/** A TLS handshake with `ca` as the only trust anchor, checking the host name `servername`. */
function handshake(port: number, o: { ca: Buffer; host?: string; servername?: string; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' }): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: o.host ?? '127.0.0.1', port, ca: o.ca, ...(o.servername === undefined ? {} : { servername: o.servername }), ...(o.maxVersion === undefined ? {} : { maxVersion: o.maxVersion, minVersion: 'TLSv1' as const }) },
      () => {
        const result = { protocol: socket.getProtocol(), peer: socket.getPeerX509Certificate() };
        socket.end();
        resolve(result);
      },
    );
    socket.on('error', reject);
  });
}

function get(url: string, ca: Buffer): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serve --tls-self-signed', () => {
  it('makes a P-256 certificate for localhost, 127.0.0.1 and ::1, serves TLS ≥ 1.2 with HSTS, and prints its fingerprint', async () => {
    const d = tempDir();
    const s = await serveCli(['--data-dir', d, '--tls-self-signed'], {}, /SHA-256 fingerprint: (\S+)/);
    try {
      expect(s.base).toBe(`https://127.0.0.1:${s.port}/fhir`);
      const keyFile = join(d, 'keys', 'tls', 'localhost.key');
      const certPem = readFileSync(join(d, 'keys', 'tls', 'localhost.crt'));
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(d, 'keys', 'tls')).mode & 0o077).toBe(0);
      const printed = /SHA-256 fingerprint: (\S+)/.exec(s.stdout())![1];
      expect(s.stdout()).toMatch(/self-signed for localhost, 127\.0\.0\.1 and ::1, newly issued/);

      // The generated certificate is the client's only trust anchor; the host name is checked.
      for (const servername of ['localhost', undefined]) {
        const h = await handshake(s.port, { ca: certPem, ...(servername === undefined ? {} : { servername }) });
        expect(h.protocol).toBe('TLSv1.3');
        expect(h.peer!.fingerprint256).toBe(printed);
        expect(h.peer!.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
        expect(h.peer!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
        expect(Date.parse(h.peer!.validTo) - Date.now()).toBeGreaterThan(89 * 24 * 3600_000);
      }
      // It is for localhost only: another name fails the client's host name check.
      await expect(handshake(s.port, { ca: certPem, servername: 'vault.example.org' })).rejects.toThrow(/altnames|Hostname/i);
      // TLS 1.2 is accepted, 1.1 and older never.
      expect((await handshake(s.port, { ca: certPem, servername: 'localhost', maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2');
      await expect(handshake(s.port, { ca: certPem, servername: 'localhost', maxVersion: 'TLSv1.1' })).rejects.toThrow(/protocol/i);

      const r = await get(`${s.base}/metadata`, certPem);
      expect(r.status).toBe(200);
      expect(r.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await s.stop();
    }

    // CUSTODIA_TLS_SELF_SIGNED=1 the next time: the same certificate, not a new one.
    const again = await serveCli(['--data-dir', d], { CUSTODIA_TLS_SELF_SIGNED: '1' }, /SHA-256 fingerprint: (\S+)/);
    try {
      expect(again.stdout()).not.toMatch(/newly issued/);
      const pem = readFileSync(join(d, 'keys', 'tls', 'localhost.crt'));
      expect((await handshake(again.port, { ca: pem })).peer!.fingerprint256).toBe(new X509Certificate(pem).fingerprint256);
      expect(again.stdout()).toContain(new X509Certificate(pem).fingerprint256);
    } finally {
      await again.stop();
    }
  });

  it('refuses --tls-self-signed together with --tls-cert, and a flag value that is not 1 or 0', () => {
    const d = tempDir();
    for (const [args, env, message] of [
      [['--tls-self-signed', '--tls-cert', 'a.pem', '--tls-key', 'b.pem'], {}, /--tls-cert and --tls-key, or --tls-self-signed, not both/],
      [[], { CUSTODIA_TLS_SELF_SIGNED: 'maybe' }, /CUSTODIA_TLS_SELF_SIGNED must be 1 or 0/],
      [['--tls-client-ca', 'ca.pem'], {}, /--tls-client-ca needs TLS/],
    ] as const) {
      const r = runCli(['serve', '--data-dir', d, ...args], env);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('plain HTTP off loopback', () => {
  it('is refused with a one-line message and exit code 2, without TLS or --insecure-http', () => {
    for (const env of [{}, { CUSTODIA_INSECURE_HTTP: '0' }]) {
      const r = runCli(['serve', '--data-dir', tempDir(), '--host', '0.0.0.0'], env);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^custodia: Refusing to serve plain HTTP on 0\.0\.0\.0: .*--insecure-http/);
    }
    const bad = runCli(['serve', '--data-dir', tempDir(), '--host', '0.0.0.0'], { CUSTODIA_INSECURE_HTTP: 'please' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/CUSTODIA_INSECURE_HTTP must be 1 or 0/);
  });

  it('is served with --insecure-http or CUSTODIA_INSECURE_HTTP=1, with a warning on stderr', async () => {
    for (const [args, env] of [
      [['--insecure-http'], {}],
      [[], { CUSTODIA_INSECURE_HTTP: '1' }],
    ] as const) {
      const s = await serveCli(['--data-dir', tempDir(), '--host', '0.0.0.0', ...args], env);
      try {
        expect(s.base).toBe(`http://0.0.0.0:${s.port}/fhir`);
        // Only ever spoken to over loopback here.
        expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
        await expect.poll(() => s.stderr()).toMatch(/^custodia: WARNING: Serving PLAIN HTTP on 0\.0\.0\.0:\d+ \(--insecure-http\)/m);
      } finally {
        await s.stop();
      }
    }
  });

  it('gives no warning on loopback, where plain HTTP never leaves the machine', async () => {
    const s = await serveCli(['--data-dir', tempDir(), '--insecure-http']);
    try {
      expect((await fetch(`${s.base}/metadata`)).status).toBe(200);
      expect(s.stderr()).toBe('');
    } finally {
      await s.stop();
    }
  });
});

describe('mutual TLS from the command line', () => {
  it('registers a client by certificate subject and serves it with --tls-client-ca', async () => {
    const d = tempDir();
    const added = runCli(['client', 'add', '--data-dir', d, '--client-id', 'lab', '--name', 'Lab system', '--tls-subject-dn', 'cn=lab-system, O=Hospital', '--scope', 'system/Patient.rs']);
    expect(added.code).toBe(0);
    expect(added.stdout).toBe('Client lab added: confidential-asymmetric (tls_client_auth).\nIt authenticates with a client certificate, issued by a --tls-client-ca CA, whose subject is: CN=lab-system,O=Hospital\n');
    for (const bad of [['--tls-subject-dn', 'lab-system'], ['--tls-subject-dn', 'CN=a', '--public', '--redirect-uri', 'http://127.0.0.1/cb']]) {
      const r = runCli(['client', 'add', '--data-dir', d, '--client-id', 'x', '--name', 'X', ...bad]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }

    const ca = await createTestCa('CLI Test CA');
    const lab = await ca.issue([{ O: ['Hospital'] }, { CN: ['lab-system'] }]);
    const caFile = join(d, 'client-ca.pem');
    writeFileSync(caFile, ca.cert);
    const s = await serveCli(['--data-dir', d, '--tls-self-signed'], { CUSTODIA_TLS_CLIENT_CA: caFile }, /Mutual TLS/);
    try {
      const serverCert = readFileSync(join(d, 'keys', 'tls', 'localhost.crt'));
      const res = await httpsFetch(serverCert, lab)(`https://127.0.0.1:${s.port}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=lab&scope=system%2FPatient.rs',
      });
      expect(res.status).toBe(200);
      const { access_token } = (await res.json()) as { access_token: string };
      expect((await httpsFetch(serverCert, lab)(`${s.base}/Patient`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(200);
      expect((await httpsFetch(serverCert)(`${s.base}/Patient`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(401);
    } finally {
      await s.stop();
    }
    const missing = runCli(['serve', '--data-dir', d, '--tls-self-signed', '--tls-client-ca', join(d, 'nope.pem')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/client CA file .*nope\.pem cannot be read/);
  });
});
