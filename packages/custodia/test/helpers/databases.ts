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
import { KeyStore, openKeyringProvider, sealedAtRest, type AtRest } from '../../src/store/index.js';
import { secureRandom } from '../../src/kernel/index.js';

export const POSTGRES_URL = process.env['CUSTODIA_TEST_POSTGRES_URL'];

export interface TestDatabase {
  readonly name: 'sqlite' | 'postgres';
  /**
   * `database` (and `schema`) options for openStore / the vault config, and the at-rest
   * codec: every store suite runs sealed, as the vault does (a fresh key store per database).
   */
  readonly options: { database: string; schema?: string; atRest: AtRest };
  /** The key store the options seal under. */
  readonly keys: KeyStore;
  cleanup(): Promise<void>;
}


/** Describes every dialect, including skipped ones, so the report names what was skipped. */
export const ALL_DATABASES = ['sqlite', 'postgres'] as const;
export const isAvailable = (name: 'sqlite' | 'postgres'): boolean => name === 'sqlite' || POSTGRES_URL !== undefined;

/** A key store in `dir`/keys with a fresh local keyring. */
export function testKeyStore(dir: string): KeyStore {
  const now = (): number => Date.now();
  return new KeyStore(join(dir, 'keys', 'keystore.db'), openKeyringProvider({ dataDir: dir, random: secureRandom, now }), secureRandom, now);
}

export async function createTestDatabase(name: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'custodia-test-'));
  const keys = testKeyStore(dir);
  const atRest = sealedAtRest(keys, secureRandom);
  if (name === 'sqlite') {
    return {
      name,
      options: { database: join(dir, 'custodia.db'), atRest },
      keys,
      async cleanup() {
        keys.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (POSTGRES_URL === undefined) throw new Error('PostgreSQL is not configured for tests');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    name,
    options: { database: POSTGRES_URL, schema, atRest },
    keys,
    async cleanup() {
      keys.close();
      rmSync(dir, { recursive: true, force: true });
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
