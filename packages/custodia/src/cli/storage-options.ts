/** The options every command that touches storage shares. */
import { Option } from '@commander-js/extra-typings';

export const dataDirOption = () => new Option('--data-dir <dir>', 'data directory (database, keys)').default('./data');
export const databaseOption = () =>
  new Option('--database <url>', 'postgres://… URL or SQLite file (default: <data-dir>/custodia.db)').env('CUSTODIA_DATABASE_URL');
export const schemaOption = () => new Option('--schema <name>', 'PostgreSQL schema for this vault').env('CUSTODIA_DATABASE_SCHEMA');
