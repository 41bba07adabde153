/**
 * The database side of key management (issue 4): which versions each data key seals,
 * erasing what a destroyed key sealed, and re-sealing under a new key (data-key
 * rotation). It only moves ciphertext and key ids; opening and sealing is at-rest.ts's.
 */
import { sql } from 'kysely';
import { guarded } from './db-errors.js';
import type { DialectSql } from './dialect-sql.js';
import type { StoreHandles } from './kysely-resource-store.js';
import type { StoredContent } from './at-rest.js';
import { deleteSearchRows } from './write-versions.js';
import { resealSecrets } from './identity-secrets.js';
import { findingStore } from './finding-store.js';
import { baselineStore } from './baseline-store.js';
import { breakGlassStore } from './break-glass-store.js';
import type { LedgerLog, LedgerResealProgress } from './ledger-log.js';
import { storedDigest, type StoredDigest } from './stored-digest.js';

export interface KeyUsage {
  /** null: versions stored in clear (written with encryption off) or deletions. */
  readonly keyId: string | null;
  /** Versions with content under this key. */
  readonly versions: number;
  /** Versions whose content an erasure removed. */
  readonly erased: number;
}

export interface SealedRow extends StoredContent {
  readonly seq: number;
  readonly content: Uint8Array;
  readonly key_id: string;
}

export interface ErasedCounts {
  /** Versions whose content was removed. */
  readonly versions: number;
  /** Resources whose current version was erased: out of every search, 410 on read. */
  readonly resources: number;
}

/** One live resource of a patient's compartment (the patient included), for retention and erasure reports. */
export interface CompartmentEntry {
  readonly type: string;
  readonly id: string;
  /** Epoch ms of its current version. */
  readonly lastUpdated: number;
  /** The key its current version is sealed by (null in clear). */
  readonly keyId: string | null;
}

export interface SealedDataStore {
  keyUsage(): Promise<KeyUsage[]>;
  /** The live resources in Patient/`patientId`'s compartment, the Patient itself included. */
  compartment(patientId: string): Promise<CompartmentEntry[]>;
  /**
   * Crypto-shredding's database half: removes the content of every version sealed by
   * `keyIds` (already destroyed in the key store) and the search rows of resources whose
   * current version is among them, which then count as deleted. Their visibility facts
   * stay, so a caller who could not see the record still gets 404, not 410. Idempotent:
   * replayed against a restored backup it erases the same records again.
   */
  eraseSealedBy(keyIds: readonly string[]): Promise<ErasedCounts>;
  /** How many versions `keyIds` still seal (through the key_id index: re-sealing's progress). */
  countSealedBy(keyIds: readonly string[]): Promise<number>;
  /** Up to `limit` versions sealed by `keyIds`, oldest first (re-encryption's batch). */
  sealedBy(keyIds: readonly string[], limit: number): Promise<SealedRow[]>;
  /** Replaces content and key id of versions still sealed by the key they were read under; returns how many. */
  reseal(rows: readonly { seq: number; fromKeyId: string; content: Buffer; keyId: string }[]): Promise<number>;
  /**
   * Re-seals what else the tenant key seals — second-factor secrets (identity-secrets.ts),
   * findings' details (finding-store.ts) and break-the-glass reasons (break-glass-store.ts) — sealed by `keyIds` under the current tenant
   * key; returns how many, and which of `keyIds` still seal one and must not be dropped.
   */
  resealSecrets(keyIds: readonly string[]): Promise<{ resealed: number; stillSealing: Set<string> }>;
  /** The same for the audit ledger's sealed entries, a batch of at most `limit`; which keys still seal one. */
  resealLedger(keyIds: readonly string[], limit: number): Promise<LedgerResealProgress>;
}

const CHUNK = 500;

