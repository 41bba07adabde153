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

/** How a file's parser refuses it: `model-invalid` with the file's kind in the message. */
export type Refusal = (message: string) => CustodiaError;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A JSON file (a model, an ONNX sidecar), attacker-controlled: its size checked before
 * anything is decoded, then UTF-8 without replacement, then JSON.
 */
export function decodeJsonFile(input: string | Uint8Array, maxBytes: number, refuse: Refusal = invalidModel): unknown {
  let text: string;
  if (typeof input === 'string') {
    // A UTF-16 code unit is at least one UTF-8 byte: longer than maxBytes units is too large.
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) throw refuse(`it is larger than ${maxBytes} bytes`);
    text = input;
  } else {
    if (input.byteLength > maxBytes) throw refuse(`it is larger than ${maxBytes} bytes`);
    try {
      text = UTF8.decode(input);
    } catch {
      throw refuse('it is not UTF-8');
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw refuse('it is not JSON');
  }
}

/** `v` as an object with exactly `keys` (no unknown member, so no `__proto__` either). */
export function exactKeys(v: unknown, keys: readonly string[], where: string, refuse: Refusal = invalidModel): Record<string, unknown> {
  if (!isRecord(v)) throw refuse(`${where} is not an object`);
  const have = Object.keys(v);
  if (have.length !== keys.length || !have.every((k) => keys.includes(k))) throw refuse(`${where} must have exactly the members ${keys.join(', ')}`);
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
