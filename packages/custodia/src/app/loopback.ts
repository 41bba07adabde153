/** Loopback host names and addresses: traffic to them never leaves the machine. */
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** True for `localhost`, `::1` and 127.0.0.0/8 (a host as written, IPv6 without brackets). */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}
