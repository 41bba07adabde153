/**
 * How the log reaches its witnesses (C2SP tlog-witness, client side): one POST of an
 * add-checkpoint body, with a timeout, no redirects, and the answer read up to
 * {@link MAX_WITNESS_REPLY_BYTES}. A witness is not trusted with the log's memory: its
 * reply is hostile input, bounded here and parsed by ledger/witness-reply.ts.
 *
 * `https` witnesses are checked against the system's CA roots, or, with `--witness-ca`,
 * against that PEM bundle only (a pinned trust anchor: a certificate from any other CA,
 * public ones included, fails the handshake). Node's TLS checks the host name (RFC 6125)
 * and the chain; the floor is TLS 1.2, as on the server side.
 */
import { request as httpsRequest } from 'node:https';
import { MAX_WITNESS_REPLY_BYTES, type WitnessReply } from '../ledger/index.js';

/** Sends one add-checkpoint body to `url` and reads the answer (throws when there is none). */
export type WitnessTransport = (url: string, body: string) => Promise<WitnessReply>;

const tooLarge = (): Error => new Error('The witness answered with too large a body');
const decode = (bytes: Buffer): string => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

/** `fetch` over the system's trust roots (and plain http, which config allows for loopback or by choice). */
async function postWithFetch(url: string, body: string, timeoutMs: number): Promise<WitnessReply> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body !== null) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_WITNESS_REPLY_BYTES) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: decode(Buffer.concat(chunks)) };
}

/** node:https with `ca` as the only trust anchor (node's request never follows redirects). */
function postPinned(url: string, body: string, ca: Buffer, timeoutMs: number): Promise<WitnessReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', ca, minVersion: 'TLSv1.2', headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (c: Buffer) => {
        total += c.byteLength;
        if (total > MAX_WITNESS_REPLY_BYTES) {
          req.destroy(tooLarge());
          return;
        }
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        try {
          const type = res.headers['content-type'];
          resolve({ status: res.statusCode ?? 0, contentType: type, body: decode(Buffer.concat(chunks)) });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('The witness did not answer in time')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The default transport; with `ca`, every `https` witness must present a chain to it.
 *
 * @example
 *   const send = httpWitnessTransport(10_000, readFileSync('witness-ca.pem'));
 *   const reply = await send('https://witness.example/add-checkpoint', body);
 */
export function httpWitnessTransport(timeoutMs: number, ca?: Buffer): WitnessTransport {
  return (url, body) => (ca !== undefined && url.startsWith('https:') ? postPinned(url, body, ca, timeoutMs) : postWithFetch(url, body, timeoutMs));
}
