/**
 * `ledger_cosignatures` (migrations 0016, 0017) behind the CosignatureStore port
 * (ledger/cosignature-store.ts): the witnesses' cosignature lines, append-only. Lines are
 * written in ledger-only transactions (they change no resource data, so read caches stay
 * valid); losing the last one in a crash costs nothing but a resubmission, since the
 * witness then answers 409 with the size it cosigned and cosigns it again.
 */
import { sql } from 'kysely';
import type { CosignatureStore, StoredCosignature } from '../ledger/index.js';
import type { DialectSql } from './dialect-sql.js';
import type { DatabaseHandle } from './open-store.js';

interface Row {
  readonly size: number | string;
  readonly witness: string;
  readonly line: string;
  readonly at: number | string;
}

const toCosignature = (r: Row): StoredCosignature => ({ size: Number(r.size), witness: r.witness, line: r.line, at: Number(r.at) });

export function ledgerCosignatures(handle: Pick<DatabaseHandle, 'read' | 'transaction'>, d: DialectSql): CosignatureStore {
  const read = handle.read;
  return {
    async add(c) {
      await handle.transaction(
        (db) => sql`INSERT INTO ledger_cosignatures (size, witness, line, at) VALUES (${c.size}, ${c.witness}, ${c.line}, ${c.at}) ON CONFLICT (size, witness) DO NOTHING`.execute(db),
        { ledgerOnly: true },
      );
    },

    async at(size) {
      return (await sql<Row>`SELECT size, witness, line, at FROM ledger_cosignatures WHERE size = ${size} ORDER BY witness`.execute(read)).rows.map(toCosignature);
    },

    async latestSizes(witnesses) {
      if (witnesses.length === 0) return new Map();
      const rows = (await sql<{ witness: string; s: number | string }>`
        SELECT witness, MAX(size) AS s FROM ledger_cosignatures WHERE ${d.inTexts('witness', witnesses)} GROUP BY witness`.execute(read)).rows;
      return new Map(rows.map((r) => [r.witness, Number(r.s)]));
    },

    async quorumSizes(witnesses, quorum, limit, fromSize = 0) {
      if (witnesses.length === 0) return [];
      // The (witness, size) index serves "witness in … and size ≥ fromSize" as a range per witness.
      const rows = (await sql<{ size: number | string }>`
        SELECT size FROM ledger_cosignatures WHERE ${d.inTexts('witness', witnesses)} AND size >= ${fromSize}
        GROUP BY size HAVING COUNT(*) >= ${quorum} ORDER BY size DESC LIMIT ${limit}`.execute(read)).rows;
      return rows.map((r) => Number(r.size));
    },

    async scan(afterSize, afterWitness, limit) {
      return (
        await sql<Row>`
          SELECT size, witness, line, at FROM ledger_cosignatures
          WHERE size > ${afterSize} OR (size = ${afterSize} AND witness > ${afterWitness})
          ORDER BY size, witness LIMIT ${limit}`.execute(read)
      ).rows.map(toCosignature);
    },
  };
}
