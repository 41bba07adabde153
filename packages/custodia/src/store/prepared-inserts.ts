/**
 * Multi-row INSERTs on a better-sqlite3 connection: {@link ROWS_PER_INSERT} rows per
 * statement (one call into SQLite instead of 32), the rest one at a time. Statements are
 * prepared once per table and width; table and column names are constants (BulkTable
 * specs), never request data.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { BulkTable } from './bulk-insert.js';

/** Rows per multi-row INSERT (the parameters stay far below SQLite's limit). */
export const ROWS_PER_INSERT = 32;

export type InsertRows = (spec: BulkTable, rows: readonly (readonly unknown[])[]) => void;

/** Inserts rows (values as SQLite takes them: Buffers for BLOBs) in the transaction open on `db`. */
export function preparedInserts(db: BetterSqlite3.Database): InsertRows {
  const statements = new Map<string, BetterSqlite3.Statement>();
  const statement = (spec: BulkTable, n: number): BetterSqlite3.Statement => {
    const key = `${spec.table}:${n}`;
    let st = statements.get(key);
    if (st === undefined) {
      const one = `(${spec.columns.map(() => '?').join(', ')})`;
      st = db.prepare(`INSERT INTO ${spec.table} (${spec.columns.map(([c]) => c).join(', ')}) VALUES ${Array.from({ length: n }, () => one).join(', ')}`);
      statements.set(key, st);
    }
    return st;
  };
  return (spec, rows) => {
    let i = 0;
    for (; i + ROWS_PER_INSERT <= rows.length; i += ROWS_PER_INSERT) statement(spec, ROWS_PER_INSERT).run(...rows.slice(i, i + ROWS_PER_INSERT).flat());
    for (; i < rows.length; i++) statement(spec, 1).run(...rows[i]!);
  };
}
