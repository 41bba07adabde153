/** Migration 0009: the operator log (access/operator-log.ts). */
import type { SqlDialect } from '../schema.js';

export function operatorLogSchema(dialect: SqlDialect): string[] {
  const seq = dialect === 'postgres' ? 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY';
  const big = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [`CREATE TABLE operator_log (seq ${seq}, at ${big} NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT NOT NULL)`];
}
