// Isolation-forest scoring throughput on one core (issue 6 target: ≥ 200,000 rows/s for
// ~41 features). Trains on the normal rows of the NSL-KDD 20% fixture (t = 100, ψ = 256,
// the paper's defaults, or the ψ given: the detectors' is 1024), then scores all 25,192
// rows with scoreBatch, repeatedly, for about CUSTODIA_BENCH_SECONDS (default 3) seconds,
// and reports the median of the runs.
// Run after `npm run build`:  node packages/custodia/bench/detect-iforest.mjs
import { readFileSync } from 'node:fs';
import { FeatureEncoder, NSL_KDD_SCHEMA, nslKddLabel, nslKddRow, trainIsolationForest } from '../dist/detect/index.js';
import { seededRandom } from '../dist/kernel/index.js';

const FIXTURE = new URL('../test/fixtures/nsl-kdd/KDDTrain+_20Percent.txt', import.meta.url);

/** The fixture's rows encoded under the detection schema ({ data, rows, width }), and each row's label. */
export function nslKddFixture() {
  const records = readFileSync(FIXTURE, 'utf8').trim().split('\n').map((l) => nslKddRow(l.split(',')));
  const labels = records.map((r) => nslKddLabel(r.label ?? ''));
  return { labels, matrix: new FeatureEncoder(NSL_KDD_SCHEMA).encodeAll(records.map((r) => r.features)) };
}

/** The rows of `matrix` at `pick`, as a new matrix. */
export function selectRows(matrix, pick) {
  const data = new Float64Array(pick.length * matrix.width);
  pick.forEach((r, i) => data.set(matrix.data.subarray(r * matrix.width, (r + 1) * matrix.width), i * matrix.width));
  return { data, rows: pick.length, width: matrix.width };
}

/** { rowsPerSecond, rows, width, trainMs } for scoreBatch over the fixture. */
export function isolationForestScoring(seconds = 3, { labels, matrix: all } = nslKddFixture(), subsampleSize = 256) {
  const normal = selectRows(all, labels.flatMap((l, i) => (l.attack ? [] : [i])));
  const t0 = performance.now();
  const forest = trainIsolationForest(normal, { random: seededRandom('bench'), subsampleSize });
  const trainMs = performance.now() - t0;
  const out = new Float64Array(all.rows);
  const rates = [];
  const until = performance.now() + seconds * 1000;
  forest.scoreBatch(all.data, all.width, out); // warm-up
  while (performance.now() < until) {
    const s = performance.now();
    forest.scoreBatch(all.data, all.width, out);
    rates.push(all.rows / ((performance.now() - s) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { rowsPerSecond: rates[Math.floor(rates.length / 2)], runs: rates.length, rows: all.rows, width: all.width, trainMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = isolationForestScoring(Number(process.env.CUSTODIA_BENCH_SECONDS ?? 3));
  process.stdout.write(`${JSON.stringify({ name: 'detect.iforest.score', value: Math.round(r.rowsPerSecond), unit: 'rows/s', runs: r.runs, rows: r.rows, width: r.width, train_ms: Math.round(r.trainMs) })}\n`);
}
