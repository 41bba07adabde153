/**
 * A running server's certificate is kept current (app/tls-renewal.ts): the self-signed
 * localhost certificate is re-issued near expiry, and replaced `--tls-cert/--tls-key` files
 * are read again, then served to new connections through setSecureContext — the server's own
 * options (server/http-server.ts secureContextOptions), as are replaced client CRLs. A
 * broken replacement keeps the current certificate. Connections verified under replaced
 * client lists are retired (server/tls-connections.ts). Real TLS connections on loopback.
 */
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { connect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, secureRandom } from '../../src/kernel/index.js';
import { ensureSelfSignedCertificate, prepareTlsMaterial, resolveConfig, selfSignedTlsFiles, startTlsRenewal, type TlsMaterial } from '../../src/app/index.js';
import { isRetiredConnection, secureContextOptions, trackConnections } from '../../src/server/index.js';
import { createTestCa, type Issued } from '../helpers/test-pki.js';

const DAY = 24 * 3600_000;
const dirs: string[] = [];
const servers: Server[] = [];
afterAll(() => {
  servers.forEach((s) => s.close());
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'custodia-tls-renewal-'));
  dirs.push(d);
  return d;
};

async function serve(m: TlsMaterial): Promise<{ server: Server; port: number }> {
  const server = createServer(secureContextOptions(m), (_req, res) => res.end('ok'));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** Whether a new connection presenting `client` is verified by the server, and why not. */
async function clientVerdict(port: number, client: Issued): Promise<{ authorized: boolean; error: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', cert: client.cert, key: client.key, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The SHA-256 fingerprint of the certificate a new connection is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('TLS certificate renewal while serving', () => {
  it('re-issues the self-signed certificate near expiry and serves it to new connections', async () => {
    const config = resolveConfig({ dataDir: tempDir(), tlsSelfSigned: true });
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const first = (await prepareTlsMaterial(config, clock, secureRandom))!;
    const { server, port } = await serve(first);
    const errors: unknown[] = [];
    const renewal = startTlsRenewal(config, first, { clock, random: secureRandom, intervalMs: 3600_000, apply: (m) => server.setSecureContext(secureContextOptions(m)), onError: (e) => errors.push(e) });
    try {
      expect(await servedFingerprint(port)).toBe(first.fingerprint);
      expect(await renewal.check()).toBeUndefined(); // 90 days left: kept
      clock.set(Date.UTC(2030, 0, 1) + 61 * DAY); // 29 days left: re-issued
      const renewed = await renewal.check();
      expect(renewed?.fingerprint).toBeDefined();
      expect(renewed!.fingerprint).not.toBe(first.fingerprint);
      expect(renewed!.notAfter.getTime()).toBe(Date.UTC(2030, 0, 1) + 61 * DAY + 90 * DAY);
      expect(await servedFingerprint(port)).toBe(renewed!.fingerprint);
      expect(errors).toEqual([]);
    } finally {
      renewal.stop();
    }
  });

  it('takes up a replaced client CRL: a certificate revoked meanwhile is unverified on new connections; an expired or broken list changes nothing', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.now());
    const ca = await createTestCa('Client CA');
    const lab = await ca.issue([{ CN: ['lab-system'] }]);
    const billing = await ca.issue([{ CN: ['billing'] }]);
    const caFile = join(dir, 'client-ca.pem');
    const crlFile = join(dir, 'client.crl');
    writeFileSync(caFile, ca.cert);
    writeFileSync(crlFile, await ca.revoke([billing]));
    const config = resolveConfig({ dataDir: dir, tlsSelfSigned: true, tlsClientCa: caFile, tlsClientCrl: crlFile });
    const first = (await prepareTlsMaterial(config, clock, secureRandom))!;
    const server = createServer({ ...secureContextOptions(first), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as unknown as { authorized: boolean; authorizationError: Error | string | null };
      res.end(JSON.stringify({ authorized: socket.authorized, error: socket.authorizationError === null ? null : String(socket.authorizationError) }));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const errors: unknown[] = [];
    const renewal = startTlsRenewal(config, first, { clock, random: secureRandom, intervalMs: 3600_000, apply: (m) => server.setSecureContext(secureContextOptions(m)), onError: (e) => errors.push(e) });
    try {
      expect(await clientVerdict(port, lab)).toEqual({ authorized: true, error: null });
      expect(await clientVerdict(port, billing)).toEqual({ authorized: false, error: 'CERT_REVOKED' });
      expect(await renewal.check()).toBeUndefined(); // nothing changed
      // The CA revokes the lab system's certificate too.
      writeFileSync(crlFile, await ca.revoke([billing, lab]));
      const revoked = await renewal.check();
      expect(revoked?.clientCrl).toBeDefined();
      expect(await clientVerdict(port, lab)).toEqual({ authorized: false, error: 'CERT_REVOKED' });
      // A half-written list, and a list past its nextUpdate: refused, the current one stays.
      writeFileSync(crlFile, '-----BEGIN X509 CRL-----\nMIIB\n');
      expect(await renewal.check()).toBeUndefined();
      writeFileSync(crlFile, await ca.revoke([], { thisUpdate: new Date(clock.now() - 7200_000), nextUpdate: new Date(clock.now() - 3600_000) }));
      expect(await renewal.check()).toBeUndefined();
      expect(errors.map((e) => String(e))).toEqual([expect.stringMatching(/not a certificate revocation list|holds no PEM CRL/), expect.stringMatching(/expired at/)]);
      expect(await clientVerdict(port, lab)).toEqual({ authorized: false, error: 'CERT_REVOKED' });
    } finally {
      renewal.stop();
    }
  });

  it('retires connections verified under replaced lists: an idle keep-alive one at once, a busy one after its response', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.now());
    const ca = await createTestCa('Client CA');
    const lab = await ca.issue([{ CN: ['lab-system'] }]);
    const caFile = join(dir, 'client-ca.pem');
    const crlFile = join(dir, 'client.crl');
    writeFileSync(caFile, ca.cert);
    writeFileSync(crlFile, await ca.revoke([]));
    const config = resolveConfig({ dataDir: dir, tlsSelfSigned: true, tlsClientCa: caFile, tlsClientCrl: crlFile });
    const first = (await prepareTlsMaterial(config, clock, secureRandom))!;
    let release: (() => void) | undefined;
    let busySocket: TLSSocket | undefined;
    // The verdict is taken when the request arrives, as the vault authenticates it; /slow is answered when released.
    const server = createServer({ ...secureContextOptions(first), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as TLSSocket;
      const body = JSON.stringify({ authorized: socket.authorized && !isRetiredConnection(socket), error: socket.authorizationError === null ? null : String(socket.authorizationError) });
      if (req.url === '/slow') {
        busySocket = socket;
        release = () => res.end(body);
      }
      else res.end(body);
    });
    // Fastify keeps idle connections 72 s: only the retirement can close one within the test.
    server.keepAliveTimeout = 72_000;
    const connections = trackConnections(server);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const renewal = startTlsRenewal(config, first, {
      clock,
      random: secureRandom,
      intervalMs: 3600_000,
      apply: (m) => {
        server.setSecureContext(secureContextOptions(m));
        connections.retireAll();
      },
      onError: (e) => {
        throw e;
      },
    });
    const agent = new Agent({ keepAlive: true, cert: lab.cert, key: lab.key, rejectUnauthorized: false });
    type Answer = { body: { authorized: boolean; error: string | null }; headers: IncomingHttpHeaders; closed: Promise<void> };
    const get = (path: string): Promise<Answer> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
          const closed = new Promise<void>((r) => res.socket.once('close', () => r()));
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ body: JSON.parse(text), headers: res.headers, closed }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      // A busy connection (/slow, not yet answered) and an idle keep-alive one, both verified.
      const slow = get('/slow');
      while (release === undefined) await new Promise((r) => setTimeout(r, 10));
      const idle = await get('/');
      expect(idle.body).toEqual({ authorized: true, error: null });
      expect(idle.headers.connection).toBe('keep-alive');
      // The CA revokes the lab system's certificate; the server takes the list up.
      writeFileSync(crlFile, await ca.revoke([lab]));
      expect(isRetiredConnection(busySocket!)).toBe(false);
      expect((await renewal.check())?.clientCrl).toBeDefined();
      // A request that still reached it would not count its certificate (server/client-certificate.ts).
      expect(isRetiredConnection(busySocket!)).toBe(true);
      await idle.closed; // closed at once
      release();
      const busy = await slow;
      expect(busy.body).toEqual({ authorized: true, error: null }); // authenticated before the list changed
      expect(busy.headers.connection).toBe('close');
      await busy.closed;
      // Whatever the client does next is a new handshake, under the new list.
      expect((await get('/')).body).toEqual({ authorized: false, error: 'CERT_REVOKED' });
    } finally {
      renewal.stop();
      agent.destroy();
    }
  });

  it('serves replaced --tls-cert/--tls-key files, and keeps the current pair when a replacement is broken', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const a = selfSignedTlsFiles(tempDir());
    const b = selfSignedTlsFiles(tempDir());
    await ensureSelfSignedCertificate(a, clock, secureRandom);
    await ensureSelfSignedCertificate(b, clock, secureRandom);
    const live = tempDir();
    const certFile = join(live, 'server.crt');
    const keyFile = join(live, 'server.key');
    const install = (from: { certFile: string; keyFile: string }, parts: 'both' | 'cert' = 'both'): void => {
      copyFileSync(from.certFile, certFile);
      if (parts === 'both') copyFileSync(from.keyFile, keyFile);
      chmodSync(keyFile, 0o600);
    };
    install(a);
    const config = resolveConfig({ dataDir: live, tlsCert: certFile, tlsKey: keyFile });
    const first = (await prepareTlsMaterial(config, clock, secureRandom))!;
    const { server, port } = await serve(first);
    const errors: unknown[] = [];
    const renewal = startTlsRenewal(config, first, { clock, random: secureRandom, intervalMs: 3600_000, apply: (m) => server.setSecureContext(secureContextOptions(m)), onError: (e) => errors.push(e) });
    try {
      install(b);
      const replaced = await renewal.check();
      expect(replaced).toBeDefined();
      expect(await servedFingerprint(port)).toBe(replaced!.fingerprint);
      // Only the certificate of another pair: it does not match the key. Refused, the pair before it stays.
      install(a, 'cert');
      expect(await renewal.check()).toBeUndefined();
      expect(errors).toHaveLength(1);
      expect(await servedFingerprint(port)).toBe(replaced!.fingerprint);
    } finally {
      renewal.stop();
    }
  });
});
