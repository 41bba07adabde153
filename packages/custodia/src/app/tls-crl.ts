/**
 * Certificate revocation lists for mutual TLS (`--tls-client-crl`; RFC 5280 §5). With
 * CRLs, Node's TLS stack (OpenSSL, `X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL`)
 * checks every certificate of a client's chain against its issuer's CRL in the handshake:
 * a revoked certificate, one whose issuer has no CRL here, or a CRL past its nextUpdate
 * leaves the connection unverified (`authorized` false), so the certificate authenticates
 * nothing (app/client-certificate.ts). That is fail closed, so this file refuses at start,
 * with a message that says what to fix, every CRL file that would make OpenSSL refuse every
 * client: one that does not parse, is signed by no CA of `--tls-client-ca`, is not yet or
 * no longer current, has no nextUpdate, or leaves a CA of `--tls-client-ca` without a CRL.
 *
 * The file is operator input but may come from a CA's distribution point unchecked, so it
 * is parsed as hostile input: bounded in size, each list parsed and its signature verified
 * before it is handed to OpenSSL. PEM (`X509 CRL`, RFC 7468 §5; several lists in one file)
 * or a single DER list, as distribution points serve them.
 */
import { readFileSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { CustodiaError } from '../kernel/index.js';
import { threadModule } from '../store/index.js';
import { invalid, verifyCrlLists, type CheckedCrls } from './crl-check.js';
import type { CrlCheckData, CrlCheckReply } from './crl-check-thread.js';

export interface ClientCrls {
  /** Every list, as PEM (`X509 CRL`): the `crl` of the server's secure context. */
  readonly pem: Buffer;
  /** The earliest nextUpdate among them: when the lists must have been replaced by fresh ones. */
  readonly nextUpdate: Date;
  /** The file's bytes and the CA bundle they were checked against (so an unchanged file is not parsed again). */
  readonly checked: { readonly file: Buffer; readonly caBundle: Buffer };
}

/** A CRL file larger than this is refused (a CA with a million revocations issues about 40 MB). */
export const MAX_CRL_FILE_BYTES = 64 * 1024 * 1024;

/**
 * The worker's heap. asn1js builds objects for every node: checking a list of 10,000
 * revocations (240 KB) needed 48 MB of heap (32 MB was too little; measured 2026-12-02),
 * so this holds about 900,000 by extrapolation (lists that large were not measured: the
 * test CA takes minutes to sign one). A larger list ends the worker, not the server, and is
 * refused as one that could not be checked.
 */
const CHECK_HEAP_MB = 4096;

/**
 * The lists of `data`, checked in a worker thread (crl-check-thread.ts; parsing costs
 * about 60 µs per revoked certificate, 0.3–0.6 s for 5,000, measured 2026-12-02), or in
 * this thread when there is no built worker module (tests run from the TypeScript source
 * without a build).
 */
function checkClientCrls(path: string, data: Buffer, caBundle: Buffer, now: number, heapMb: number): Promise<CheckedCrls> {
  const module = threadModule('crl-check-thread', 'app');
  if (module === undefined) return verifyCrlLists(path, data, caBundle, now);
  return new Promise((resolve, reject) => {
    const worker = new Worker(module, { workerData: { path, data, caBundle, now } satisfies CrlCheckData, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.once('message', (r: CrlCheckReply) =>
      settle(() => {
        if ('pem' in r) resolve({ pem: Buffer.from(r.pem.buffer, r.pem.byteOffset, r.pem.byteLength), nextUpdate: r.nextUpdate });
        else if ('invalid' in r) reject(new CustodiaError('config-invalid', r.invalid, r.cause === undefined ? undefined : { cause: new Error(r.cause) }));
        else reject(new CustodiaError('internal', `The CRL check failed: ${r.failed}`));
      }),
    );
    // ERR_WORKER_OUT_OF_MEMORY above all: a list too large to check is refused like a bad one.
    worker.once('error', (e) => settle(() => reject(new CustodiaError('config-invalid', `The client CRL file ${path} could not be checked (${e.message})`, { cause: e }))));
    worker.once('exit', (code) => settle(() => reject(new CustodiaError('config-invalid', `The client CRL file ${path} could not be checked (the check stopped with code ${code})`))));
  });
}

const tooLarge = (path: string): never => invalid(`The client CRL file ${path} is larger than ${MAX_CRL_FILE_BYTES / 1024 / 1024} MiB`);

/**
 * Reads and checks `path` against the CA certificates of `--tls-client-ca` (`caBundle`,
 * PEM) at time `now` (ms). Throws `config-invalid` naming the file and what is wrong.
 * `previous`: the lists this file held when last read; when neither the file nor the CAs
 * changed and they are still current, they are returned as they are, unparsed (the server
 * reads the file again every 5 minutes); otherwise they are checked in a worker thread
 * whose heap is `heapMb` (tests give less, to see a list too large for it refused).
 */
export async function readClientCrls(path: string, caBundle: Buffer, now: number, previous?: ClientCrls, heapMb = CHECK_HEAP_MB): Promise<ClientCrls> {
  let data: Buffer;
  try {
    if (statSync(path).size > MAX_CRL_FILE_BYTES) tooLarge(path);
    data = readFileSync(path);
  } catch (e) {
    if (e instanceof CustodiaError) throw e;
    return invalid(`The client CRL file ${path} cannot be read`, e);
  }
  // Checked again: the file may have grown between the stat and the read.
  if (data.length > MAX_CRL_FILE_BYTES) tooLarge(path);
  if (previous !== undefined && previous.nextUpdate.getTime() > now && previous.checked.file.equals(data) && previous.checked.caBundle.equals(caBundle)) return previous;
  const { pem, nextUpdate } = await checkClientCrls(path, data, caBundle, now, heapMb);
  return { pem, nextUpdate: new Date(nextUpdate), checked: { file: data, caBundle } };
}
