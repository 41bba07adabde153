/**
 * The built `custodia` binary in a child process, as an operator runs it (`npm run build`
 * first: bin/custodia.mjs runs dist/). The child gets this process's environment without
 * any CUSTODIA_* setting, so that a developer's shell cannot point it at another database,
 * schema or retention policy; `env` adds what a test means to set.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const CUSTODIA_BIN = fileURLToPath(new URL('../../bin/custodia.mjs', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCustodia(args: readonly string[], env: Record<string, string> = {}): CliRun {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CUSTODIA_')));
  const r = spawnSync(process.execPath, [CUSTODIA_BIN, ...args], { encoding: 'utf8', input: '', env: { ...clean, ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A refusal or usage error as the CLI promises them: exit 2, one line on stderr, no stack trace, nothing on stdout. */
export function expectOneLineError(r: CliRun, message: RegExp | string): void {
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
}

/** Loads `resources` into a new vault in `dataDir` with `custodia import`, as an operator would (an NDJSON file in `dir`). */
export function importWithCli(dir: string, dataDir: string, resources: readonly unknown[]): void {
  const file = join(dir, 'records.ndjson');
  writeFileSync(file, `${resources.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const r = runCustodia(['import', '--data-dir', dataDir, file]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^Imported ${resources.length} resources`));
}
