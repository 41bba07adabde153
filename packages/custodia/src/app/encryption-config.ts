/**
 * Encryption-at-rest settings (issue 4): which KeyProvider holds the KEKs, and its
 * secrets. Secrets come only from the environment (CUSTODIA_KEYRING_PASSPHRASE,
 * CUSTODIA_PKCS11_PIN), never from flags, which other users can read in the process list.
 */
import { CustodiaError } from '../kernel/index.js';

export type KeyProviderConfig =
  | { readonly kind: 'keyring'; readonly passphrase?: string }
  | { readonly kind: 'pkcs11'; readonly module: string; readonly tokenLabel: string; readonly pin: string };

export interface EncryptionConfig {
  /** Resource versions sealed and identifiers blinded. Off only for benchmarks and tools: the default is on. */
  readonly enabled: boolean;
  readonly provider: KeyProviderConfig;
}

export interface EncryptionInput {
  readonly encryption?: boolean;
  /** `keyring` (default) or `pkcs11` (env CUSTODIA_KEY_PROVIDER). */
  readonly keyProvider?: string;
  /** PKCS#11 module path (env CUSTODIA_PKCS11_MODULE), e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly pkcs11Module?: string;
  /** PKCS#11 token label (env CUSTODIA_PKCS11_TOKEN). */
  readonly pkcs11Token?: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

export function resolveEncryption(input: EncryptionInput, env: NodeJS.ProcessEnv): EncryptionConfig {
  const off = env['CUSTODIA_ENCRYPTION_AT_REST'];
  if (off !== undefined && off !== '' && off !== 'on' && off !== 'off') throw new CustodiaError('config-invalid', 'CUSTODIA_ENCRYPTION_AT_REST is on or off');
  const enabled = input.encryption ?? off !== 'off';
  const kind = input.keyProvider ?? nonEmpty(env['CUSTODIA_KEY_PROVIDER']) ?? 'keyring';
  if (kind === 'keyring') {
    const passphrase = nonEmpty(env['CUSTODIA_KEYRING_PASSPHRASE']);
    return Object.freeze({ enabled, provider: Object.freeze(passphrase === undefined ? { kind } : { kind, passphrase }) });
  }
  if (kind !== 'pkcs11') throw new CustodiaError('config-invalid', '--key-provider is keyring or pkcs11');
  const module = input.pkcs11Module ?? nonEmpty(env['CUSTODIA_PKCS11_MODULE']);
  const tokenLabel = input.pkcs11Token ?? nonEmpty(env['CUSTODIA_PKCS11_TOKEN']);
  const pin = nonEmpty(env['CUSTODIA_PKCS11_PIN']);
  if (module === undefined || tokenLabel === undefined || pin === undefined) {
    throw new CustodiaError('config-invalid', 'The pkcs11 key provider needs --pkcs11-module, --pkcs11-token and the PIN in CUSTODIA_PKCS11_PIN');
  }
  return Object.freeze({ enabled, provider: Object.freeze({ kind, module, tokenLabel, pin }) });
}
