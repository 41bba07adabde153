/**
 * The seeded, stratified split of the training rows into rows to fit and rows to watch
 * for early stopping: each class gives the same fraction of its rows to validation
 * (rounded, and always leaving it at least one row to learn from), so a rare attack class
 * is neither missing from validation nor taken whole from training.
 */
import { shuffle, type Prng } from './gbdt-prng.js';

export interface RowSplit {
  /** Both in increasing row order. */
  readonly fit: Uint32Array;
  readonly validation: Uint32Array;
}

/**
 * Splits `rows` by class label.
 *
 * @example
 *   const { fit, validation } = stratifiedSplit(prng, labels, 3, allRows, 0.1);
 */
export function stratifiedSplit(prng: Prng, labels: ArrayLike<number>, classes: number, rows: Uint32Array, fraction: number): RowSplit {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < rows.length; i++) byClass[labels[rows[i]!]!]!.push(rows[i]!);
  let maxRow = -1;
  for (let i = 0; i < rows.length; i++) maxRow = Math.max(maxRow, rows[i]!);
  const inValidation = new Uint8Array(maxRow + 1);
  let nValidation = 0;
  for (const members of byClass) {
    const take = Math.min(members.length - 1, Math.round(members.length * fraction));
    if (take <= 0) continue;
    const shuffled = Uint32Array.from(members);
    shuffle(prng, shuffled);
    for (let i = 0; i < take; i++) inValidation[shuffled[i]!] = 1;
    nValidation += take;
  }
  const fit = new Uint32Array(rows.length - nValidation);
  const validation = new Uint32Array(nValidation);
  let a = 0;
  let b = 0;
  for (const r of Uint32Array.from(rows).sort()) {
    if (inValidation[r] === 1) validation[b++] = r;
    else fit[a++] = r;
  }
  return { fit, validation };
}
