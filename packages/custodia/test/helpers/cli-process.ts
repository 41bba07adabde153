/**
 * The built `custodia` binary in a child process, as users run it (`npm run build`
 * first): one-shot commands, and `serve` on a free port until it says where it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CUSTODIA_BIN } from './spawn-cli.js';
import { freePort } from './free-port.js';

/** One-shot commands: spawn-cli.ts's runCustodia (the child gets no CUSTODIA_* setting the test did not give it). */
export { runCustodia as runCli, type CliRun as CliResult } from './spawn-cli.js';

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
  const server = spawn(process.execPath, [CUSTODIA_BIN, 'serve', '--port', String(port), '--log-level', 'silent', ...args], { env: { ...process.env, CUSTODIA_DATABASE_URL: '', ...env } });
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
