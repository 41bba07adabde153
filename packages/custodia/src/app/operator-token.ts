/**
 * `custodia token`: a bearer token signed with the data directory's key, for operators
 * and automated tests. Only someone who can read `<data-dir>/keys/` can mint one.
 */
import { TokenService } from '../access/index.js';
import { secureRandom, systemClock } from '../kernel/index.js';
import { loadSigningKey } from '../store/index.js';
import { resolveConfig } from './config.js';

export interface OperatorTokenOptions {
  readonly dataDir: string;
  readonly subject: string;
  readonly scope: string;
  readonly ttlSeconds: number;
}

export async function mintOperatorToken(o: OperatorTokenOptions): Promise<string> {
  const config = resolveConfig({ dataDir: o.dataDir });
  const key = await loadSigningKey(config.dataDir, true);
  return new TokenService(key, systemClock, secureRandom).issue({ subject: o.subject, scope: o.scope, ttlSeconds: o.ttlSeconds });
}
