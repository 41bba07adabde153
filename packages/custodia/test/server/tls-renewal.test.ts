/**
 * A running server's certificate is kept current (app/tls-renewal.ts): the self-signed
 * localhost certificate is re-issued near expiry, and replaced `--tls-cert/--tls-key` files
 * are read again, then served to new connections through setSecureContext — the server's own
 * options (server/http-server.ts secureContextOptions). A broken replacement keeps the
 * current certificate. Real TLS connections on loopback.
 */
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, secureRandom } from '../../src/kernel/index.js';
import { ensureSelfSignedCertificate, prepareTlsMaterial, resolveConfig, selfSignedTlsFiles, startTlsRenewal, type TlsMaterial } from '../../src/app/index.js';
import { secureContextOptions } from '../../src/server/index.js';

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
