/**
 * Typed values from the text of one field. Every field of a flow file is
 * attacker-controlled: each reader accepts one strict spelling (no whitespace, no `+`,
 * no hex, no `Infinity`), checks the range, and otherwise refuses the record with a
 * reason that names the field and quotes a bounded excerpt of the value.
 */
import { isIP } from 'node:net';
import { excerpt, refuse } from './record-refused.js';

// Fixed patterns, never built from input; none can backtrack.
const DECIMAL = /^-?\d{1,40}(?:\.\d{1,40})?(?:[eE][+-]?\d{1,4})?$/;
const DIGITS = /^\d{1,16}$/;
const SIGNED_DIGITS = /^-?\d{1,16}$/;
const MAC = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;

/** A finite decimal number: `12`, `-0.5`, `1.0E7`. */
export function readDecimal(text: string, field: string): number {
  if (!DECIMAL.test(text)) refuse(`${field}: not a number: ${excerpt(text)}`);
  const n = Number(text);
  if (!Number.isFinite(n)) refuse(`${field}: out of range: ${excerpt(text)}`);
  return n;
}

/** A decimal number that is not negative. */
export function readNonNegative(text: string, field: string): number {
  const n = readDecimal(text, field);
  if (n < 0) refuse(`${field}: negative: ${excerpt(text)}`);
  return n;
}

/** A count: decimal digits, a safe integer. */
export function readCount(text: string, field: string): number {
  if (!DIGITS.test(text)) refuse(`${field}: not a count: ${excerpt(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) refuse(`${field}: count out of range: ${excerpt(text)}`);
  return n;
}

/** A signed integer, safe. */
export function readInteger(text: string, field: string): number {
  if (!SIGNED_DIGITS.test(text)) refuse(`${field}: not an integer: ${excerpt(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) refuse(`${field}: integer out of range: ${excerpt(text)}`);
  return n;
}

/** A transport port (or ICMP type/code), 0–65535. */
export function readPort(text: string, field: string): number {
  const n = readCount(text, field);
  return checkPort(n, field);
}

export function checkPort(n: number, field: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 65535) refuse(`${field}: not a port: ${n}`);
  return n;
}

/** An IPv4 or IPv6 address, as written. */
export function readAddress(text: string, field: string): string {
  if (text.length > 64 || isIP(text) === 0) refuse(`${field}: not an IP address: ${excerpt(text)}`);
  return text;
}

/** A MAC address, `aa:bb:cc:dd:ee:ff`, in lower case. */
export function readMac(text: string, field: string): string {
  if (!MAC.test(text)) refuse(`${field}: not a MAC address: ${excerpt(text)}`);
  return text.toLowerCase();
}

/**
 * A short printable token (a label, an id, a service name): 1–`max` characters, no
 * control characters; letters beyond ASCII are allowed (U+FFFD included).
 */
export function readToken(text: string, field: string, max = 128): string {
  if (text.length === 0 || text.length > max || /[\u0000-\u001f\u007f-\u009f]/.test(text)) refuse(`${field}: not a short printable value: ${excerpt(text)}`);
  return text;
}
