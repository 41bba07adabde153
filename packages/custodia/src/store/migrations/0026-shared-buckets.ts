/**
 * Migration 0026: token buckets shared by every server process of one database
 * (store/shared-buckets.ts), for the sign-in throttle per client address, which held per
 * process before: several servers behind a load balancer each gave an address its own
 * budget. `full_at` is when the bucket is full again, so that idle buckets can be
 * forgotten (a missing bucket is a full one).
 */
import type { SqlDialect } from '../schema.js';

export function sharedBucketSchema(dialect: SqlDialect): string[] {
  const pg = dialect === 'postgres';
  const big = pg ? 'BIGINT' : 'INTEGER';
  const real = pg ? 'DOUBLE PRECISION' : 'REAL';
  const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
  return [
    `CREATE TABLE shared_buckets (scope ${text} NOT NULL, key ${text} NOT NULL, tokens ${real} NOT NULL, at ${big} NOT NULL, full_at ${real} NOT NULL, taken ${big} NOT NULL, PRIMARY KEY (scope, key))`,
    'CREATE INDEX shared_buckets_full ON shared_buckets (full_at)',
  ];
}
