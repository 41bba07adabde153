/**
 * `custodia serve --tls-self-signed`: HTTPS for localhost without an operator-supplied
 * certificate (issue 4 §5). The vault keeps an ECDSA P-256 key (RFC 5480) and a
 * self-signed X.509 v3 certificate (RFC 5280) for `localhost`, `127.0.0.1` and `::1` under
 * `<data-dir>/keys/tls/`, makes them the first time, and issues a new certificate when the
 * old one has expired, is within {@link RENEW_BEFORE_DAYS} days of expiring, or does not
 * name those hosts. The key is kept across renewals, so a client that pins the public key
 * (not the certificate) keeps working; the certificate's SHA-256 fingerprint is printed at
 * startup for clients that pin the certificate.
 *
 * Node has no X.509 generator: @peculiar/x509 (over Node's WebCrypto) builds the
 * certificate. It needs a Reflect metadata polyfill, so both are loaded on first use only,
 * never by a vault that does not make certificates.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { dirname } from 'node:path';
import { CustodiaError, type Clock, type Random } from '../kernel/index.js';
import { writeFileAtomically } from '../store/index.js';

/** Lifetime of a certificate this module issues. */
export const VALIDITY_DAYS = 90;
/** A certificate with fewer days than this left is replaced at startup. */
export const RENEW_BEFORE_DAYS = 30;
/** The names the certificate is for (RFC 5280 §4.2.1.6 subjectAltName). */
export const LOCALHOST_NAMES = Object.freeze({ dns: ['localhost'], ip: ['127.0.0.1', '::1'] });

const DAY_MS = 24 * 3600 * 1000;
/** Clocks differ a little between machines: the certificate is valid from a minute before it was made. */
const BACKDATE_MS = 60_000;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface SelfSignedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** True when this call wrote a new certificate (first start, expiry, near expiry). */
  readonly issued: boolean;
  /** SHA-256 of the DER certificate, as colon-separated hex (what browsers and `openssl x509 -fingerprint -sha256` show). */
  readonly fingerprint: string;
  readonly notAfter: Date;
}

/** Node's `subjectAltName` text for the names above. */
const EXPECTED_SAN = 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1';

function failed(message: string, cause?: unknown): never {
  throw new CustodiaError('config-invalid', message, cause === undefined ? undefined : { cause });
}

/** The certificate in `certFile` if it is still good for a while, is for localhost, and belongs to `key`. */
function usableCertificate(certFile: string, key: KeyObject, now: number): X509Certificate | undefined {
  if (!existsSync(certFile)) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch {
    return undefined;
  }
  const notAfter = Date.parse(cert.validTo);
  const fresh = Number.isFinite(notAfter) && notAfter - now > RENEW_BEFORE_DAYS * DAY_MS && Date.parse(cert.validFrom) <= now;
  return fresh && cert.subjectAltName === EXPECTED_SAN && cert.checkPrivateKey(key) ? cert : undefined;
}

/** The stored key, or a new P-256 key written with mode 0600. */
function loadOrCreateKey(keyFile: string, random: Random): KeyObject {
  if (existsSync(keyFile)) {
    try {
      const key = createPrivateKey(readFileSync(keyFile));
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return key;
    } catch {
      // Not a key we can use: replaced below.
    }
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileAtomically(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600, random);
  return privateKey;
}

/**
 * RFC 5280 certificate for the localhost names: v3, a random positive serial of up to 127 bits
 * (§4.1.2.2), subject = issuer = CN=localhost, an end-entity certificate (basicConstraints
 * cA false, §4.2.1.9) for TLS servers only (keyUsage digitalSignature, §4.2.1.3;
 * extKeyUsage serverAuth, §4.2.1.12), ECDSA with SHA-256 (RFC 5758 §3.2).
 */
async function issueCertificate(key: KeyObject, now: number, random: Random): Promise<string> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const privateKey = await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), EC_P256, false, ['sign']);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const publicKey = await webcrypto.subtle.importKey('spki', spki, EC_P256, true, ['verify']);
  const serial = random.bytes(16);
  // Positive, and no leading zero octet (DER INTEGERs are minimal): the first octet is 0x01-0x7f.
  serial[0] = serial[0]! & 0x7f || 0x01;
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial.toString('hex'),
      subject: 'CN=localhost',
      issuer: 'CN=localhost',
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + VALIDITY_DAYS * DAY_MS),
      signingAlgorithm: EC_P256,
      publicKey,
      signingKey: privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...LOCALHOST_NAMES.dns.map((value) => ({ type: 'dns' as const, value })),
          ...LOCALHOST_NAMES.ip.map((value) => ({ type: 'ip' as const, value })),
        ]),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return cert.toString('pem');
}

/**
 * Makes sure `certFile` and `keyFile` hold a usable self-signed localhost pair, issuing
 * what is missing or stale, and says what is there. Time comes from `clock`, the serial
 * number from `random`.
 */
export async function ensureSelfSignedCertificate(files: { readonly certFile: string; readonly keyFile: string }, clock: Clock, random: Random): Promise<SelfSignedCertificate> {
  const now = clock.now();
  try {
    mkdirSync(dirname(files.keyFile), { recursive: true, mode: 0o700 });
    const key = loadOrCreateKey(files.keyFile, random);
    let cert = usableCertificate(files.certFile, key, now);
    const issued = cert === undefined;
    if (cert === undefined) {
      const certPem = await issueCertificate(key, now, random);
      writeFileAtomically(files.certFile, certPem, 0o644, random);
      cert = new X509Certificate(certPem);
    }
    return { certFile: files.certFile, keyFile: files.keyFile, issued, fingerprint: cert.fingerprint256, notAfter: new Date(cert.validTo) };
  } catch (e) {
    if (e instanceof CustodiaError) throw e;
    return failed(`The self-signed TLS certificate in ${dirname(files.certFile)} cannot be made`, e);
  }
}
