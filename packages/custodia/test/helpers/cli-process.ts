/**
 * The built `custodia` binary in a child process, as users run it (`npm run build`
 * first): one-shot commands, and `serve` on a free port until it says where it listens.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/custodia.mjs', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `custodia <args>` to its end (SQLite unless env names a database). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CUSTODIA_DATABASE_URL: '', ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  readonly server: ChildProcess;
  readonly port: number;
  /** The FHIR base URL it printed. */
  readonly base: string;
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Ends it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * `custodia serve --port <free> --log-level silent <args>`, resolved once stdout matches
 * `ready` (by default, once it prints its base URL).
 */
export async function serveCli(args: string[], env: NodeJS.ProcessEnv = {}, ready: RegExp = /listening at (\S+)/): Promise<RunningServer> {
  const port = await freePort();
  const server = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--log-level', 'silent', ...args], { env: { ...process.env, CUSTODIA_DATABASE_URL: '', ...env } });
  let out = '';
  let err = '';
  server.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const base = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening at (\S+)/.exec(out);
      if (m !== null && ready.test(out)) resolve(m[1]!);
    });
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return {
    server,
    port,
    base,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
      await exited;
    },
  };
}
