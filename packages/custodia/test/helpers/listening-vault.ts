/**
 * A real vault behind a server listening on a real port, for tests that need real HTTP
 * (concurrent clients, keep-alive connections) rather than `fastify.inject`. Secure
 * randomness, not a seeded one: the vault can be closed and opened again over the same
 * data directory and database (a seeded generator would hand the second run the same
 * data-key ids as the first), and rate limits so high they never apply.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { secureRandom, systemClock } from '../../src/kernel/index.js';
import { createVault, resolveConfig, type ConfigInput, type Vault, type VaultConfig } from '../../src/app/index.js';
import { buildServer } from '../../src/server/index.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export interface HttpResult {
  readonly status: number;
  readonly text: string;
  readonly body: any;
  readonly location: string | null;
}

export interface ListeningVault {
  readonly vault: Vault;
  readonly app: FastifyInstance;
  readonly config: VaultConfig;
  readonly dataDir: string;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** A request over real HTTP with an operator token (system/*.cruds); `path` starts with `/fhir/`. */
  http(method: string, path: string, body?: unknown): Promise<HttpResult>;
  /** Closes server and vault, then opens a new vault over the same data directory and database. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

const NO_LIMIT = { perSecond: 1_000_000, burst: 1_000_000 };

export async function startListeningVault(dialect: 'sqlite' | 'postgres', config: Partial<ConfigInput> = {}): Promise<ListeningVault> {
  const db: TestDatabase = await createTestDatabase(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'custodia-listening-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const resolved = resolveConfig({
    dataDir,
    database: db.options.database,
    ...(db.options.schema === undefined ? {} : { postgresSchema: db.options.schema }),
    port,
    baseUrl: `${origin}/fhir`,
    logLevel: 'silent',
    rateLimits: { user: NO_LIMIT, client: NO_LIMIT, token: NO_LIMIT },
    ...config,
  });
  let vault!: Vault;
  let app!: FastifyInstance;
  let token = '';
  const open = async (): Promise<void> => {
    vault = await createVault(resolved, { clock: systemClock, random: secureRandom, identity: { scrypt: { logN: 4, r: 8, p: 1 } } });
    app = buildServer(vault);
    await app.listen({ host: '127.0.0.1', port });
    token = await vault.tokens.issue({ subject: 'load-operator', scope: 'system/*.cruds', ttlSeconds: 3600 });
  };
  const shut = async (): Promise<void> => {
    await app.close();
    await vault.close();
  };
  await open();
  return {
    get vault() {
      return vault;
    },
    get app() {
      return app;
    },
    config: resolved,
    dataDir,
    origin,
    async http(method, path, body) {
      const res = await fetch(`${origin}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, text, body: parsed, location: res.headers.get('location') };
    },
    async reopen() {
      await shut();
      await open();
    },
    async close() {
      await shut();
      await db.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
