/**
 * PostgreSQL 15+ through node-postgres. BIGINT columns come back as JS numbers (all our
 * BIGINTs are epoch milliseconds or row keys below 2^53). An optional schema isolates
 * a vault (and each test suite) inside a shared database.
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from './schema.js';

const INT8_OID = 20;

/** Per-pool type parsers: no change to pg's process-wide defaults. */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export interface PostgresOptions {
  readonly url: string;
  readonly schema?: string;
  readonly maxConnections?: number;
}

export function openPostgres(options: PostgresOptions): { db: Kysely<Database>; pool: pg.Pool } {
  const config: pg.PoolConfig = {
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types: typeParsers,
    application_name: 'custodia',
  };
  if (options.schema !== undefined) {
    // The schema name is operator configuration, validated by the caller as an identifier.
    config.options = `-c search_path=${options.schema}`;
  }
  const pool = new pg.Pool(config);
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => undefined);
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}
