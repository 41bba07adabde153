/**
 * The `custodia` command as users run it: the built binary in a child process.
 * (`npm test` builds first.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/custodia.mjs', import.meta.url));
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'custodia-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

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

    const port = await freePort();
    const server = spawn(process.execPath, [BIN, 'serve', '--data-dir', d, '--port', String(port), '--log-level', 'silent'], { env: { ...process.env, CUSTODIA_DATABASE_URL: '' } });
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening at (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        server.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
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
