/**
 * The TLS material of `custodia serve` and `custodia witness serve`: the certificate chain and private key
 * (`--tls-cert/--tls-key`, or the self-signed pair of `--tls-self-signed`) and the CA
 * certificates client certificates must chain to (`--tls-client-ca`, mutual TLS) with
 * their revocation lists (`--tls-client-crl`, app/tls-crl.ts). All are files, operator input. The key must be private to its owner, like the token signing
 * key; every file is checked before the server starts, so a wrong path or file is a
 * one-line configuration error, not a failed handshake later.
 */
import { readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { CustodiaError, type Clock, type Random } from '../kernel/index.js';
import type { TlsConfig } from './config.js';
import { ensureSelfSignedCertificate } from './self-signed-certificate.js';
import { readClientCrls, type ClientCrls } from './tls-crl.js';
import { pemBlocks } from './pem-blocks.js';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The CA certificates of mutual TLS, when configured. */
  readonly clientCa?: Buffer;
  /** Their CRLs (PEM), when configured (app/tls-crl.ts). */
  readonly clientCrl?: ClientCrls;
  /** SHA-256 fingerprint of the (first) server certificate, colon-separated hex. */
  readonly fingerprint: string;
  readonly notAfter: Date;
  readonly selfSigned: boolean;
  /** `--tls-self-signed` only: a certificate was issued at this start (first start or renewal). */
  readonly issued?: boolean;
}

const invalid = (message: string, cause?: unknown): never => {
  throw new CustodiaError('config-invalid', message, cause === undefined ? undefined : { cause });
};

function read(path: string, what: string): Buffer {
  return readLabelled(path, `The TLS ${what}`);
}

function readLabelled(path: string, label: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    return invalid(`${label} ${path} cannot be read`, e);
  }
}

/**
 * A file only its owner may read (a private key, a password file): read, and refused when
 * others can read it. `label` names it in errors (a flag, or what it is); never its contents.
 */
export function readOwnerOnlyFile(path: string, label: string): Buffer {
  const data = readLabelled(path, label);
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) invalid(`${label} ${path} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
  return data;
}

/**
 * A PEM certificate (chain) and its private key, operator input: each parsed, the key
 * private to its owner and the private key of the (first) certificate — a mismatched pair
 * is a configuration error here, not a failed handshake later.
 */
export function readCertificateAndKey(certFile: string, keyFile: string, labels: { readonly cert: string; readonly key: string }): { readonly cert: Buffer; readonly key: Buffer; readonly x509: X509Certificate } {
  const cert = readLabelled(certFile, labels.cert);
  const key = readOwnerOnlyFile(keyFile, labels.key);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    return invalid(`${labels.cert} ${certFile} is not a PEM certificate`, e);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    return invalid(`${labels.key} ${keyFile} is not a PEM private key (or it is encrypted)`, e);
  }
  if (!x509.checkPrivateKey(privateKey)) invalid(`${labels.key} ${keyFile} is not the private key of ${labels.cert} ${certFile}`);
  return { cert, key, x509 };
}

/**
 * A PEM bundle of CA certificates (`--tls-client-ca`, `--witness-ca`): one or more PEM
 * certificates, each parsed. Operator input: a file without a certificate, or with a block
 * that does not parse, is refused before anything starts.
 */
export function readCaBundle(path: string, what = 'client CA file'): Buffer {
  const pem = read(path, what);
  const blocks = pemBlocks(pem.toString('utf8'), 'CERTIFICATE');
  if (blocks.length === 0) invalid(`${path} holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (e) {
      invalid(`${path} holds a PEM block that is not a certificate`, e);
    }
  }
  return pem;
}

/** What the TLS of a server is configured by: the vault's config, or a witness's (app/witness-node.ts). */
export interface TlsSettings {
  readonly tls?: TlsConfig;
}

/**
 * The PEM material to serve with, or undefined without TLS. Reads files only: see
 * {@link prepareTlsMaterial}, which also makes the self-signed pair and reads the CRLs.
 */
export function loadTlsMaterial(config: TlsSettings): TlsMaterial | undefined {
  if (config.tls === undefined) return undefined;
  // Serving without the configured CRLs would accept revoked certificates.
  if (config.tls.clientCrlFile !== undefined) throw new Error('TLS material with client CRLs is read by prepareTlsMaterial');
  const { cert, key, x509 } = readCertificateAndKey(config.tls.certFile, config.tls.keyFile, { cert: 'The TLS certificate', key: 'The TLS private key' });
  const clientCa = config.tls.clientCaFile === undefined ? undefined : readCaBundle(config.tls.clientCaFile);
  return { cert, key, ...(clientCa === undefined ? {} : { clientCa }), fingerprint: x509.fingerprint256, notAfter: new Date(x509.validTo), selfSigned: config.tls.selfSigned };
}

/**
 * {@link loadTlsMaterial}, after making or renewing the self-signed pair of
 * `--tls-self-signed`, with the client CRLs. `serving`: the material served now, whose
 * CRLs are not parsed again when their file did not change.
 */
export async function prepareTlsMaterial(config: TlsSettings, clock: Clock, random: Random, serving?: TlsMaterial): Promise<TlsMaterial | undefined> {
  const tls = config.tls;
  if (tls === undefined) return undefined;
  const made = tls.selfSigned ? await ensureSelfSignedCertificate(tls, clock, random) : undefined;
  const { clientCrlFile, ...files } = tls;
  const material = loadTlsMaterial({ tls: files })!;
  const clientCrl = clientCrlFile === undefined || material.clientCa === undefined ? undefined : await readClientCrls(clientCrlFile, material.clientCa, clock.now(), serving?.clientCrl);
  return { ...material, ...(made === undefined ? {} : { issued: made.issued }), ...(clientCrl === undefined ? {} : { clientCrl }) };
}
