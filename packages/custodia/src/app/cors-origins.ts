/**
 * The origins browser apps may call the vault from (the Fetch standard's CORS protocol;
 * origins as RFC 6454 §6.2 serialises them, which is what browsers send in `Origin`).
 *
 * The list comes from the operator, but a slip here hands patient data to a web site, so
 * it is parsed strictly: exact origins only, https (plain http only on a loopback host,
 * for a developer's app), no wildcard, and never `null`, which every sandboxed frame and
 * `file:` page shares.
 */
import { CustodiaError } from '../kernel/index.js';
import { isLoopback } from './loopback.js';

function invalid(value: string, why: string): never {
  throw new CustodiaError('config-invalid', `CORS origin ${JSON.stringify(value.slice(0, 200))}: ${why}`);
}

/** One origin, serialised as browsers send it (lower-case host, no default port, no trailing slash). */
export function parseCorsOrigin(value: string): string {
  const v = value.trim();
  if (v.includes('*')) invalid(v, 'wildcards are not allowed; list each origin');
  if (v.toLowerCase() === 'null') invalid(v, 'the "null" origin is shared by sandboxed frames and local files');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    invalid(v, 'not an absolute URL such as https://app.example.org');
  }
  if (u.username !== '' || u.password !== '' || u.pathname !== '/' || v.includes('?') || v.includes('#')) {
    invalid(v, 'an origin is scheme://host[:port] with no path, query or credentials');
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(host))) invalid(v, 'must be https (plain http only for a loopback host)');
  return u.origin;
}

/** A list of origins (repeated options, or comma-separated); empty entries are ignored, duplicates dropped. */
export function parseCorsOrigins(values: readonly string[]): readonly string[] {
  const origins = values.flatMap((v) => v.split(',')).filter((v) => v.trim() !== '').map(parseCorsOrigin);
  return Object.freeze([...new Set(origins)]);
}
