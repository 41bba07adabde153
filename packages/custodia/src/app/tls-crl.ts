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
import { webcrypto } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';
import { pemBlocks } from './pem-blocks.js';

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

const invalid = (message: string, cause?: unknown): never => {
  throw new CustodiaError('config-invalid', message, cause === undefined ? undefined : { cause });
};

const tooLarge = (path: string): never => invalid(`The client CRL file ${path} is larger than ${MAX_CRL_FILE_BYTES / 1024 / 1024} MiB`);

/** The DER lists of the file: its PEM `X509 CRL` blocks, or the file itself when it holds no PEM. */
function derLists(path: string, data: Buffer): Buffer[] {
  const text = data.toString('latin1');
  if (!text.includes('-----BEGIN')) return [data];
  const blocks = pemBlocks(text, 'X509 CRL').map((b) => Buffer.from(b.replace(/-----[^-]+-----|\s+/g, ''), 'base64'));
  if (blocks.length === 0) invalid(`${path} holds no PEM CRL (-----BEGIN X509 CRL-----) and is not a DER CRL`);
  return blocks;
}

const toPem = (der: Buffer): string => `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END X509 CRL-----\n`;

/**
 * Reads and checks `path` against the CA certificates of `--tls-client-ca` (`caBundle`,
 * PEM) at time `now` (ms). Throws `config-invalid` naming the file and what is wrong.
 * `previous`: the lists this file held when last read; when neither the file nor the CAs
 * changed and they are still current, they are returned as they are (parsing costs about
 * 60 µs per revoked certificate, on the event loop: 0.3–0.6 s for 5,000, measured
 * 2026-12-02; the server reads the file again every 5 minutes).
 */
export async function readClientCrls(path: string, caBundle: Buffer, now: number, previous?: ClientCrls): Promise<ClientCrls> {
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
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const cas = pemBlocks(caBundle.toString('utf8'), 'CERTIFICATE').map((pem) => new x509.X509Certificate(pem));
  const covered = new Set<number>();
  const pems: string[] = [];
  let nextUpdate = Infinity;
  for (const [i, der] of derLists(path, data).entries()) {
    const which = `CRL ${i + 1} of ${path}`;
    let crl: InstanceType<typeof x509.X509Crl>;
    try {
      // asn1js's defaults (10,000 nodes, 16 MB) would refuse a CA's list of a few thousand
      // revocations. Every ASN.1 node takes at least two bytes (tag and length), so the
      // file's own size, already bounded above, bounds the nodes and the content.
      crl = new x509.X509Crl(der, { berOptions: { maxNodes: Math.ceil(der.length / 2) + 16, maxContentLength: der.length } });
    } catch (e) {
      return invalid(`${which} is not a certificate revocation list`, e);
    }
    // RFC 5280 §6.3.3 (b), (f): the list's issuer is one of our CAs, whose key signed it.
    let signer = -1;
    for (const [j, ca] of cas.entries()) {
      if (ca.subject !== crl.issuer) continue;
      const ok = await crl.verify({ publicKey: ca }, webcrypto as unknown as Parameters<typeof crl.verify>[1]).catch(() => false);
      if (ok) {
        signer = j;
        break;
      }
    }
    if (signer < 0) invalid(`${which} (issuer ${crl.issuer}) is not signed by any CA of --tls-client-ca`);
    // §5.1.2.5: conforming issuers always give nextUpdate; without it a list would never go stale.
    const next = crl.nextUpdate;
    if (next === undefined) return invalid(`${which} (issuer ${crl.issuer}) has no nextUpdate: a list that never goes stale cannot be trusted to be current`);
    if (crl.thisUpdate.getTime() > now) invalid(`${which} (issuer ${crl.issuer}) is not valid before ${crl.thisUpdate.toISOString()}`);
    if (next.getTime() <= now) invalid(`${which} (issuer ${crl.issuer}) expired at ${next.toISOString()}: fetch a fresh one from its CA (meanwhile every client certificate of that CA is refused)`);
    covered.add(signer);
    nextUpdate = Math.min(nextUpdate, next.getTime());
    pems.push(toPem(der));
  }
  // OpenSSL checks every certificate of a chain (CRL_CHECK_ALL): a CA without a list here
  // would make every certificate it issued unverifiable.
  for (const [j, ca] of cas.entries()) {
    if (!covered.has(j)) invalid(`${path} has no CRL of ${ca.subject}, a CA of --tls-client-ca: with --tls-client-crl every such CA needs its current CRL`);
  }
  return { pem: Buffer.from(pems.join('')), nextUpdate: new Date(nextUpdate), checked: { file: data, caBundle } };
}
