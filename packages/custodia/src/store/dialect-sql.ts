/**
 * The few SQL fragments that differ between SQLite and PostgreSQL. Everything else in
 * the store is written once. Bulk writes pass their rows as one JSON array parameter,
 * read back by `json_each` (SQLite) or `json_array_elements` (PostgreSQL): one fixed
 * statement per table whatever the batch size, so statements stay prepared and no SQL
 * is ever assembled from values.
 */
import { sql, type RawBuilder } from 'kysely';
import type { SqlDialect } from './schema.js';

export type ColumnKind = 'int' | 'real' | 'text' | 'hexblob';

export interface DialectSql {
  readonly name: SqlDialect;
  /** `FROM <rows of the JSON array parameter> e` */
  jsonRowsFrom(json: string): RawBuilder<unknown>;
  /** Column i of the current JSON row, cast to kind. */
  jsonColumn(i: number, kind: ColumnKind): string;
  /** `col IN (<keys>)` for a list of integer keys. */
  inKeys(column: string, keys: readonly number[]): RawBuilder<unknown>;
  /** `col IN (<values>)` for a list of text values (one parameter, whatever the length). */
  inTexts(column: string, values: readonly string[]): RawBuilder<unknown>;
  /** The largest code point, appended to a prefix to bound a byte-order range scan. */
  readonly maxChar: string;
}

const MAX_CHAR = String.fromCodePoint(0x10ffff);

export const sqliteSql: DialectSql = {
  name: 'sqlite',
  jsonRowsFrom: (json) => sql`json_each(${json}) e`,
  jsonColumn(i, kind) {
    const v = `e.value->>${i}`;
    if (kind === 'hexblob') return `unhex(${v})`;
    return v;
  },
  inKeys: (column, keys) => sql`${sql.ref(column)} IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`,
  inTexts: (column, values) => sql`${sql.ref(column)} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`,
  maxChar: MAX_CHAR,
};

export const postgresSql: DialectSql = {
  name: 'postgres',
  jsonRowsFrom: (json) => sql`json_array_elements(${json}::json) e`,
  jsonColumn(i, kind) {
    const v = `(e->>${i})`;
    switch (kind) {
      case 'int':
        return `${v}::bigint`;
      case 'real':
        return `${v}::double precision`;
      case 'hexblob':
        return `decode(${v}, 'hex')`;
      default:
        return v;
    }
  },
  inKeys: (column, keys) => sql`${sql.ref(column)} = ANY(${keys as number[]}::bigint[])`,
  inTexts: (column, values) => sql`${sql.ref(column)} = ANY(${values as string[]}::text[])`,
  maxChar: MAX_CHAR,
};

export function dialectSql(name: SqlDialect): DialectSql {
  return name === 'sqlite' ? sqliteSql : postgresSql;
}
