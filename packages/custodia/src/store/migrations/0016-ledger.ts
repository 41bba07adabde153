/**
 * Migration 0016: the audit ledger (issue 5), an append-only Merkle log.
 *
 * - `ledger_leaves`: one row per entry, in log order. `leaf_hash` is RFC 9162 §2.1.1's
 *   SHA-256(0x00 ‖ entry) of the entry's canonical bytes; `entry` holds those bytes, in
 *   clear for version commitments (which say nothing the `resource_versions` row does not)
 *   and sealed for audit events (under the patient's data key when the event is about one
 *   patient, so an erasure makes it unreadable while its leaf hash keeps the log whole).
 *   `ref` names the version a commitment is about, for `custodia ledger verify` (which
 *   reads every leaf in order, so it needs no index).
 * - `ledger_hashes`: every node hash of the tree, keyed by its stored-hash index (the Go
 *   checksum database's numbering, ledger/stored-hash-index.ts), written by the one
 *   sequencer as it integrates leaves; proofs and tiles are served from it.
 * - `ledger_checkpoints`: every signed checkpoint (C2SP signed note), by tree size;
 *   `ledger_cosignatures`: the witnesses' cosignature lines for them.
 * - `audit_patients`: which patients each audit event is about (`$access-log`, AuditEvent
 *   search). Patient ids are already in clear in the compartment index.
 *
 * The database refuses to change or remove a leaf, a hash or a checkpoint — except that a
 * sealed entry may be re-sealed under another data key (data-key rotation): its bytes and
 * key id change together, never its leaf hash, index or kind, and the leaf hash (over the
 * plaintext) lets `custodia ledger verify` check the result.
 */
import type { SqlDialect } from '../schema.js';

const FROZEN = ['ledger_leaves', 'ledger_hashes', 'ledger_checkpoints'];

export function ledgerSchema(dialect: SqlDialect): string[] {
  const pg = dialect === 'postgres';
  const big = pg ? 'BIGINT' : 'INTEGER';
  const blob = pg ? 'BYTEA' : 'BLOB';
  const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
  const s = [
    `CREATE TABLE ledger_leaves (
      idx ${big} PRIMARY KEY,
      leaf_hash ${blob} NOT NULL,
      kind ${text} NOT NULL,
      entry ${blob} NOT NULL,
      key_id ${text},
      ref ${text},
      at ${big} NOT NULL
    )`,
    `CREATE INDEX ledger_leaves_key ON ledger_leaves (key_id)`,
    `CREATE TABLE ledger_hashes (n ${big} PRIMARY KEY, hash ${blob} NOT NULL)`,
    `CREATE TABLE ledger_checkpoints (size ${big} PRIMARY KEY, note TEXT NOT NULL, at ${big} NOT NULL)`,
    `CREATE TABLE ledger_cosignatures (size ${big} NOT NULL, witness ${text} NOT NULL, line TEXT NOT NULL, at ${big} NOT NULL, PRIMARY KEY (size, witness))`,
    // One B-tree: by patient, then log order (which is time order: \`at\` is taken when the index is).
    `CREATE TABLE audit_patients (patient ${text} NOT NULL, idx ${big} NOT NULL, at ${big} NOT NULL, PRIMARY KEY (patient, idx))${pg ? '' : ' WITHOUT ROWID'}`,
  ];
  const frozenLeaf = ['idx', 'leaf_hash', 'kind', 'ref', 'at'];
  if (pg) {
    s.push(`CREATE FUNCTION custodia_refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the ledger is append-only'; END $$`);
    for (const t of FROZEN) {
      s.push(`CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION custodia_refuse_ledger_change()`);
      const resealOnly = `NOT (${frozenLeaf.map((c) => `NEW.${c} IS NOT DISTINCT FROM OLD.${c}`).join(' AND ')} AND OLD.key_id IS NOT NULL AND NEW.key_id IS NOT NULL AND NEW.key_id <> OLD.key_id)`;
      s.push(`CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} FOR EACH ROW ${t === 'ledger_leaves' ? `WHEN (${resealOnly}) ` : ''}EXECUTE FUNCTION custodia_refuse_ledger_change()`);
    }
  } else {
    for (const t of FROZEN) {
      const resealOnly = `NOT (${frozenLeaf.map((c) => `NEW.${c} IS OLD.${c}`).join(' AND ')} AND OLD.key_id IS NOT NULL AND NEW.key_id IS NOT NULL AND NEW.key_id <> OLD.key_id)`;
      s.push(`CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} ${t === 'ledger_leaves' ? `WHEN ${resealOnly} ` : ''}BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END`);
      s.push(`CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END`);
    }
  }
  return s;
}
