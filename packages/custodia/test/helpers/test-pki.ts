/**
 * A throwaway PKI for mutual-TLS tests, made with the library the vault itself uses for
 * certificates (@peculiar/x509 over Node's WebCrypto): a CA, and client certificates it
 * issues. Everything is P-256 and lives for a day. Names are JSON names, RDNs in ASN.1
 * order: `[{ O: ['Hospital'] }, { CN: ['lab-system'] }]` is `CN=lab-system,O=Hospital`
 * in RFC 4514 text.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600_000;

export interface Issued {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM PKCS#8 private key. */
  readonly key: string;
  /** RFC 8705 x5t#S256: base64url SHA-256 of the DER certificate. */
  readonly thumbprint: string;
}

export interface TestCa extends Issued {
  issue(subject: x509.JsonName, o?: { readonly notAfter?: Date }): Promise<Issued>;
  /**
   * A PEM CRL (RFC 5280 §5) of this CA revoking the given certificates, current from a
   * minute ago for a day unless told otherwise.
   */
  revoke(certs: readonly Issued[], o?: { readonly thisUpdate?: Date; readonly nextUpdate?: Date }): Promise<string>;
}

async function pemKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

const serial = (): string => `01${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex')}`;

function issued(cert: x509.X509Certificate, key: string): Issued {
  const pem = cert.toString('pem');
  return { cert: pem, key, thumbprint: createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url') };
}

/** A self-signed CA (basicConstraints cA, keyCertSign) named `CN=<name>`. */
export async function createTestCa(name: string): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const caName = [{ CN: [name] }];
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: caName,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + DAY),
      keys,
      signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    },
    webcrypto,
  );
  return {
    ...issued(ca, await pemKey(keys.privateKey)),
    async issue(subject, o = {}) {
      const leaf = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
      const cert = await x509.X509CertificateGenerator.create(
        {
          serialNumber: serial(),
          subject,
          issuer: ca.subject,
          notBefore: new Date(Date.now() - 60_000),
          notAfter: o.notAfter ?? new Date(Date.now() + DAY),
          signingAlgorithm: ALG,
          publicKey: leaf.publicKey,
          signingKey: keys.privateKey,
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
          ],
        },
        webcrypto,
      );
      return issued(cert, await pemKey(leaf.privateKey));
    },
    async revoke(certs, o = {}) {
      const crl = await x509.X509CrlGenerator.create(
        {
          issuer: ca.subject,
          thisUpdate: o.thisUpdate ?? new Date(Date.now() - 60_000),
          nextUpdate: o.nextUpdate ?? new Date(Date.now() + DAY),
          signingAlgorithm: ALG,
          signingKey: keys.privateKey,
          entries: certs.map((c) => ({ serialNumber: new x509.X509Certificate(c.cert).serialNumber, revocationDate: new Date(Date.now() - 30_000), reason: x509.X509CrlReason.keyCompromise })),
        },
        webcrypto,
      );
      // RFC 7468 §5: the label is "X509 CRL" (the library writes "CRL", which OpenSSL does not read).
      return crl.toString('pem').replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----');
    },
  };
}
