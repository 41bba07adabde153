/**
 * The kysely view of Custodia's tables. Timestamps are epoch milliseconds (BIGINT),
 * flags are 0/1 integers, so that both dialects store and compare them the same way.
 * Text columns that are compared or sorted use byte order (`COLLATE "C"` on PostgreSQL,
 * BINARY on SQLite) so that both databases give identical answers.
 */
import type { Generated } from 'kysely';

export interface ResourcesTable {
  pk: Generated<number>;
  res_type: string;
  res_id: string;
  version_id: number;
  last_updated: number;
  deleted: number;
}

export interface ResourceVersionsTable {
  seq: Generated<number>;
  res_pk: number;
  res_type: string;
  res_id: string;
  version_id: number;
  last_updated: number;
  deleted: number;
  method: string;
  content: Uint8Array | null;
  /** The data key that sealed `content` (migration 0012); null when stored in clear. */
  key_id: string | null;
}

interface IndexBase {
  res_pk: number;
  res_type: string;
  param: string;
  grp: number;
}

export interface StringIndexTable extends IndexBase { value: string; exact: string; tail: string | null }
export interface TokenIndexTable extends IndexBase { system: string | null; code: string | null; text: string | null }
export interface ReferenceIndexTable extends IndexBase {
  target_type: string | null;
  target_id: string | null;
  url: string | null;
  ident_system: string | null;
  ident_value: string | null;
}
export interface RangeIndexTable extends IndexBase { lo: number; hi: number }
export interface QuantityIndexTable extends IndexBase { system: string | null; code: string | null; unit: string | null; lo: number; hi: number }
export interface UriIndexTable extends IndexBase { value: string }

export interface CompartmentTable {
  res_pk: number;
  res_type: string;
  compartment: string;
  comp_id: string;
}

export interface SearchPagesTable {
  id: string;
  owner: string;
  created_at: number;
  expires_at: number;
  total: number | null;
  keys: string;
  state: string;
}

export interface Database {
  resources: ResourcesTable;
  resource_versions: ResourceVersionsTable;
  sp_string: StringIndexTable;
  sp_token: TokenIndexTable;
  sp_reference: ReferenceIndexTable;
  sp_date: RangeIndexTable;
  sp_number: RangeIndexTable;
  sp_quantity: QuantityIndexTable;
  sp_uri: UriIndexTable;
  sp_compartment: CompartmentTable;
  search_pages: SearchPagesTable;
}

/** Index table per row kind of `IndexRows`. */
export const INDEX_TABLES = {
  string: 'sp_string',
  token: 'sp_token',
  reference: 'sp_reference',
  date: 'sp_date',
  number: 'sp_number',
  quantity: 'sp_quantity',
  uri: 'sp_uri',
} as const;

/**
 * The index rows a resource's visibility is decided on (store/visibility-sql.ts): its
 * compartment memberships and its `_security` tokens. A deleted resource keeps them (those
 * of its last live version), so its history stays under the same rule as before the
 * delete; every other index row of a deleted resource is removed.
 */
export const VISIBILITY_FACT_ROWS = {
  compartments: { table: 'sp_compartment' },
  labels: { table: 'sp_token', param: '_security' },
} as const;

export type SqlDialect = 'sqlite' | 'postgres';
