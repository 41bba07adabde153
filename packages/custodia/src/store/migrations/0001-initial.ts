/**
 * Migration 0001: resources, immutable versions, search index tables, saved page sets.
 * DDL is written per dialect on purpose: identity columns, blob types, collations and
 * triggers differ, and the differences are the point of reading this file.
 */
import type { SqlDialect } from '../schema.js';

const INDEX_COLUMNS: Record<string, { sqlite: string; postgres: string; lookup: string }> = {
  sp_string: { sqlite: 'value TEXT NOT NULL, exact TEXT NOT NULL', postgres: 'value TEXT COLLATE "C" NOT NULL, exact TEXT COLLATE "C" NOT NULL', lookup: 'value' },
  sp_token: {
    sqlite: 'system TEXT, code TEXT, text TEXT',
    postgres: 'system TEXT COLLATE "C", code TEXT COLLATE "C", text TEXT COLLATE "C"',
    lookup: 'code, system',
  },
  sp_reference: {
    sqlite: 'target_type TEXT, target_id TEXT, url TEXT, ident_system TEXT, ident_value TEXT',
    postgres: 'target_type TEXT COLLATE "C", target_id TEXT COLLATE "C", url TEXT COLLATE "C", ident_system TEXT COLLATE "C", ident_value TEXT COLLATE "C"',
    lookup: 'target_id, target_type',
  },
  sp_date: { sqlite: 'lo INTEGER NOT NULL, hi INTEGER NOT NULL', postgres: 'lo BIGINT NOT NULL, hi BIGINT NOT NULL', lookup: 'lo, hi' },
  sp_number: { sqlite: 'lo REAL NOT NULL, hi REAL NOT NULL', postgres: 'lo DOUBLE PRECISION NOT NULL, hi DOUBLE PRECISION NOT NULL', lookup: 'lo, hi' },
  sp_quantity: {
    sqlite: 'system TEXT, code TEXT, unit TEXT, lo REAL NOT NULL, hi REAL NOT NULL',
    postgres: 'system TEXT COLLATE "C", code TEXT COLLATE "C", unit TEXT COLLATE "C", lo DOUBLE PRECISION NOT NULL, hi DOUBLE PRECISION NOT NULL',
    lookup: 'lo, hi',
  },
  sp_uri: { sqlite: 'value TEXT NOT NULL', postgres: 'value TEXT COLLATE "C" NOT NULL', lookup: 'value' },
};

function sqliteStatements(): string[] {
  const s = [
    `CREATE TABLE resources (
      pk INTEGER PRIMARY KEY,
      res_type TEXT NOT NULL,
      res_id TEXT NOT NULL,
      version_id INTEGER NOT NULL,
      last_updated INTEGER NOT NULL,
      deleted INTEGER NOT NULL,
      UNIQUE (res_type, res_id)
    )`,
    `CREATE INDEX resources_type_live ON resources (res_type, deleted, pk)`,
    `CREATE INDEX resources_type_updated ON resources (res_type, last_updated)`,
    `CREATE TABLE resource_versions (
      seq INTEGER PRIMARY KEY,
      res_pk INTEGER NOT NULL REFERENCES resources (pk),
      res_type TEXT NOT NULL,
      res_id TEXT NOT NULL,
      version_id INTEGER NOT NULL,
      last_updated INTEGER NOT NULL,
      deleted INTEGER NOT NULL,
      method TEXT NOT NULL,
      content BLOB,
      UNIQUE (res_pk, version_id)
    )`,
    `CREATE INDEX resource_versions_updated ON resource_versions (last_updated, seq)`,
    `CREATE INDEX resource_versions_type_updated ON resource_versions (res_type, last_updated, seq)`,
    // Versions are immutable: the database itself refuses to change or remove one.
    `CREATE TRIGGER resource_versions_immutable_update BEFORE UPDATE ON resource_versions
      BEGIN SELECT RAISE(ABORT, 'resource versions are immutable'); END`,
    `CREATE TRIGGER resource_versions_immutable_delete BEFORE DELETE ON resource_versions
      BEGIN SELECT RAISE(ABORT, 'resource versions are immutable'); END`,
    `CREATE TABLE search_pages (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      total INTEGER,
      keys TEXT NOT NULL,
      state TEXT NOT NULL
    )`,
    `CREATE INDEX search_pages_expiry ON search_pages (expires_at)`,
  ];
  for (const [table, cols] of Object.entries(INDEX_COLUMNS)) {
    s.push(`CREATE TABLE ${table} (res_pk INTEGER NOT NULL, res_type TEXT NOT NULL, param TEXT NOT NULL, grp INTEGER NOT NULL, ${cols.sqlite})`);
    s.push(`CREATE INDEX ${table}_lookup ON ${table} (res_type, param, ${cols.lookup})`);
    s.push(`CREATE INDEX ${table}_resource ON ${table} (res_pk, param)`);
  }
  s.push(`CREATE INDEX sp_reference_target ON sp_reference (target_type, target_id, param)`);
  return s;
}

function postgresStatements(): string[] {
  const s = [
    `CREATE TABLE resources (
      pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      res_type TEXT COLLATE "C" NOT NULL,
      res_id TEXT COLLATE "C" NOT NULL,
      version_id INTEGER NOT NULL,
      last_updated BIGINT NOT NULL,
      deleted SMALLINT NOT NULL,
      UNIQUE (res_type, res_id)
    )`,
    `CREATE INDEX resources_type_live ON resources (res_type, deleted, pk)`,
    `CREATE INDEX resources_type_updated ON resources (res_type, last_updated)`,
    `CREATE TABLE resource_versions (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      res_pk BIGINT NOT NULL REFERENCES resources (pk),
      res_type TEXT COLLATE "C" NOT NULL,
      res_id TEXT COLLATE "C" NOT NULL,
      version_id INTEGER NOT NULL,
      last_updated BIGINT NOT NULL,
      deleted SMALLINT NOT NULL,
      method TEXT NOT NULL,
      content BYTEA,
      UNIQUE (res_pk, version_id)
    )`,
    `CREATE INDEX resource_versions_updated ON resource_versions (last_updated, seq)`,
    `CREATE INDEX resource_versions_type_updated ON resource_versions (res_type, last_updated, seq)`,
    // Versions are immutable: the database itself refuses to change or remove one.
    `CREATE FUNCTION custodia_refuse_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'resource versions are immutable'; END $$`,
    `CREATE TRIGGER resource_versions_immutable BEFORE UPDATE OR DELETE ON resource_versions
      FOR EACH ROW EXECUTE FUNCTION custodia_refuse_version_change()`,
    `CREATE TABLE search_pages (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      total INTEGER,
      keys TEXT NOT NULL,
      state TEXT NOT NULL
    )`,
    `CREATE INDEX search_pages_expiry ON search_pages (expires_at)`,
  ];
  for (const [table, cols] of Object.entries(INDEX_COLUMNS)) {
    s.push(`CREATE TABLE ${table} (res_pk BIGINT NOT NULL, res_type TEXT COLLATE "C" NOT NULL, param TEXT COLLATE "C" NOT NULL, grp INTEGER NOT NULL, ${cols.postgres})`);
    s.push(`CREATE INDEX ${table}_lookup ON ${table} (res_type, param, ${cols.lookup})`);
    s.push(`CREATE INDEX ${table}_resource ON ${table} (res_pk, param)`);
  }
  s.push(`CREATE INDEX sp_reference_target ON sp_reference (target_type, target_id, param)`);
  return s;
}

export function initialSchema(dialect: SqlDialect): string[] {
  return dialect === 'sqlite' ? sqliteStatements() : postgresStatements();
}