/** `ledger`: where re-sealing commits to the new bytes of each version (the vault's audit ledger). */
export function sealedDataStore(h: StoreHandles, ledger?: LedgerLog): SealedDataStore {
  const d: DialectSql = h.d;
  return {
    keyUsage: () =>
      guarded(async () => {
        const r = await sql<{ key_id: string | null; n: number | string; gone: number | string }>`
          SELECT key_id, SUM(CASE WHEN content IS NULL THEN 0 ELSE 1 END) AS n, SUM(CASE WHEN content IS NULL AND key_id IS NOT NULL THEN 1 ELSE 0 END) AS gone
          FROM resource_versions GROUP BY key_id`.execute(h.read);
        return r.rows.map((x) => ({ keyId: x.key_id, versions: Number(x.n), erased: Number(x.gone) }));
      }),
    compartment: (patientId) =>
      guarded(async () => {
        const r = await sql<{ res_type: string; res_id: string; last_updated: number | string; key_id: string | null }>`
          SELECT r.res_type, r.res_id, r.last_updated, v.key_id
          FROM resources r JOIN resource_versions v ON v.res_pk = r.pk AND v.version_id = r.version_id
          WHERE r.deleted = 0 AND (r.pk IN (SELECT res_pk FROM sp_compartment WHERE compartment = 'Patient' AND comp_id = ${patientId})
            OR (r.res_type = 'Patient' AND r.res_id = ${patientId}))`.execute(h.read);
        return r.rows.map((x) => ({ type: x.res_type, id: x.res_id, lastUpdated: Number(x.last_updated), keyId: x.key_id }));
      }),
    eraseSealedBy: (keyIds) =>
      guarded(async () => {
        let versions = 0;
        let resources = 0;
        for (let i = 0; i < keyIds.length; i += CHUNK) {
          const ids = keyIds.slice(i, i + CHUNK);
          const counts = await h.transaction(async (db) => {
            const current = await sql<{ pk: number }>`
              SELECT r.pk FROM resources r JOIN resource_versions v ON v.res_pk = r.pk AND v.version_id = r.version_id
              WHERE ${d.inTexts('v.key_id', ids)} AND r.deleted = 0`.execute(db);
            const pks = current.rows.map((x) => Number(x.pk));
            if (pks.length > 0) {
              await deleteSearchRows(db, d, pks);
              await sql`UPDATE resources SET deleted = 1 WHERE ${d.inKeys('pk', pks)}`.execute(db);
            }
            const v = await sql`UPDATE resource_versions SET content = NULL WHERE ${d.inTexts('key_id', ids)} AND content IS NOT NULL`.execute(db);
            return { versions: Number(v.numAffectedRows ?? 0), resources: pks.length };
          });
          versions += counts.versions;
          resources += counts.resources;
        }
        return { versions, resources };
      }),
    countSealedBy: (keyIds) =>
      guarded(async () => {
        if (keyIds.length === 0) return 0;
        const r = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM resource_versions WHERE ${d.inTexts('key_id', keyIds)} AND content IS NOT NULL`.execute(h.read);
        return Number(r.rows[0]?.n ?? 0);
      }),
    sealedBy: (keyIds, limit) =>
      guarded(async () => {
        if (keyIds.length === 0) return [];
        const r = await sql<SealedRow>`
          SELECT seq, res_type, res_id, version_id, content, key_id FROM resource_versions
          WHERE ${d.inTexts('key_id', keyIds)} AND content IS NOT NULL ORDER BY seq LIMIT ${limit}`.execute(h.read);
        return r.rows.map((x) => ({ ...x, seq: Number(x.seq) }));
      }),
    reseal: (rows) =>
      guarded(async () => {
        if (rows.length === 0) return 0;
        return h.transaction(async (db) => {
          const digests: StoredDigest[] = [];
          for (const row of rows) {
            const r = await sql<{ res_type: string; res_id: string; version_id: number | string }>`
              UPDATE resource_versions SET content = ${row.content}, key_id = ${row.keyId}
              WHERE seq = ${row.seq} AND key_id = ${row.fromKeyId} AND content IS NOT NULL
              RETURNING res_type, res_id, version_id`.execute(db);
            for (const v of r.rows) digests.push(storedDigest({ type: v.res_type, id: v.res_id, versionId: Number(v.version_id) }, row.content));
          }
          // The ledger commits to the new bytes in the same transaction: `custodia ledger verify` then accepts them.
          await ledger?.append(db, { reseals: digests });
          return digests.length;
        });
      }),
    resealSecrets: (keyIds) =>
      guarded(async () => {
        const totp = await resealSecrets(h.read, h.transaction, h.at, keyIds);
        const findings = await findingStore(h, h.at).resealFindings(keyIds);
        const reasons = await breakGlassStore(h, h.at).resealReasons(keyIds);
        const baselines = await baselineStore(h, h.at).resealBaselines(keyIds);
        const all = [totp, findings, reasons, baselines];
        return { resealed: all.reduce((n, r) => n + r.resealed, 0), stillSealing: new Set(all.flatMap((r) => [...r.stillSealing])) };
      }),
    resealLedger: (keyIds, limit) => guarded(async () => (ledger === undefined ? { resealed: 0, stillSealing: new Set<string>(), remaining: 0 } : ledger.resealSealedBy(keyIds, limit))),
  };
}
