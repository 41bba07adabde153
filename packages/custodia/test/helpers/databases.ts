/**
 * The databases a store suite runs against: SQLite always; PostgreSQL when
 * CUSTODIA_TEST_POSTGRES_URL is set (`.ci/run` sets it). Each PostgreSQL suite gets a
 * fresh schema that is dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_URL = process.env['CUSTODIA_TEST_POSTGRES_URL'];

export interface TestDatabase {
  readonly name: 'sqlite' | 'postgres';
  /** `database` (and `schema`) options for openStore / the vault config. */
  readonly options: { database: string; schema?: string };
  cleanup(): Promise<void>;
}


/** Describes every dialect, including skipped ones, so the report names what was skipped. */
export const ALL_DATABASES = ['sqlite', 'postgres'] as const;
export const isAvailable = (name: 'sqlite' | 'postgres'): boolean => name === 'sqlite' || POSTGRES_URL !== undefined;

export async function createTestDatabase(name: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'custodia-test-'));
    return {
      name,
      options: { database: join(dir, 'custodia.db') },
      async cleanup() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (POSTGRES_URL === undefined) throw new Error('PostgreSQL is not configured for tests');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    name,
    options: { database: POSTGRES_URL, schema },
    async cleanup() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
