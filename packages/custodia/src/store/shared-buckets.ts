/**
 * The SharedBuckets port (access/cross-process-buckets.ts) over the vault's database: one row a
 * bucket (`shared_buckets`, migration 0026), refilled and spent by one upsert, so that
 * concurrent takes from any number of server processes serialise on the row (PostgreSQL's
 * row lock, SQLite's single writer) and never spend one token twice. Both databases run
 * the same statement: the refill `MIN(capacity, tokens + MAX(0, now − at) · rate)`, a
 * token taken when that is at least one, nothing spent otherwise. `at` never moves back,
 * so a server whose clock runs behind refills nothing rather than a negative amount.
 */
import { sql } from 'kysely';
import type { SharedBucketLimit, SharedBuckets } from '../access/index.js';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';

export function sharedBucketStore(db: DatabaseHandle): SharedBuckets {
  const pg = db.dialect === 'postgres';
  const least = sql.raw(pg ? 'LEAST' : 'MIN');
  const greatest = sql.raw(pg ? 'GREATEST' : 'MAX');
  return {
    take: (scope: string, key: string, now: number, limit: SharedBucketLimit) =>
      guarded(async () => {
        const at = sql`CAST(${Math.floor(now)} AS BIGINT)`;
        const cap = sql`CAST(${limit.capacity} AS DOUBLE PRECISION)`;
        const rate = sql`CAST(${limit.perMs} AS DOUBLE PRECISION)`;
        const refilled = sql`${least}(${cap}, shared_buckets.tokens + ${greatest}(0, ${at} - shared_buckets.at) * ${rate})`;
        const left = sql`CASE WHEN ${refilled} >= 1 THEN ${refilled} - 1 ELSE ${refilled} END`;
        const row = await db.transaction(async (tx) =>
          (
            await sql<{ tokens: number | string; taken: number | string }>`
              INSERT INTO shared_buckets (scope, key, tokens, at, full_at, taken)
              VALUES (${scope}, ${key}, ${cap} - 1, ${at}, ${at} + 1 / ${rate}, 1)
              ON CONFLICT (scope, key) DO UPDATE SET
                tokens = ${left},
                taken = CASE WHEN ${refilled} >= 1 THEN 1 ELSE 0 END,
                at = ${greatest}(shared_buckets.at, ${at}),
                full_at = ${greatest}(shared_buckets.at, ${at}) + (${cap} - ${left}) / ${rate}
              RETURNING tokens, taken`.execute(tx)
          ).rows[0]!,
        );
        if (Number(row.taken) === 1) return { allowed: true } as const;
        return { allowed: false, retryAfterMs: Math.max(1, Math.ceil((1 - Number(row.tokens)) / limit.perMs)) } as const;
      }),
    purgeFull: (now: number) =>
      guarded(async () => {
        await db.transaction((tx) => sql`DELETE FROM shared_buckets WHERE full_at <= ${now}`.execute(tx));
      }),
  };
}
