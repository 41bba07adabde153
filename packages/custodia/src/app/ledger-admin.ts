/**
 * The operator's ledger commands (`custodia ledger vkey|verify`): each opens the vault's
 * database and key store, reads, and closes. Verifying may run while the server runs.
 */
import { secureRandom, systemClock } from '../kernel/index.js';
import { cosignatureVerifier, formatVerifierKey, parseVerifierKey } from '../ledger/index.js';
import { loadLedgerKey } from '../store/index.js';
import type { VaultConfig } from './config.js';
import { verifyLedger, type LedgerVerification } from './ledger-verify.js';
import { verifyCosignatures } from './cosignature-verify.js';
import { openVaultDatabase } from './vault.js';

/** The log's verifier key (C2SP signed-note vkey), from the signing key in `<data-dir>/keys`. */
export function ledgerVerifierKey(config: VaultConfig): string {
  const key = loadLedgerKey(config.dataDir, { ...(config.ledger.origin === undefined ? {} : { explicit: config.ledger.origin }), fallback: config.ledger.defaultOrigin }, secureRandom, false);
  return formatVerifierKey(key.name, key.type, key.publicKey);
}

/** What `custodia ledger verify` reports: the ledger's check, and the witnesses' cosignatures when their keys are given. */
export interface VaultLedgerVerification extends LedgerVerification {
  readonly verifierKey: string;
  /** Stored cosignatures of the witnesses named with `witnessKeys` that verify… */
  readonly cosignatures: number;
  /** …and those of other witnesses (not checked). */
  readonly uncheckedCosignatures: number;
}

/**
 * Verifies the vault's ledger and data (ledger-verify.ts). `vkey`: the log's verifier key
 * as the auditor knows it (e.g. from a witness's configuration); default, the key file's.
 * `witnessKeys`: witnesses' verifier keys (type 0x04) whose stored cosignatures must
 * verify over the stored checkpoints (cosignature-verify.ts).
 */
export async function verifyVaultLedger(config: VaultConfig, vkey?: string, witnessKeys: readonly string[] = []): Promise<VaultLedgerVerification> {
  const verifierKey = vkey ?? ledgerVerifierKey(config);
  // The auditor's keys are input from outside: a malformed one is a clear error, not a verification failure.
  parseVerifierKey(verifierKey);
  for (const k of witnessKeys) cosignatureVerifier(k);
  const db = await openVaultDatabase(config, systemClock, secureRandom);
  try {
    const ledger = await verifyLedger(db.ledger, verifierKey);
    const cosigs = await verifyCosignatures(await db.ledger.checkpoints(), db.cosignatures, witnessKeys);
    const problemCount = ledger.problemCount + cosigs.problems.length;
    return {
      ...ledger,
      ok: problemCount === 0,
      problems: [...ledger.problems, ...cosigs.problems].slice(0, 1000),
      problemCount,
      verifierKey,
      cosignatures: cosigs.verified,
      uncheckedCosignatures: cosigs.unchecked,
    };
  } finally {
    await db.close();
  }
}
