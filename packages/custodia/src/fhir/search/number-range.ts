/**
 * Search numbers and their implied precision (FHIR R4 search.html §3.1.1.4.1 "number": "the
 * precision of the search value is implied by the number of significant figures", so `100`
 * means [99.5, 100.5), `100.00` means [99.995, 100.005) and `1e2` means [50, 150)).
 *
 * The half-open interval [lo, hi) becomes the closed interval [lo, hi⁻] where hi⁻ is the
 * largest double below hi (one ulp down): for doubles the two are exactly the same set.
 * Both ends are computed from the exact decimal (`Number('100005e-3')`), so they round the
 * way a stored value with the same digits rounds. Values with more than 15 significant
 * digits are rounded to 15 (beyond what a double holds).
 */
import type { Range } from './query.js';

export interface Decimal {
  /** Significant digits with sign: value = digits × 10^exponent. */
  readonly digits: bigint;
  readonly exponent: number;
  readonly value: number;
}

const MAX_SIGNIFICANT = 15;
const MAX_EXPONENT = 300;
const NUMBER_SYNTAX = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * Parses a search number (`-12.50`, `1e2`), or undefined when it is not one.
 *
 * @example parseDecimal('100.00') // { digits: 10000n, exponent: -2, value: 100 }
 */
export function parseDecimal(text: string): Decimal | undefined {
  if (text.length > 64) return undefined;
  const m = NUMBER_SYNTAX.exec(text);
  if (m === null) return undefined;
  const fraction = m[3] ?? '';
  let mantissa = ((m[2] ?? '') + fraction).replace(/^0+(?=\d)/, '');
  let exponent = Number(m[4] ?? '0') - fraction.length;
  if (mantissa.length > MAX_SIGNIFICANT && mantissa !== '0') {
    const drop = mantissa.length - MAX_SIGNIFICANT;
    let kept = BigInt(mantissa.slice(0, MAX_SIGNIFICANT)) + (Number(mantissa[MAX_SIGNIFICANT]) >= 5 ? 1n : 0n);
    exponent += drop;
    if (kept === 10n ** BigInt(MAX_SIGNIFICANT)) {
      kept /= 10n; // 999…9.5 rounded up to a 16th digit
      exponent += 1;
    }
    mantissa = kept.toString();
  }
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  const digits = BigInt(mantissa) * (m[1] === '-' ? -1n : 1n);
  const value = Number(`${digits}e${exponent}`);
  return Number.isFinite(value) ? { digits, exponent, value } : undefined;
}

/**
 * The closed range a search number stands for (see the module comment).
 *
 * @example impliedRange(parseDecimal('100')!) // { lo: 99.5, hi: 100.49999999999999 }
 */
export function impliedRange(d: Decimal): Range {
  const lo = Number(`${d.digits * 10n - 5n}e${d.exponent - 1}`);
  const hiExclusive = Number(`${d.digits * 10n + 5n}e${d.exponent - 1}`);
  return { lo, hi: nextDown(hiExclusive) };
}

/**
 * `ap` (search.html §3.1.1.4.1.1): the implied range widened to ±10% of the value.
 *
 * @example approximateRange(parseDecimal('100')!) // { lo: 90, hi: 110 }
 */
export function approximateRange(d: Decimal): Range {
  const r = impliedRange(d);
  const tenth = Math.abs(d.value) / 10;
  return { lo: Math.min(r.lo, d.value - tenth), hi: Math.max(r.hi, d.value + tenth) };
}

/**
 * The decimal text of digits × 10^exponent: `10000n, -2` → `100.00`, `1n, 2` → `1e2`; very
 * small precisions keep the exponent (`5n, -40` → `5e-40`).
 */
export function formatDecimal(digits: bigint, exponent: number): string {
  if (exponent > 0 || exponent < -20) return `${digits}e${exponent}`;
  if (exponent === 0) return `${digits}`;
  const sign = digits < 0n ? '-' : '';
  const abs = (digits < 0n ? -digits : digits).toString().padStart(-exponent + 1, '0');
  return `${sign}${abs.slice(0, abs.length + exponent)}.${abs.slice(abs.length + exponent)}`;
}

/**
 * The search number whose implied range is exactly `range`, or undefined when there is none
 * (the inverse of `impliedRange`, used to write canonical query strings).
 *
 * @example formatDecimal(decimalOfRange({ lo: 99.995, hi: nextDown(100.005) })!.digits, -2) // '100.00'
 */
export function decimalOfRange(range: Range): Decimal | undefined {
  const hiExclusive = nextUp(range.hi);
  const width = hiExclusive - range.lo;
  if (!(width > 0) || !Number.isFinite(width)) return undefined;
  const exponent = Math.round(Math.log10(width));
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  const mid = range.lo / 2 + hiExclusive / 2; // halves first: the sum may overflow near ±1.8e308
  const scaled = exponent >= 0 ? mid / 10 ** exponent : mid * 10 ** -exponent;
  if (!Number.isFinite(scaled) || Math.abs(scaled) >= 10 ** MAX_SIGNIFICANT) return undefined;
  const d = parseDecimal(formatDecimal(BigInt(Math.round(scaled)), exponent));
  if (d === undefined) return undefined;
  const back = impliedRange(d);
  return back.lo === range.lo && back.hi === range.hi ? d : undefined;
}

const scratch = new DataView(new ArrayBuffer(8));

/** The largest double below `x` (x finite). */
export function nextDown(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  scratch.setFloat64(0, x);
  const bits = scratch.getBigInt64(0);
  scratch.setBigInt64(0, x > 0 ? bits - 1n : bits + 1n);
  return scratch.getFloat64(0);
}

/** The smallest double above `x` (x finite). */
export function nextUp(x: number): number {
  return -nextDown(-x);
}
