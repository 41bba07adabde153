/**
 * Seeded synthetic data sets for the gradient-boosted tree tests: shapes a linear model
 * cannot separate (XOR, concentric circles) and Gaussian blobs for multiclass, drawn from
 * the kernel's seeded source, so every run sees the same rows.
 */
import { denseMatrix, UniformRandom, type DenseMatrix } from '../../src/detect/index.js';
import { seededRandom } from '../../src/kernel/index.js';

export interface LabelledData {
  readonly x: DenseMatrix;
  readonly y: Int32Array;
}

/** Uniform numbers in [0, 1) from the kernel's seeded source (detect/uniform-random.ts). */
export function uniform(seed: number): () => number {
  const u = new UniformRandom(seededRandom(`gbdt-data-${seed}`));
  return () => u.next();
}

/** Standard normal draws (Box–Muller). */
export function gaussian(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** XOR: two features uniform in [−1, 1], label 1 when their signs differ; `noise` extra uniform features. */
export function xor(rows: number, seed: number, noise = 0): LabelledData {
  const u = uniform(seed);
  const width = 2 + noise;
  const data = new Float64Array(rows * width);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < width; f++) data[r * width + f] = 2 * u() - 1;
    y[r] = data[r * width]! * data[r * width + 1]! < 0 ? 1 : 0;
  }
  return { x: denseMatrix(data, width), y };
}

/** Two concentric circles (radius 0.5 → class 1, radius 1 → class 0) with Gaussian noise. */
export function circles(rows: number, seed: number, noise = 0.08): LabelledData {
  const u = uniform(seed);
  const g = gaussian(u);
  const data = new Float64Array(rows * 2);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const inner = u() < 0.5;
    const radius = inner ? 0.5 : 1;
    const angle = 2 * Math.PI * u();
    data[2 * r] = radius * Math.cos(angle) + noise * g();
    data[2 * r + 1] = radius * Math.sin(angle) + noise * g();
    y[r] = inner ? 1 : 0;
  }
  return { x: denseMatrix(data, 2), y };
}

/** `classes` Gaussian blobs (σ = 1) in `width` dimensions, centres uniform in [−spread, spread]. */
export function blobs(rows: number, classes: number, width: number, seed: number, spread = 5): LabelledData {
  const u = uniform(seed);
  const g = gaussian(u);
  const centres = Array.from({ length: classes }, () => Array.from({ length: width }, () => spread * (2 * u() - 1)));
  const data = new Float64Array(rows * width);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(u() * classes);
    y[r] = c;
    for (let f = 0; f < width; f++) data[r * width + f] = centres[c]![f]! + g();
  }
  return { x: denseMatrix(data, width), y };
}

/** Share of rows whose predicted class equals the label. */
export function accuracy(predicted: Int32Array, y: Int32Array): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) right++;
  return right / y.length;
}

/** The first `n` rows and the rest, as two data sets (test data from the same draw). */
export function splitAt(d: LabelledData, n: number): [LabelledData, LabelledData] {
  const w = d.x.features;
  const part = (from: number, to: number): LabelledData => ({ x: denseMatrix(d.x.data.slice(from * w, to * w), w), y: d.y.slice(from, to) });
  return [part(0, n), part(n, d.x.rows)];
}
