/**
 * A real vault behind a real fastify instance for API tests: temp data directory,
 * SQLite or PostgreSQL, seeded randomness, requests through `fastify.inject`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { seededRandom, systemClock, type Clock } from '../../src/kernel/index.js';
import { createVault, resolveConfig, type Vault, type ConfigInput, type FloorTimer } from '../../src/app/index.js';
import { buildServer } from '../../src/server/index.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const BASE = 'http://127.0.0.1:8080/fhir';

export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly text: string;
  /** Parsed JSON body (undefined when empty). */
  readonly body: any;
}

export interface TestVault {
  readonly vault: Vault;
  readonly app: FastifyInstance;
  readonly token: string;
  readonly db: TestDatabase;
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  /** A token with other scopes or subject. */
  tokenFor(scope: string, subject?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestVault(dialect: 'sqlite' | 'postgres', options: { clock?: Clock; config?: ConfigInput; seed?: string; timer?: FloorTimer } = {}): Promise<TestVault> {
  const db = await createTestDatabase(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'custodia-vault-'));
  const config = resolveConfig({
    dataDir,
    database: db.options.database,
    ...(db.options.schema === undefined ? {} : { postgresSchema: db.options.schema }),
    baseUrl: BASE,
    logLevel: 'silent',
    ...(options.config ?? {}),
  });
  // Cheap scrypt: tests create many users; production keeps N=2^17.
  const vault = await createVault(config, { clock: options.clock ?? systemClock, random: seededRandom(options.seed ?? `vault-${dialect}`), identity: { scrypt: { logN: 4, r: 8, p: 1 } }, ...(options.timer === undefined ? {} : { timer: options.timer }) });
  const app = buildServer(vault);
  await app.ready();
  const tokenFor = (scope: string, subject = 'test-operator'): Promise<string> => vault.tokens.issue({ subject, scope, ttlSeconds: 3600 });
  const token = await tokenFor('system/*.cruds');
  return {
    vault,
    app,
    token,
    db,
    tokenFor,
    async request(method, url, body, headers = {}) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }), ...headers },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = res.body;
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.statusCode, headers: res.headers, text, body: parsed };
    },
    async close() {
      await app.close();
      await vault.close();
      await db.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
