/**
 * What a command left behind, seen from the app layer: a vault (and its server, through
 * `fastify.inject`) opened in process over a data directory the CLI wrote, and the
 * vault's database for the operator log. Each call opens and closes, as a server start
 * or another command would.
 */
import { secureRandom, systemClock } from '../../src/kernel/index.js';
import { createVault, openVaultDatabase, resolveConfig, type VaultConfig } from '../../src/app/index.js';
import type { OperatorAction } from '../../src/access/index.js';
import { buildServer } from '../../src/server/index.js';

export const configAt = (dataDir: string): VaultConfig => resolveConfig({ dataDir, logLevel: 'silent' }, {});

export interface Read {
  readonly status: number;
  readonly body: any;
}

/** GETs `paths` (e.g. `/fhir/Patient/p1`) with an operator token from a vault opened over `dataDir`. */
export async function readAt(dataDir: string, paths: readonly string[]): Promise<Read[]> {
  const vault = await createVault(configAt(dataDir), { clock: systemClock, random: secureRandom });
  const app = buildServer(vault);
  try {
    await app.ready();
    const token = await vault.tokens.issue({ subject: 'cli-check', scope: 'system/*.cruds', ttlSeconds: 600 });
    const out: Read[] = [];
    for (const url of paths) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      out.push({ status: res.statusCode, body: res.body === '' ? undefined : JSON.parse(res.body) });
    }
    return out;
  } finally {
    await app.close();
    await vault.close();
  }
}

/** The operator log of the vault in `dataDir`, newest first. */
export async function operatorLogAt(dataDir: string, limit = 1000): Promise<OperatorAction[]> {
  const db = await openVaultDatabase(configAt(dataDir));
  try {
    return await db.operatorLog.recent(limit);
  } finally {
    await db.close();
  }
}

/** The resource without what the server adds (meta). */
export const withoutMeta = (r: unknown): unknown => {
  if (typeof r !== 'object' || r === null) return r;
  const { meta: _meta, ...rest } = r as Record<string, unknown>;
  return rest;
};
