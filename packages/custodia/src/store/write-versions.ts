/**
 * Appends resource versions and replaces their search index rows, inside the caller's
 * transaction. The `resources` row is the current-version pointer; it only moves when
 * it still points where the writer expected (optimistic concurrency), otherwise the
 * whole transaction fails with `version-conflict`. A deletion keeps the resource's
 * visibility facts (its compartments and `_security` labels) and drops its other rows.
 */
import { sql, type Kysely } from 'kysely';
import { CustodiaError } from '../kernel/index.js';
import type { VersionWrite } from '../fhir/index.js';
import { BULK_TABLES, bulkInsert } from './bulk-insert.js';
import type { DialectSql } from './dialect-sql.js';
import { INDEX_TABLES, VISIBILITY_FACT_ROWS } from './schema.js';
import { INDEX_KINDS, indexRowValues } from './index-row-values.js';
import { storedDigest, type StoredDigest } from './stored-digest.js';
import type { AtRest } from './at-rest.js';

const keyOf = (type: string, id: string): string => `${type}/${id}`;

/** One write per resource per call: a resource cannot take two versions in one step. */
export function assertDistinctTargets(writes: readonly VersionWrite[]): void {
  const seen = new Set<string>();
  for (const w of writes) {
    const k = keyOf(w.type, w.id);
    if (seen.has(k)) throw new CustodiaError('bundle-invalid', `${k} appears more than once in one write`);
    seen.add(k);
  }
}

export async function writeVersions(db: Kysely<unknown>, d: DialectSql, at: AtRest, writes: readonly VersionWrite[]): Promise<StoredDigest[]> {
  if (writes.length === 0) return [];
  assertDistinctTargets(writes);
  await at.prepareDurably(writes);
  at.prepare(writes);
  const pks = new Map<string, number>();
  await insertNewResources(db, d, writes.filter((w) => w.expected === null), pks);
  const updates = writes.filter((w) => w.expected !== null);
  await moveCurrentPointers(db, d, updates, pks);
  await deleteIndexRows(db, d, updates.filter((w) => w.json !== null).map((w) => pkOf(pks, w)));
  await deleteSearchRows(db, d, updates.filter((w) => w.json === null).map((w) => pkOf(pks, w)));
  const digests: StoredDigest[] = [];
  await bulkInsert(db, d, BULK_TABLES.versions, writes.map((w) => versionRow(at, w, pkOf(pks, w), digests)));
  await insertIndexRows(db, d, at, writes, pks);
  return digests;
}

function pkOf(pks: Map<string, number>, w: VersionWrite): number {
  const pk = pks.get(keyOf(w.type, w.id));
  if (pk === undefined) throw new CustodiaError('internal', 'write lost its resource key');
  return pk;
}

async function insertNewResources(db: Kysely<unknown>, d: DialectSql, creates: readonly VersionWrite[], pks: Map<string, number>): Promise<void> {
  if (creates.length === 0) return;
  const json = JSON.stringify(creates.map((w) => [w.type, w.id, w.versionId, w.lastUpdated, w.json === null ? 1 : 0]));
  const cols = [d.jsonColumn(0, 'text'), d.jsonColumn(1, 'text'), d.jsonColumn(2, 'int'), d.jsonColumn(3, 'int'), d.jsonColumn(4, 'int')].join(', ');
  // A duplicate (type, id) violates the UNIQUE constraint: another writer created it first.
  const result = await sql<{ pk: number; res_type: string; res_id: string }>`
    INSERT INTO resources (res_type, res_id, version_id, last_updated, deleted)
    SELECT ${sql.raw(cols)} FROM ${d.jsonRowsFrom(json)}
    RETURNING pk, res_type, res_id`.execute(db);
  for (const row of result.rows) pks.set(keyOf(row.res_type, row.res_id), Number(row.pk));
}

