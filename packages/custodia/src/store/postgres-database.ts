/**
 * PostgreSQL 15+ through node-postgres. BIGINT columns come back as JS numbers (all our
 * BIGINTs are epoch milliseconds or row keys below 2^53). An optional schema isolates
 * a vault (and each test suite) inside a shared database.
 */
import pg from 'pg';
import { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { CustodiaError } from '../kernel/index.js';
import { VaultPostgresDialect } from './postgres-schema-introspector.js';

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
  /** The statements of searches run on a second pool, each cancelled by PostgreSQL past this many milliseconds (postgres-search-runner.ts). */
  readonly searchTimeoutMs: number;
}

/** Connections of the search pool: at most this many costly search statements run at once; more wait for one. */
const SEARCH_CONNECTIONS = 4;

export function openPostgres(options: PostgresOptions): { db: Kysely<Database>; pool: pg.Pool; searchPool: pg.Pool } {
  if (!Number.isSafeInteger(options.searchTimeoutMs) || options.searchTimeoutMs < 1) throw new CustodiaError('config-invalid', 'A search timeout is a whole number of milliseconds');
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
  const db = new Kysely<Database>({ dialect: new VaultPostgresDialect({ pool }) });
  const ms = options.searchTimeoutMs;
  // statement_timeout on every connection of this pool: PostgreSQL cancels a statement past it (SQLSTATE 57014).
  const searchPool = new pg.Pool({ ...config, max: SEARCH_CONNECTIONS, application_name: 'custodia-search', options: [config.options, `-c statement_timeout=${ms}`].filter((o) => o !== undefined).join(' ') });
  searchPool.on('error', () => undefined);
  return { db, pool, searchPool };
}
