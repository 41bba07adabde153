/**
 * The numeric input of the gradient-boosted trees: a dense row-major matrix of
 * `rows × features` numbers, NaN meaning "missing", and integer class labels. The model
 * knows nothing of flows or feature schemas; whoever turns records into rows owns that.
 */
import { CustodiaError } from '../kernel/index.js';

/** A dense row-major matrix: value of feature `f` of row `r` is `data[r * features + f]`; NaN is missing. */
export interface DenseMatrix {
  readonly data: Float64Array | Float32Array;
  readonly rows: number;
  readonly features: number;
}

/**
 * Wraps a row-major typed array as a matrix, checking that its length is `rows × features`.
 *
 * @example
 *   const m = denseMatrix(new Float64Array([0, 1, 1, 0]), 2); // 2 rows × 2 features
 */
export function denseMatrix(data: Float64Array | Float32Array, features: number): DenseMatrix {
  if (!Number.isSafeInteger(features) || features < 1) throw invalidInput('a matrix needs at least one feature');
  if (data.length % features !== 0) throw invalidInput('the matrix data is not a whole number of rows');
  return Object.freeze({ data, rows: data.length / features, features });
}

/** Checks the shape of a matrix given by a caller (the data is the caller's, so a bad one is config-invalid). */
export function checkMatrix(m: DenseMatrix, features?: number): void {
  if (!Number.isSafeInteger(m.rows) || m.rows < 0 || !Number.isSafeInteger(m.features) || m.features < 1) throw invalidInput('the matrix shape is not two non-negative integers');
  if (m.data.length !== m.rows * m.features) throw invalidInput('the matrix data length is not rows × features');
  if (features !== undefined && m.features !== features) throw invalidInput(`the matrix has ${m.features} features, the model ${features}`);
}

/** Checks labels against a matrix: one integer in [0, classes) per row; returns the number of classes seen (max + 1). */
export function checkLabels(labels: ArrayLike<number>, rows: number): number {
  if (labels.length !== rows) throw invalidInput('there must be one label per row');
  let max = -1;
  for (let i = 0; i < rows; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y > 0xffff) throw invalidInput('labels must be integers in [0, 65535]');
    if (y > max) max = y;
  }
  return max + 1;
}

export function invalidInput(message: string): CustodiaError {
  return new CustodiaError('config-invalid', `Gradient boosting: ${message}`);
}
