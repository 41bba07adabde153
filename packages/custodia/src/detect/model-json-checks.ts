/**
 * The checks every part of a model file goes through (model-file.ts): the file is
 * attacker-controlled, so each value is checked for type and range before anything is
 * built from it, and any failure is `model-invalid`, naming where but never echoing the value.
 */
import { CustodiaError } from '../kernel/index.js';

export function invalidModel(message: string, cause?: unknown): CustodiaError {
  return new CustodiaError('model-invalid', `Invalid model file: ${message}`, cause === undefined ? {} : { cause });
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` as an object with exactly `keys` (no unknown member, so no `__proto__` either). */
export function exactKeys(v: unknown, keys: readonly string[], where: string): Record<string, unknown> {
  if (!isRecord(v)) throw invalidModel(`${where} is not an object`);
  const have = Object.keys(v);
  if (have.length !== keys.length || !have.every((k) => keys.includes(k))) throw invalidModel(`${where} must have exactly the members ${keys.join(', ')}`);
  return v;
}

export function positiveInteger(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalidModel(`${where} must be a positive integer`);
  return v;
}

export function finiteNumber(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidModel(`${where} must be a finite number`);
  return v;
}

/** An array of integers in [min, 2^31) as an Int32Array. */
export function int32s(v: unknown, min: number, where: string): Int32Array {
  if (!Array.isArray(v)) throw invalidModel(`${where} is not an array`);
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > 0x7fffffff) throw invalidModel(`${where}[${i}] must be an integer of at least ${min}`);
    out[i] = x;
  }
  return out;
}

export function finites(v: unknown, where: string): Float64Array {
  if (!Array.isArray(v)) throw invalidModel(`${where} is not an array`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = finiteNumber(v[i], `${where}[${i}]`);
  return out;
}
