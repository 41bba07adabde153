/**
 * The check of a client CRL file's lists (tls-crl.ts), on bytes already read: each list
 * parsed as hostile input, its signature verified under a CA of `--tls-client-ca`, its
 * dates current, and every CA covered. Runs in a worker thread (crl-check-thread.ts) so
 * that a large list does not hold the server's event loop, and in its own bounded heap.
 */
import { webcrypto } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';
import { pemBlocks } from './pem-blocks.js';

/** The lists as PEM (`X509 CRL`), and the earliest nextUpdate among them (epoch ms). */
export interface CheckedCrls {
  readonly pem: Buffer;
  readonly nextUpdate: number;
}

/** A CRL file that cannot be used: `config-invalid`, with what to fix. */
export const invalid = (message: string, cause?: unknown): never => {
  throw new CustodiaError('config-invalid', message, cause === undefined ? undefined : { cause });
};

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
 * Checks the CRL file `data` (read from `path`, named in messages) against the CA
 * certificates `caBundle` (PEM) at time `now` (ms). Throws `config-invalid` naming the
 * list and what is wrong. Hostile input: `data` may come from a CA's distribution point
 * unchecked.
 */
export async function verifyCrlLists(path: string, data: Buffer, caBundle: Buffer, now: number): Promise<CheckedCrls> {
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
  return { pem: Buffer.from(pems.join('')), nextUpdate };
}
