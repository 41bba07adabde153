/**
 * The PostgreSQL dialect of a vault: kysely's own, with a catalog introspector that sees
 * only the vault's schema (`current_schema()`, set by `search_path`).
 *
 * Why not kysely's introspector: kysely's Migrator asks it whether the migration tables
 * exist, and `PostgresIntrospector.getTables` lists every column of every schema of the
 * database, calling `has_schema_privilege(name)` and `pg_get_serial_sequence(name, column)`
 * for each. Those functions resolve names against the live catalog, not the query's
 * snapshot, so a schema, table or column another vault drops while the listing runs fails
 * the whole migration (3F000, 42P01, 42703: seen in CI when test suites sharing the
 * database dropped their schemas at that moment; with two clients creating and dropping
 * schemas, 38 and 53 of about 1,160 listings failed in two runs on 2026-12-02, this
 * introspector's none). Vaults share databases by design (`--schema`), so our
 * migration must not depend on any other schema being still. Here every lookup goes by
 * OID through the snapshot, and only this schema's relations are read.
 */
import { PostgresDialect, sql, type DatabaseIntrospector, type DatabaseMetadata, type DatabaseMetadataOptions, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely';

interface ColumnRow {
  readonly table: string;
  readonly isView: boolean;
  readonly column: string;
  readonly type: string;
  readonly typeSchema: string;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  readonly autoIncrementing: boolean;
  readonly comment: string | null;
}

/** kysely's own tables, left out unless asked for (as kysely's introspector does). */
const KYSELY_TABLES = ['kysely_migration', 'kysely_migration_lock'];

/** Introspects only `current_schema()`: no other schema's changes can fail it. */
export function schemaIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
  const getTables = async (options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> => {
    // relkind r (table), v (view), p (partitioned table); attnum > 0: no system columns.
    // Auto-incrementing: an identity column, or a default that draws from a sequence (serial).
    const { rows } = await sql<ColumnRow & { schema: string }>`
      SELECT ns.nspname AS schema, c.relname AS table, c.relkind = 'v' AS "isView",
             a.attname AS column, typ.typname AS type, tns.nspname AS "typeSchema",
             a.attnotnull AS "notNull", a.atthasdef AS "hasDefault",
             (a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)) AS "autoIncrementing",
             col_description(a.attrelid, a.attnum) AS comment
        FROM pg_catalog.pg_namespace ns
        JOIN pg_catalog.pg_class c ON c.relnamespace = ns.oid
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
        JOIN pg_catalog.pg_type typ ON typ.oid = a.atttypid
        JOIN pg_catalog.pg_namespace tns ON tns.oid = typ.typnamespace
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE ns.nspname = current_schema()
         AND c.relkind IN ('r', 'v', 'p')
         AND a.attnum > 0 AND NOT a.attisdropped
       ORDER BY c.relname, a.attnum`.execute(db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const r of rows) {
      if (!options.withInternalKyselyTables && KYSELY_TABLES.includes(r.table)) continue;
      let table = tables.get(r.table);
      if (table === undefined) {
        table = { name: r.table, schema: r.schema, isView: r.isView, columns: [] };
        tables.set(r.table, table);
      }
      table.columns.push({
        name: r.column,
        dataType: r.type,
        dataTypeSchema: r.typeSchema,
        isNullable: !r.notNull,
        hasDefaultValue: r.hasDefault,
        isAutoIncrementing: r.autoIncrementing,
        ...(r.comment === null ? {} : { comment: r.comment }),
      });
    }
    return [...tables.values()];
  };
  return {
    // Only the vault's own schema, when it exists: the Migrator creates it otherwise.
    getSchemas: async (): Promise<SchemaMetadata[]> => {
      const { rows } = await sql<{ name: string }>`SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname = current_schema()`.execute(db);
      return rows;
    },
    getTables,
    getMetadata: async (options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> => ({ tables: await getTables(options) }),
  };
}

/** kysely's PostgreSQL dialect, introspecting only the vault's schema. */
export class VaultPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return schemaIntrospector(db);
  }
}
