/**
 * Data-key rotation of what is sealed for one purpose (AtRest.sealSecret, under the tenant
 * key: break-the-glass reasons, device baselines, finding details; AtRest.sealFor, under a
 * patient's: finding details holding their readings): the rows sealed by one of `keyIds`
 * are opened and sealed again under the current key of the owner of the key that sealed
 * them (a patient's stays a patient's), in one
 * transaction, each written back only if it still holds what was read (a compare-and-set
 * the caller's `write` makes: a row rewritten meanwhile was sealed under the current key by
 * that write). A row that no longer opens (`decrypt-failed`) keeps its key in
 * `stillSealing`, so that rotation does not drop a key something still needs.
 */
import type { Kysely } from 'kysely';
import { envelopeKeyId } from '../crypto/index.js';
import { isCustodiaError } from '../kernel/index.js';
import type { AtRest } from './at-rest.js';
import { TENANT_OWNER } from './key-store.js';

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
    const owner = at.keys?.ownerOf(keyId);
    try {
      const plain = at.openSecret(purpose, row.subject, row.sealed);
      moves.push({ row, resealed: owner === undefined || owner === TENANT_OWNER ? at.sealSecret(purpose, row.subject, plain) : Buffer.from(at.sealFor(owner, purpose, row.subject, plain).content!) });
    } catch (e) {
      // Its patient was erased meanwhile: it stays unreadable, as it should.
      if (isCustodiaError(e, 'resource-erased')) continue;
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
