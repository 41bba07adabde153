/**
 * How second-factor secrets are stored: `identity_users.totp_secret` (TEXT, migration
 * 0004) holds, in a sealed vault, the base64 of the envelope at-rest.ts seals under the
 * tenant key for purpose `totp` and the user id (so a secret copied onto another user
 * does not open); in a clear store, the base32 secret as it is. The envelope fits the
 * TEXT column on both databases, so no migration was needed. A pending enrolment's secret
 * is the same column (`totp_confirmed = 0`) and is sealed alike. Nothing else of the
 * second factor is kept in a readable form: recovery codes are SHA-256 hashes
 * (access/identity/recovery-codes.ts) and a sign-in's shown secret only its SHA-256
 * (oauth_pending.enrolment_hash, migration 0010).
 *
 * Rows written before secrets were sealed (users who enrolled between issue 4 and this
 * change, on developers' machines only) are refused, not read and re-sealed: a sealed
 * vault takes no clear value, as it takes no clear version (at-rest.ts). Reading them
 * would let whoever can write the database plant a TOTP secret of their choosing, and
 * would keep them in clear for good, as a confirmed secret is never written again. Such
 * a user's second factor fails with `decrypt-failed` until `custodia user reset-mfa`
 * removes it and they enrol again; the identity store opens a secret only when it is
 * used, so that reset, and every other account operation, still works on the row.
 *
 * Data-key rotation retires the tenant key too: app/key-rotation.ts re-seals these
 * secrets under the new tenant key (resealSecrets) and keeps any key that still seals
 * one (what resealSecrets reports) before it drops retired keys.
 */
import { sql, type Kysely } from 'kysely';
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { envelopeKeyId } from '../crypto/index.js';
import type { AtRest } from './at-rest.js';

/** The purpose a TOTP shared secret (RFC 6238) is sealed for. */
export const TOTP_SECRET = 'totp';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The column value for `userId`'s TOTP secret (base32). */
export function storedTotpSecret(at: AtRest, userId: string, secret: string): string {
  const stored = at.sealSecret(TOTP_SECRET, userId, Buffer.from(secret, 'utf8'));
  return at.sealed ? stored.toString('base64') : stored.toString('utf8');
}

/** The envelope in a sealed column value; `decrypt-failed` when it is not base64 (attacker-reachable: a database copy or write access). */
function envelopeOf(column: string): Buffer {
  if (column.length === 0 || !BASE64.test(column)) throw new CustodiaError('decrypt-failed', 'A second-factor secret is not sealed: the stored data was changed outside Custodia');
  return Buffer.from(column, 'base64');
}

/** `userId`'s TOTP secret (base32) from its column value; see AtRest.openSecret for the errors. */
export function openTotpSecret(at: AtRest, userId: string, column: string): string {
  const stored = at.sealed ? envelopeOf(column) : Buffer.from(column, 'utf8');
  return at.openSecret(TOTP_SECRET, userId, stored).toString('utf8');
}

interface SecretRow {
  id: string;
  totp_secret: string;
}

async function sealedSecrets(read: Kysely<unknown>): Promise<(SecretRow & { keyId: string | undefined })[]> {
  const r = await sql<SecretRow>`SELECT id, totp_secret FROM identity_users WHERE totp_secret IS NOT NULL`.execute(read);
  return r.rows.map((row) => {
    let keyId: string | undefined;
    try {
      keyId = envelopeKeyId(envelopeOf(row.totp_secret));
    } catch {
      keyId = undefined; // clear or damaged: under no key; refused when used
    }
    return { ...row, keyId };
  });
}

/**
 * Re-seals under the current tenant key the secrets sealed by `keyIds`, in one scan of the
 * users. Returns how many moved, and which of `keyIds` still seal a secret afterwards and
 * so must not be dropped: a secret that does not open is left under its key (it fails
 * where it is used), and a row changed meanwhile (a new enrolment, a reset) is left as it
 * now is.
 */
export async function resealSecrets(
  read: Kysely<unknown>,
  transaction: <T>(fn: (db: Kysely<unknown>) => Promise<T>) => Promise<T>,
  at: AtRest,
  keyIds: readonly string[],
): Promise<{ resealed: number; stillSealing: Set<string> }> {
  const stillSealing = new Set<string>();
  if (!at.sealed || keyIds.length === 0) return { resealed: 0, stillSealing };
  const wanted = new Set(keyIds);
  const updates: { id: string; from: string; to: string; keyId: string }[] = [];
  for (const row of await sealedSecrets(read)) {
    if (row.keyId === undefined || !wanted.has(row.keyId)) continue;
    try {
      updates.push({ id: row.id, from: row.totp_secret, to: storedTotpSecret(at, row.id, openTotpSecret(at, row.id, row.totp_secret)), keyId: row.keyId });
    } catch (e) {
      if (!isCustodiaError(e, 'decrypt-failed')) throw e;
      stillSealing.add(row.keyId);
    }
  }
  if (updates.length === 0) return { resealed: 0, stillSealing };
  const resealed = await transaction(async (db) => {
    let n = 0;
    for (const u of updates) {
      const r = await sql`UPDATE identity_users SET totp_secret = ${u.to} WHERE id = ${u.id} AND totp_secret = ${u.from}`.execute(db);
      n += Number(r.numAffectedRows ?? 0);
    }
    return n;
  });
  return { resealed, stillSealing };
}
