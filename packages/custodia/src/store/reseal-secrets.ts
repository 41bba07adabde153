/**
 * Data-key rotation of what is sealed under the tenant key for one purpose
 * (AtRest.sealSecret: finding details, break-the-glass reasons, device baselines): the
 * rows sealed by one of `keyIds` are opened and sealed again under the current key, in one
 * transaction, each written back only if it still holds what was read (a compare-and-set
 * the caller's `write` makes: a row rewritten meanwhile was sealed under the current key by
 * that write). A row that no longer opens (`decrypt-failed`) keeps its key in
 * `stillSealing`, so that rotation does not drop a key something still needs.
 */
import type { Kysely } from 'kysely';
import { envelopeKeyId } from '../crypto/index.js';
import { isCustodiaError } from '../kernel/index.js';
import type { AtRest } from './at-rest.js';

/** A stored secret: the subject it is bound to and its envelope as the database holds it. */
export interface SealedRow {
  readonly subject: string;
  readonly sealed: Uint8Array;
}

export interface ResealOutcome {
  readonly resealed: number;
  readonly stillSealing: Set<string>;
}

export async function resealSecretRows<R extends SealedRow>(
  at: AtRest,
  purpose: string,
  keyIds: readonly string[],
  rows: readonly R[],
  transaction: <T>(fn: (db: Kysely<unknown>) => Promise<T>) => Promise<T>,
  write: (db: Kysely<unknown>, row: R, resealed: Buffer) => Promise<number>,
): Promise<ResealOutcome> {
  const stillSealing = new Set<string>();
  if (!at.sealed || keyIds.length === 0) return { resealed: 0, stillSealing };
  const wanted = new Set(keyIds);
  const moves: { row: R; resealed: Buffer }[] = [];
  for (const row of rows) {
    let keyId: string;
    try {
      keyId = envelopeKeyId(Buffer.from(row.sealed));
    } catch {
      continue; // damaged: under no key, refused when read
    }
    if (!wanted.has(keyId)) continue;
    try {
      moves.push({ row, resealed: at.sealSecret(purpose, row.subject, at.openSecret(purpose, row.subject, row.sealed)) });
    } catch (e) {
      if (!isCustodiaError(e, 'decrypt-failed')) throw e;
      stillSealing.add(keyId);
    }
  }
  if (moves.length === 0) return { resealed: 0, stillSealing };
  const resealed = await transaction(async (db) => {
    let n = 0;
    for (const m of moves) n += await write(db, m.row, m.resealed);
    return n;
  });
  return { resealed, stillSealing };
}
