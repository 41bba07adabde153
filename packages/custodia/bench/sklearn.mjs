// scikit-learn's side of the detection benches (Debian's python3-sklearn,
// scripts/install-sklearn.sh): which Python runs it, whether it has scikit-learn, and
// running one of this directory's scripts on arrays written to a temporary directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.CUSTODIA_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/** Why scikit-learn cannot run here, or undefined when it can. */
export function sklearnMissing() {
  if (spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0) return undefined;
  return `scikit-learn is not installed for ${PYTHON} (bash packages/custodia/scripts/install-sklearn.sh)`;
}

/**
 * Runs `script` (a file of this directory) with a temporary directory holding `files`
 * (name → typed array, written as its bytes, or string) and `args`; its stdout as JSON.
 * One core: no BLAS or OpenMP threads (the scripts pass n_jobs=1), and no bytecode cache
 * written beside the scripts.
 */
export function runSklearn(script, files, args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'custodia-bench-sklearn-'));
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' };
    const r = spawnSync(PYTHON, [fileURLToPath(new URL(`./${script}`, import.meta.url)), dir, ...args.map(String)], { env, encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
