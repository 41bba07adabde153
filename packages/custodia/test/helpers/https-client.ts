/**
 * `fetch` over node:https with a chosen trust anchor and, for mutual TLS, a client
 * certificate (the global fetch can do neither on Node 20). A new connection for every
 * request (no agent, no session reuse), so each request's certificate is its own.
 */
import { request } from 'node:https';

export interface TlsIdentity {
  readonly cert: string;
  readonly key: string;
}

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** A fetch that trusts `ca` only and presents `identity` when the server asks for a certificate. */
export function httpsFetch(ca: string | Buffer, identity?: TlsIdentity): FetchLike {
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const headers = new Headers(init.headers);
      const body = typeof init.body === 'string' ? init.body : init.body === undefined || init.body === null ? undefined : String(init.body);
      const req = request(
        url,
        { method: init.method ?? 'GET', headers: Object.fromEntries(headers), ca, agent: false, ...(identity === undefined ? {} : { cert: identity.cert, key: identity.key }) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const out = new Headers();
            for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            const status = res.statusCode ?? 0;
            resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: out }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}
