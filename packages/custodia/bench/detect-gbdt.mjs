// The supervised detector of issue 6: gradient-boosted trees trained and scored in
// TypeScript. Measures training time and scoring throughput (rows/s, one core, the
// calling thread) on seeded synthetic data of 40 features, for a binary model of 300
// trees and a 5-class model of 60 rounds × 5 trees, with Float64Array and Float32Array
// input. Run `npm run build` first; then `node packages/custodia/bench/detect-gbdt.mjs`.
import { denseMatrix, trainGbdt, UniformRandom } from '../dist/detect/index.js';
import { seededRandom } from '../dist/kernel/index.js';

const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const FEATURES = 40;

/** Uniform numbers in [0, 1) from the kernel's seeded source. */
function uniform(seed) {
  const u = new UniformRandom(seededRandom(`bench-gbdt-${seed}`));
  return () => u.next();
}

/** Rows of 40 features (some heavy-tailed, some discrete, 2% missing) and a nonlinear label in `classes` classes. */
export function syntheticFlows(rows, classes, seed) {
  const u = uniform(seed);
  const data = new Float64Array(rows * FEATURES);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * FEATURES;
    for (let f = 0; f < FEATURES; f++) {
      const v = f % 3 === 0 ? -Math.log(1 - u()) * 1000 : f % 3 === 1 ? Math.floor(u() * 8) : u();
      data[o + f] = u() < 0.02 ? NaN : v;
    }
    const s = Math.sin(3 * (data[o + 2] || 0)) + ((data[o] || 0) > 700 ? 1 : 0) * ((data[o + 1] || 0) > 3 ? 1 : -1) + (data[o + 5] || 0) * (data[o + 8] || 0) + 0.3 * (u() - 0.5);
    y[r] = Math.min(classes - 1, Math.max(0, Math.floor(((s + 1.5) / 4) * classes)));
  }
  return { x: denseMatrix(data, FEATURES), y };
}

/** Runs `f`: its value, wall seconds and CPU seconds of this process (on a shared machine, CPU time is the fairer "one core" figure). */
function time(f) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const v = f();
  const c = process.cpuUsage(c0);
  return [v, Number(process.hrtime.bigint() - t0) / 1e9, (c.user + c.system) / 1e6];
}

/** Best of `repeat` runs of scoring all of `x`: rows per wall second and per CPU second. */
function scoringRate(model, x, repeat = 5) {
  let wall = Infinity;
  let cpu = Infinity;
  for (let i = 0; i < repeat; i++) {
    const [, w, c] = time(() => model.predictRaw(x));
    wall = Math.min(wall, w);
    cpu = Math.min(cpu, c);
  }
  return { wall: Math.round(x.rows / wall), cpu: Math.round(x.rows / cpu) };
}

/** How fast this core is right now: ns per element of a plain Float64Array sum (about 0.3–1 ns on an idle modern core). */
export function calibrate() {
  const a = Float64Array.from({ length: 1 << 16 }, (_, i) => i * 0.5);
  const sum = () => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i];
    return s;
  };
  for (let r = 0; r < 50; r++) sum();
  const [, , cpu] = time(() => {
    for (let r = 0; r < 200; r++) sum();
  });
  return (cpu * 1e9) / (200 * a.length);
}

export function gbdtBench({ trainRows = 20_000, scoreRows = 200_000 } = {}) {
  const out = { nsPerFloatAdd: calibrate() };
  log(`calibration: ${out.nsPerFloatAdd.toFixed(2)} ns per element of a Float64Array sum`);
  for (const [name, classes, rounds] of [['binary', 2, 300], ['multiclass-5', 5, 60]]) {
    const train = syntheticFlows(trainRows, classes, 1);
    const [t, seconds, cpuSeconds] = time(() => trainGbdt(train.x, train.y, { rounds, numLeaves: 31, random: seededRandom(1) }));
    const test = syntheticFlows(scoreRows, classes, 2);
    const x32 = denseMatrix(Float32Array.from(test.x.data), FEATURES);
    const nodes = t.model.trees.map((tr) => tr.feature.length);
    const r = {
      trees: t.model.trees.length,
      meanNodes: nodes.reduce((a, b) => a + b, 0) / nodes.length,
      trainRows,
      trainSeconds: { wall: seconds, cpu: cpuSeconds },
      scoreRowsPerSecondF64: scoringRate(t.model, test.x),
      scoreRowsPerSecondF32: scoringRate(t.model, x32),
      explainRowsPerCpuSecondTreeShap: Math.round(2000 / time(() => t.model.contributions(denseMatrix(test.x.data.subarray(0, 2000 * FEATURES), FEATURES)))[2]),
      explainRowsPerCpuSecondSaabas: Math.round(2000 / time(() => t.model.contributions(denseMatrix(test.x.data.subarray(0, 2000 * FEATURES), FEATURES), 'saabas'))[2]),
    };
    log(`${name}: ${JSON.stringify(r)}`);
    out[name] = r;
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) gbdtBench();
