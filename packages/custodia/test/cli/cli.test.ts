/**
 * The `custodia` command as users run it: the built binary in a child process.
 * (`npm test` builds first.)
 */
import { decodeJwt } from 'jose';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../helpers/temp-dirs.js';
import { createTestCa } from '../helpers/test-pki.js';

const BIN = fileURLToPath(new URL('../../bin/custodia.mjs', import.meta.url));
const tempDir = tempDirs('custodia-cli-');

function run(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CUSTODIA_DATABASE_URL: '', ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `custodia serve` on a free port, once it says where it listens (and, with `until`, once its output matches that too). */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}, until?: RegExp): Promise<{ server: ChildProcess; port: number; base: string; out: string }> {
  const port = await freePort();
  const server = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--log-level', 'silent', ...args], { env: { ...process.env, CUSTODIA_DATABASE_URL: '', ...env } });
  let out = '';
  const base = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening at (\S+)/.exec(out);
      if (m && (until === undefined || until.test(out))) resolve(m[1]!);
    });
    server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { server, port, base, out };
}

const patientLine = (id: string, family: string) => JSON.stringify({ resourceType: 'Patient', id, name: [{ family }] });

describe('custodia CLI', () => {
  it('prints help with every command', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['serve', 'import', 'token', 'login']) expect(r.stdout).toContain(c);
  });

  it('refuses a login it cannot do with exit code 2 and one line: bad options, no vault there', () => {
    for (const args of [['--timeout', 'soon'], ['--port', '99999'], ['--fhir-url', 'not a url']]) {
      const r = run(['login', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    // Port 9 (discard) on loopback: nothing listens there.
    const r = run(['login', '--fhir-url', 'http://127.0.0.1:9/fhir']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^custodia: Cannot reach the vault at http:\/\/127\.0\.0\.1:9\/fhir\n$/);
  });

  it('refuses bad usage with exit code 2 and a one-line message', () => {
    const r = run(['token', '--ttl', 'forever', '--data-dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(run(['no-such-command']).code).toBe(2);
    const insecure = run(['serve', '--data-dir', tempDir(), '--host', '0.0.0.0']);
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toMatch(/plain HTTP/);
    for (const [args, env, message] of [
      [['--cors-origin', '*'], {}, /CORS origin "\*": wildcards are not allowed/],
      [[], { CUSTODIA_CORS_ORIGINS: 'https://ok.example,http://app.example' }, /CORS origin "http:\/\/app.example": must be https/],
      [['--rate-limit', 'user=lots'], {}, /rate limit "user=lots"/],
      [['--answer-floor', '25ms'], {}, /answer floor must be a whole number of milliseconds from 0 to 1000/],
      [['--trust-proxy', 'proxy.example'], {}, /trusted proxy "proxy.example": not an IP address or CIDR range/],
      [['--tls-cert', '/nonexistent/cert.pem'], {}, /TLS needs both --tls-cert and --tls-key/],
      [[], { CUSTODIA_TRUSTED_PROXIES: '0.0.0.0/0' }, /trusted proxy "0.0.0.0\/0": a \/0 range would trust every client/],
    ] as const) {
      const r = run(['serve', '--data-dir', tempDir(), ...args], env);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it('serves mutual TLS with client CRLs, and refuses to start on a list that would refuse every client', async () => {
    const d = tempDir();
    const ca = await createTestCa('Hospital Client CA');
    const caFile = join(d, 'client-ca.pem');
    const crlFile = join(d, 'client.crl');
    writeFileSync(caFile, ca.cert);
    writeFileSync(crlFile, await ca.revoke([], { thisUpdate: new Date(Date.now() - 7200_000), nextUpdate: new Date(Date.now() - 3600_000) }));
    const tls = ['--data-dir', d, '--tls-self-signed', '--tls-client-ca', caFile];
    const expired = run(['serve', ...tls, '--tls-client-crl', crlFile]);
    expect(expired.code).toBe(2);
    expect(expired.stderr.trim().split('\n')).toHaveLength(1);
    expect(expired.stderr).toMatch(/CRL 1 of .*client\.crl \(issuer CN=Hospital Client CA\) expired at/);
    expect(run(['serve', '--data-dir', d, '--tls-self-signed', '--tls-client-crl', crlFile]).stderr).toMatch(/--tls-client-crl needs --tls-client-ca/);
    writeFileSync(crlFile, await ca.revoke([]));
    const { server, out } = await serve([...tls, '--log-level', 'info'], { CUSTODIA_TLS_CLIENT_CRL: crlFile }, /Revocation: .*\n/);
    try {
      expect(out).toMatch(/Revocation: client certificates are checked against --tls-client-crl \(replace it before \d{4}-\d\d-\d\dT[\d:.]+Z; it is read again every 5 minutes, or at once on SIGHUP\)/);
      // A revocation that cannot wait 5 minutes: replace the list and send SIGHUP (which no longer ends the server).
      let later = '';
      server.stdout!.on('data', (c: Buffer) => (later += c.toString()));
      writeFileSync(crlFile, await ca.revoke([await ca.issue([{ CN: ['stolen-tablet'] }])]));
      server.kill('SIGHUP');
      const deadline = Date.now() + 20_000;
      while (!later.includes('TLS material renewed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(later).toContain('TLS material renewed');
      expect(later).toMatch(/"changed":true[^\n]*SIGHUP: TLS files read again/);
      expect(server.exitCode).toBeNull();
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('revokes a token a running server accepts, read from a file or stdin, never from the command line', async () => {
    const d = tempDir();
    expect(run(['user', 'add', '--data-dir', d, '--username', 'ivy', '--role', 'clinician']).code).toBe(0);
    const { server, base } = await serve(['--data-dir', d]);
    try {
      const operator = run(['token', '--data-dir', d]).stdout.trim();
      const user = run(['token', '--data-dir', d, '--user', 'ivy']).stdout.trim();
      const get = async (token: string) => (await fetch(`${base}/Patient`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect([await get(operator), await get(user)]).toEqual([200, 200]);
      const file = join(d, 'leaked.txt');
      writeFileSync(file, `${user}\n`);
      const byFile = run(['token', 'revoke', '--data-dir', d, '--token-file', file]);
      expect(byFile.code, byFile.stderr).toBe(0);
      expect(byFile.stdout).toMatch(/^Revoked token [0-9a-f-]{36} \(user token of [0-9a-f-]+\); it stays refused until it would have expired, \d{4}-/);
      expect([await get(operator), await get(user)]).toEqual([200, 401]);
      const byStdin = spawnSync(process.execPath, [BIN, 'token', 'revoke', '--data-dir', d, '--token-file', '-'], { input: operator, encoding: 'utf8', env: { ...process.env, CUSTODIA_DATABASE_URL: '' } });
      expect(byStdin.status, byStdin.stderr).toBe(0);
      expect(byStdin.stdout).toMatch(/\(operator token of operator\)/);
      expect(await get(operator)).toBe(401);
      // By the id an AuditEvent shows (agent.policy), for an operator who does not have the token.
      const second = run(['token', '--data-dir', d, '--user', 'ivy']).stdout.trim();
      expect(await get(second)).toBe(200);
      const policy = `urn:ietf:params:oauth:jti:${decodeJwt(second).jti}`;
      const byId = run(['token', 'revoke', '--data-dir', d, '--jti', policy]);
      expect(byId.code, byId.stderr).toBe(0);
      expect(byId.stdout).toMatch(/^Revoked token id [0-9a-f-]{36}: servers refuse it from their next request, until it would have expired \(\d{4}-/);
      expect(await get(second)).toBe(401);
      // An id this vault never issued (a typo) is refused, and nothing is revoked; --unrecorded lists it anyway.
      const real = decodeJwt(operator).jti!;
      const typo = `${real.slice(0, -1)}${real.endsWith('0') ? '1' : '0'}`;
      const unknown = run(['token', 'revoke', '--data-dir', d, '--jti', typo]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/^custodia: This vault has no record of issuing a token with that id .*nothing was revoked\n$/);
      const forced = run(['token', 'revoke', '--data-dir', d, '--jti', typo, '--unrecorded']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stdout).toMatch(/^Revoked token id \S+, which this vault has no record of issuing: .* until \d{4}-/);
      // Not a token of this vault (another data directory's key), no file: one line, exit 2.
      const elsewhere = tempDir();
      writeFileSync(join(elsewhere, 'token.txt'), run(['token', '--data-dir', elsewhere]).stdout);
      for (const [args, message] of [
        [['--token-file', join(elsewhere, 'token.txt')], /not signed by this vault's key/],
        [['--token-file', join(d, 'missing.txt')], /The token file .* cannot be read/],
        [[], /Give the token \(--token-file FILE, or - for standard input\) or its id \(--jti ID\), not both/],
        [['--token-file', join(d, 'leaked.txt'), '--jti', 'abc'], /not both/],
        [['--jti', 'two words'], /A token id is 1 to 256 printable ASCII characters/],
        [['--token-file', join(d, 'leaked.txt'), '--unrecorded'], /--unrecorded goes with --jti/],
      ] as const) {
        const r = run(['token', 'revoke', '--data-dir', d, ...args]);
        expect(r.code).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(message);
      }
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('ends a running server’s acceptance of a user’s tokens when another process disables the account', async () => {
    const d = tempDir();
    expect(run(['user', 'add', '--data-dir', d, '--username', 'ivy', '--role', 'clinician']).code).toBe(0);
    const { server, base } = await serve(['--data-dir', d]);
    try {
      const token = run(['token', '--data-dir', d, '--user', 'ivy']).stdout.trim();
      const get = async () => (await fetch(`${base}/Patient`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect(await get()).toBe(200);
      // The administration scope is for administrative roles only.
      const refused = run(['token', '--data-dir', d, '--user', 'ivy', '--scope', 'user/*.rs custodia/admin']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/custodia\/admin is only for admin and privacy-officer users/);
      expect(run(['user', 'disable', '--data-dir', d, '--username', 'ivy']).code).toBe(0);
      expect(await get()).toBe(401);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('serves CORS for --cors-origin (repeatable) and applies --rate-limit', async () => {
    const d = tempDir();
    const { server, base } = await serve(['--data-dir', d, '--cors-origin', 'https://a.example', '--cors-origin', 'http://localhost:3000', '--rate-limit', 'user=0.01/2']);
    try {
      const metadata = await fetch(`${base}/metadata`, { headers: { origin: 'http://localhost:3000' } });
      expect(metadata.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
      expect(((await metadata.json()) as { rest: [{ security: { cors: boolean } }] }).rest[0].security.cors).toBe(true);
      const preflight = await fetch(`${base}/Patient`, { method: 'OPTIONS', headers: { origin: 'https://a.example', 'access-control-request-method': 'GET' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://a.example');
      expect(run(['user', 'add', '--data-dir', d, '--username', 'nia', '--role', 'clinician']).code).toBe(0);
      const token = run(['token', '--data-dir', d, '--user', 'nia']).stdout.trim();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/Patient`, { headers: { authorization: `Bearer ${token}` } })).status);
      // A burst of 2, then one per 100 seconds: the third request in a row is refused.
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('mints a token from a key file only its owner can read', () => {
    const d = tempDir();
    const r = run(['token', '--data-dir', d, '--scope', 'system/Patient.rs', '--ttl', '10m']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(statSync(join(d, 'keys', 'token-signing.jwk')).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'keys')).mode & 0o777).toBe(0o700);
  });

  it('imports NDJSON, reports bad lines as file:line, exits 1, and serves what it imported', async () => {
    const d = tempDir();
    const file = join(d, 'Patient.ndjson');
    writeFileSync(file, [patientLine('p-1', 'Alpha'), '{not json', patientLine('p-2', 'Beta'), JSON.stringify({ resourceType: 'Patient', id: 'p-3', birthDate: 'soon' }), ''].join('\n'));
    const r = run(['import', file, '--data-dir', d]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Patient.ndjson:2: not valid JSON');
    expect(r.stderr).toMatch(/Patient\.ndjson:4: Patient\.birthDate/);
    expect(r.stdout).toMatch(/Imported 2 resources/);

    const { server, port, base } = await serve(['--data-dir', d]);
    try {
      expect(base).toBe(`http://127.0.0.1:${port}/fhir`);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/Patient`)).status).toBe(401);
      const token = run(['token', '--data-dir', d]).stdout.trim();
      const res = await fetch(`${base}/Patient?_summary=count`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await res.json()) as { total: number }).total).toBe(2);

      // Import through the running server, keeping ids.
      const more = join(d, 'more.ndjson');
      writeFileSync(more, `${patientLine('p-4', 'Gamma')}\n${JSON.stringify({ resourceType: 'Patient', id: 'p-5', birthDate: 'tomorrow' })}\n`);
      const remote = run(['import', more, '--server', base, '--token', token]);
      expect(remote.code).toBe(1);
      expect(remote.stderr).toMatch(/more\.ndjson:2:/);
      const p4 = await fetch(`${base}/Patient/p-4`, { headers: { authorization: `Bearer ${token}` } });
      expect(p4.status).toBe(200);
    } finally {
      server.kill('SIGTERM');
    }
  });
});
