/**
 * One prepared INSERT … SELECT per table that takes all rows of a batch as a single
 * JSON array parameter (see dialect-sql.ts). Column lists are constants of this file;
 * no identifier or value from a request ever reaches the SQL text.
 */
import { sql, type Kysely } from 'kysely';
import type { ColumnKind, DialectSql } from './dialect-sql.js';

export interface BulkTable {
  readonly table: string;
  readonly columns: readonly (readonly [name: string, kind: ColumnKind])[];
}

const INDEX_PREFIX: readonly (readonly [string, ColumnKind])[] = [
  ['res_pk', 'int'],
  ['res_type', 'text'],
  ['param', 'text'],
  ['grp', 'int'],
];

export const BULK_TABLES = {
  versions: {
    table: 'resource_versions',
    columns: [
      ['res_pk', 'int'],
      ['res_type', 'text'],
      ['res_id', 'text'],
      ['version_id', 'int'],
      ['last_updated', 'int'],
      ['deleted', 'int'],
      ['method', 'text'],
      ['content', 'hexblob'],
      ['key_id', 'text'],
    ],
  },
  string: { table: 'sp_string', columns: [...INDEX_PREFIX, ['value', 'text'], ['exact', 'text'], ['tail', 'text']] },
  token: { table: 'sp_token', columns: [...INDEX_PREFIX, ['system', 'text'], ['code', 'text'], ['text', 'text']] },
  reference: {
    table: 'sp_reference',
    columns: [...INDEX_PREFIX, ['target_type', 'text'], ['target_id', 'text'], ['url', 'text'], ['ident_system', 'text'], ['ident_value', 'text']],
  },
  date: { table: 'sp_date', columns: [...INDEX_PREFIX, ['lo', 'int'], ['hi', 'int']] },
  number: { table: 'sp_number', columns: [...INDEX_PREFIX, ['lo', 'real'], ['hi', 'real']] },
  quantity: {
    table: 'sp_quantity',
    columns: [...INDEX_PREFIX, ['system', 'text'], ['code', 'text'], ['unit', 'text'], ['lo', 'real'], ['hi', 'real']],
  },
  uri: { table: 'sp_uri', columns: [...INDEX_PREFIX, ['value', 'text']] },
  compartment: { table: 'sp_compartment', columns: [['res_pk', 'int'], ['res_type', 'text'], ['compartment', 'text'], ['comp_id', 'text']] },
} as const satisfies Record<string, BulkTable>;

/** Rows per statement: bounds the size of one JSON parameter. */
const CHUNK = 2000;

export async function bulkInsert(db: Kysely<unknown>, d: DialectSql, spec: BulkTable, rows: readonly unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const names = spec.columns.map(([n]) => n).join(', ');
  const values = spec.columns.map(([, kind], i) => d.jsonColumn(i, kind)).join(', ');
  for (let start = 0; start < rows.length; start += CHUNK) {
    const json = JSON.stringify(start === 0 && rows.length <= CHUNK ? rows : rows.slice(start, start + CHUNK));
    await sql`INSERT INTO ${sql.raw(spec.table)} (${sql.raw(names)}) SELECT ${sql.raw(values)} FROM ${d.jsonRowsFrom(json)}`.execute(db);
  }
}
