/**
 * The worker thread that checks a client CRL file (crl-check.ts) for tls-crl.ts: it takes
 * the file's bytes, the CA bundle and the time, and answers with the checked lists or the
 * check's message. A hostile list can cost it time or memory (its heap is bounded by the
 * caller), never the server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isCustodiaError } from '../kernel/index.js';
import { verifyCrlLists } from './crl-check.js';

export interface CrlCheckData {
  readonly path: string;
  readonly data: Uint8Array;
  readonly caBundle: Uint8Array;
  readonly now: number;
}

export type CrlCheckReply = { readonly pem: Uint8Array; readonly nextUpdate: number } | { readonly invalid: string; readonly cause?: string } | { readonly failed: string };

const bytes = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

const d = workerData as CrlCheckData;
verifyCrlLists(d.path, bytes(d.data), bytes(d.caBundle), d.now).then(
  (r) => parentPort!.postMessage({ pem: r.pem, nextUpdate: r.nextUpdate } satisfies CrlCheckReply),
  (e: unknown) => {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : undefined;
    const reply: CrlCheckReply = isCustodiaError(e, 'config-invalid') ? { invalid: e.message, ...(cause === undefined ? {} : { cause }) } : { failed: e instanceof Error ? e.message : String(e) };
    parentPort!.postMessage(reply);
  },
);
