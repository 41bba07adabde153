/**
 * The operator's ledger commands (`custodia ledger vkey|verify`): each opens the vault's
 * database and key store, reads, and closes. Verifying may run while the server runs.
 */
import { secureRandom, systemClock } from '../kernel/index.js';
import { formatVerifierKey, parseVerifierKey } from '../ledger/index.js';
import { loadLedgerKey } from '../store/index.js';
import type { VaultConfig } from './config.js';
import { verifyLedger, type LedgerVerification } from './ledger-verify.js';
import { openVaultDatabase } from './vault.js';

/** The log's verifier key (C2SP signed-note vkey), from the signing key in `<data-dir>/keys`. */
export function ledgerVerifierKey(config: VaultConfig): string {
  const key = loadLedgerKey(config.dataDir, { ...(config.ledger.origin === undefined ? {} : { explicit: config.ledger.origin }), fallback: config.ledger.defaultOrigin }, secureRandom, false);
  return formatVerifierKey(key.name, key.type, key.publicKey);
}

/**
 * Verifies the vault's ledger and data (ledger-verify.ts). `vkey`: the log's verifier key
 * as the auditor knows it (e.g. from a witness's configuration); default, the key file's.
 */
export async function verifyVaultLedger(config: VaultConfig, vkey?: string): Promise<LedgerVerification & { readonly verifierKey: string }> {
  const verifierKey = vkey ?? ledgerVerifierKey(config);
  // The auditor's key is input from outside: a malformed one is a clear error, not a verification failure.
  parseVerifierKey(verifierKey);
  const db = await openVaultDatabase(config, systemClock, secureRandom);
  try {
    return { ...(await verifyLedger(db.ledger, verifierKey)), verifierKey };
  } finally {
    await db.close();
  }
}
