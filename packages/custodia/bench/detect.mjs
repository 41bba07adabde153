// Detection figures for `npm run bench` (issue 6): our isolation forest against
// scikit-learn's, on the same NSL-KDD 20% rows, features and folds, in the same run.
// scikit-learn comes from Debian's python3-sklearn (scripts/install-sklearn.sh); without
// it only our own figures are reported, and the run says so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assignFolds, rocAuc, trainIsolationForest } from '../dist/detect/index.js';
import { seededRandom } from '../dist/kernel/index.js';
import { isolationForestScoring, nslKddFixture, selectRows } from './detect-iforest.mjs';

const PYTHON = process.env.CUSTODIA_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const FOLDS = 5;

/** Our 5-fold CV AUC (trained on the normal rows of the other folds), and the folds used. */
function ourAuc({ labels, matrix }) {
  const attack = labels.map((l) => l.attack);
  const fold = assignFolds(labels.map((l) => l.type), FOLDS, seededRandom('bench-folds'));
  const scores = new Float64Array(matrix.rows);
  for (let f = 0; f < FOLDS; f++) {
    const train = labels.flatMap((l, i) => (fold[i] !== f && !l.attack ? [i] : []));
    const test = labels.flatMap((_, i) => (fold[i] === f ? [i] : []));
    const forest = trainIsolationForest(selectRows(matrix, train), { random: seededRandom(`bench-fold-${f}`) });
    const held = forest.scoreBatch(selectRows(matrix, test).data, matrix.width);
    test.forEach((r, i) => (scores[r] = held[i]));
  }
  return { auc: rocAuc(scores, attack), fold, attack };
}

/** scikit-learn on the same matrix and folds; undefined when it is not installed. */
function sklearn(matrix, fold, attack, seconds) {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' });
  if (probe.status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'custodia-bench-detect-'));
  try {
    writeFileSync(join(dir, 'matrix.f64'), Buffer.from(matrix.data.buffer, matrix.data.byteOffset, matrix.data.byteLength));
    writeFileSync(join(dir, 'fold.i32'), Buffer.from(Int32Array.from(fold).buffer));
    writeFileSync(join(dir, 'attack.u8'), Buffer.from(Uint8Array.from(attack, (a) => (a ? 1 : 0))));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ rows: matrix.rows, width: matrix.width, folds: FOLDS }));
    // One core: no BLAS or OpenMP threads, n_jobs=1 in the script.
    const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const r = spawnSync(PYTHON, [fileURLToPath(new URL('./sklearn_detect.py', import.meta.url)), dir, String(seconds)], { env, encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`sklearn_detect.py failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** { ours: {auc, rowsPerSecond, trainMs}, sklearn?: {auc, rows_per_second, train_ms} } */
export function detectionFigures(seconds = 3) {
  const data = nslKddFixture();
  const { auc, fold, attack } = ourAuc(data);
  const speed = isolationForestScoring(seconds, data);
  return { ours: { auc, rowsPerSecond: speed.rowsPerSecond, trainMs: speed.trainMs }, sklearn: sklearn(data.matrix, fold, attack, seconds) };
}
