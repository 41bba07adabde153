/**
 * The reverse proxies whose `X-Forwarded-For` the server believes (operator input). Behind
 * a proxy every request comes from the proxy's address, so the per-address sign-in
 * throttle would count all users together; naming the proxy lets the server take the
 * client's address from the header that proxy adds. Only exact addresses and CIDR ranges
 * are accepted, never "trust everything": a header from anyone else is ignored, or any
 * client could choose the address it is throttled under.
 */
import { isIP } from 'node:net';
import { CustodiaError } from '../kernel/index.js';

function invalid(value: string, why: string): never {
  throw new CustodiaError('config-invalid', `trusted proxy ${JSON.stringify(value.slice(0, 100))}: ${why}`);
}

/** One address (`10.0.0.5`, `::1`) or range (`10.0.0.0/8`, `fd00::/8`). */
export function parseTrustedProxy(value: string): string {
  const v = value.trim();
  const [address = '', prefix, ...rest] = v.split('/');
  const family = isIP(address);
  if (rest.length > 0 || family === 0) invalid(v, 'not an IP address or CIDR range');
  if (prefix !== undefined) {
    const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
    if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) invalid(v, 'the prefix length is out of range');
    if (bits === 0) invalid(v, 'a /0 range would trust every client');
  }
  return v;
}

/** A list of proxies (repeated options, or comma-separated); empty entries ignored, duplicates dropped. */
export function parseTrustedProxies(values: readonly string[]): readonly string[] {
  return Object.freeze([...new Set(values.flatMap((v) => v.split(',')).filter((v) => v.trim() !== '').map(parseTrustedProxy))]);
}
