/** The vault configuration of a command that only touches storage (--data-dir, --database, --schema). */
import { resolveConfig, type VaultConfig } from '../app/index.js';

export interface StorageFlags {
  readonly dataDir: string;
  readonly database?: string | undefined;
  readonly schema?: string | undefined;
}

export function storageConfig(o: StorageFlags): VaultConfig {
  return resolveConfig(
    {
      dataDir: o.dataDir,
      ...(o.database === undefined ? {} : { database: o.database }),
      ...(o.schema === undefined ? {} : { postgresSchema: o.schema }),
    },
    process.env,
  );
}
