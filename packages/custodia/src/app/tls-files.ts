/**
 * The TLS certificate chain and private key of `custodia serve --tls-cert/--tls-key`
 * (PEM files, operator input). The key must be private to its owner, like the token
 * signing key; both are checked to be PEM before the server starts, so a wrong path or
 * file is a one-line configuration error, not a failed handshake later.
 */
import { readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';
import type { VaultConfig } from './config.js';

const invalid = (message: string, cause?: unknown): never => {
  throw new CustodiaError('config-invalid', message, cause === undefined ? undefined : { cause });
};

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    return invalid(`The TLS ${what} ${path} cannot be read`, e);
  }
}

/** The PEM material to serve with, or undefined without TLS. */
export function loadTlsMaterial(config: VaultConfig): { readonly cert: Buffer; readonly key: Buffer } | undefined {
  if (config.tls === undefined) return undefined;
  const cert = read(config.tls.certFile, 'certificate');
  const key = read(config.tls.keyFile, 'private key');
  const mode = statSync(config.tls.keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) invalid(`${config.tls.keyFile} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
  try {
    new X509Certificate(cert);
  } catch (e) {
    invalid(`${config.tls.certFile} is not a PEM certificate`, e);
  }
  try {
    createPrivateKey(key);
  } catch (e) {
    invalid(`${config.tls.keyFile} is not a PEM private key (or it is encrypted)`, e);
  }
  return { cert, key };
}