async function moveCurrentPointers(db: Kysely<unknown>, d: DialectSql, updates: readonly VersionWrite[], pks: Map<string, number>): Promise<void> {
  if (updates.length === 0) return;
  const json = JSON.stringify(updates.map((w) => [w.type, w.id, w.versionId, w.lastUpdated, w.json === null ? 1 : 0, w.expected?.versionId ?? 0]));
  const c = (i: number, k: 'text' | 'int'): string => d.jsonColumn(i, k);
  const result = await sql<{ pk: number; res_type: string; res_id: string }>`
    UPDATE resources SET version_id = j.version_id, last_updated = j.last_updated, deleted = j.deleted
    FROM (SELECT ${sql.raw(`${c(0, 'text')} AS res_type, ${c(1, 'text')} AS res_id, ${c(2, 'int')} AS version_id, ${c(3, 'int')} AS last_updated, ${c(4, 'int')} AS deleted, ${c(5, 'int')} AS expected`)}
          FROM ${d.jsonRowsFrom(json)}) j
    WHERE resources.res_type = j.res_type AND resources.res_id = j.res_id AND resources.version_id = j.expected
    RETURNING resources.pk, resources.res_type, resources.res_id`.execute(db);
  if (result.rows.length !== updates.length) {
    throw new CustodiaError('version-conflict', 'A concurrent write changed the resource; retry against its current version');
  }
  for (const row of result.rows) pks.set(keyOf(row.res_type, row.res_id), Number(row.pk));
}

/** A new live version replaces every index row, visibility facts included. */
async function deleteIndexRows(db: Kysely<unknown>, d: DialectSql, pks: readonly number[]): Promise<void> {
  if (pks.length === 0) return;
  for (const table of [...Object.values(INDEX_TABLES), 'sp_compartment']) {
    await sql`DELETE FROM ${sql.raw(table)} WHERE ${d.inKeys('res_pk', pks)}`.execute(db);
  }
}

/**
 * A deletion removes what searches match on, but keeps the rows visibility is decided on
 * (`sp_compartment` and the `_security` tokens, see {@link VISIBILITY_FACT_ROWS}): reads
 * of the deleted resource and of its earlier versions stay under the facts of its last
 * live version. Searches never see these rows: they only look at `deleted = 0` resources.
 */
export async function deleteSearchRows(db: Kysely<unknown>, d: DialectSql, pks: readonly number[]): Promise<void> {
  if (pks.length === 0) return;
  for (const table of Object.values(INDEX_TABLES)) {
    const keep = table === VISIBILITY_FACT_ROWS.labels.table ? sql` AND param <> ${VISIBILITY_FACT_ROWS.labels.param}` : sql``;
    await sql`DELETE FROM ${sql.raw(table)} WHERE ${d.inKeys('res_pk', pks)}${keep}`.execute(db);
  }
}

function versionRow(at: AtRest, w: VersionWrite, pk: number, digests: StoredDigest[]): unknown[] {
  const sealed = at.sealVersion(w);
  digests.push(storedDigest(w, sealed.content));
  return [pk, w.type, w.id, w.versionId, w.lastUpdated, w.json === null ? 1 : 0, w.method, sealed.content === null ? null : sealed.content.toString('hex'), sealed.keyId];
}

async function insertIndexRows(db: Kysely<unknown>, d: DialectSql, at: AtRest, writes: readonly VersionWrite[], pks: Map<string, number>): Promise<void> {
  const stored = writes.map((w) => (w.json === null || w.index === null ? null : at.indexRows(w.type, w.index)));
  for (const kind of INDEX_KINDS) {
    const rows: unknown[][] = [];
    writes.forEach((w, i) => {
      const index = stored[i];
      if (index === null || index === undefined) return;
      const pk = pkOf(pks, w);
      for (const values of indexRowValues(index, kind)) rows.push([pk, w.type, ...values]);
    });
    await bulkInsert(db, d, BULK_TABLES[kind], rows);
  }
  const memberships: unknown[][] = [];
  for (const w of writes) {
    if (w.json === null) continue;
    for (const c of w.compartments ?? []) memberships.push([pkOf(pks, w), w.type, c.compartment, c.id]);
  }
  await bulkInsert(db, d, BULK_TABLES.compartment, memberships);
}
