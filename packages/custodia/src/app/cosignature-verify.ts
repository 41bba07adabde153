/**
 * `custodia ledger verify --witness-vkey VKEY` (issue 5 §3–4): every stored cosignature of
 * a witness the auditor names must verify over the checkpoint stored at its size. A row
 * that fails shows that the checkpoint was rewritten after that witness cosigned it (or
 * the row itself was forged). Rows of witnesses the auditor did not name are counted,
 * not believed.
 */
import { cosignatureVerifier, parseSignedNote, parseVerifierKey, verifiedCosignatures, witnessKeyRef, type CosignatureStore, type NoteVerifier, type StoredCheckpoint } from '../ledger/index.js';

export interface CosignatureVerification {
  /** Stored lines of the named witnesses that verify. */
  readonly verified: number;
  /** Stored lines of witnesses not named (not checked). */
  readonly unchecked: number;
  readonly problems: readonly string[];
}

const BATCH = 5000;

/**
 * Checks the stored cosignatures of `witnessKeys` (vkeys, type 0x04) against `checkpoints`.
 *
 * @example
 *   const r = await verifyCosignatures(await db.ledger.checkpoints(), db.cosignatures, [w1vkey, w2vkey]);
 */
export async function verifyCosignatures(checkpoints: readonly StoredCheckpoint[], store: CosignatureStore, witnessKeys: readonly string[]): Promise<CosignatureVerification> {
  const witnesses = new Map<string, NoteVerifier>();
  for (const vkey of witnessKeys) {
    const k = parseVerifierKey(vkey);
    witnesses.set(witnessKeyRef(k.name, k.keyId), cosignatureVerifier(k));
  }
  const texts = new Map<number, string | undefined>();
  for (const c of checkpoints) {
    try {
      texts.set(c.size, parseSignedNote(c.note).text);
    } catch {
      texts.set(c.size, undefined);
    }
  }
  const problems: string[] = [];
  let verified = 0;
  let unchecked = 0;
  for (let size = -1, witness = ''; ; ) {
    const rows = await store.scan(size, witness, BATCH);
    if (rows.length === 0) break;
    for (const r of rows) {
      const verifier = witnesses.get(r.witness);
      if (verifier === undefined) unchecked++;
      else if (!texts.has(r.size)) problems.push(`cosignature of ${r.witness} on checkpoint ${r.size}: no checkpoint of that size is stored`);
      else if (verifiedCosignatures(texts.get(r.size) ?? '', [r.line], [verifier]).length === 1) verified++;
      else problems.push(`cosignature of ${r.witness} on checkpoint ${r.size}: it does not verify over the stored checkpoint (rewritten after the witness cosigned it?)`);
    }
    ({ size, witness } = rows[rows.length - 1]!);
  }
  return { verified, unchecked, problems };
}
