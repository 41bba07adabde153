/**
 * The token-signing key, kept in `<data-dir>/keys/token-signing.jwk` (mode 0600, folder
 * 0700), created on first use. Keys never live in the database: a dump or backup of the
 * database alone cannot mint tokens.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { CustodiaError } from '../kernel/index.js';
import type { SigningKey } from '../access/index.js';

const FILE = 'token-signing.jwk';

export function keysDir(dataDir: string): string {
  return join(dataDir, 'keys');
}

async function fromJwk(jwk: JWK): Promise<SigningKey> {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new CustodiaError('config-invalid', 'The token-signing key file does not hold an Ed25519 private key');
  }
  const { d: _d, ...publicJwk } = jwk;
  const kid = jwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  const privateKey = await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA', { extractable: false });
  const publicKey = await importJWK({ ...publicJwk, alg: 'EdDSA' }, 'EdDSA');
  if (privateKey instanceof Uint8Array || publicKey instanceof Uint8Array) throw new CustodiaError('config-invalid', 'Unexpected symmetric key');
  return { kid, privateKey, publicKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } };
}

/** Loads the signing key, creating it (0600) when `create` is set and none exists. */
export async function loadSigningKey(dataDir: string, create: boolean): Promise<SigningKey> {
  const dir = keysDir(dataDir);
  const path = join(dir, FILE);
  if (!existsSync(path)) {
    if (!create) throw new CustodiaError('config-invalid', `No token-signing key in ${dir}; start the server once to create it`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(privateKey);
    const { d: _d, ...pub } = jwk;
    jwk.kid = await calculateJwkThumbprint(pub);
    // wx: never overwrite a key another process created in the meantime.
    try {
      writeFileSync(path, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CustodiaError('config-invalid', `${path} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
  } catch (e) {
    throw new CustodiaError('config-invalid', `${path} is not a JSON Web Key`, { cause: e });
  }
  return fromJwk(jwk);
}
