/**
 * Identity administration as the CLI does it (`custodia user …`, `custodia client …`,
 * `custodia role …`): each call opens the vault's database, acts through the identity
 * service, and closes it. Only the database is touched: no signing key is needed to
 * manage accounts. The HTTP admin endpoints call `Vault.identity` directly instead.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CustodiaError, secureRandom, systemClock } from '../kernel/index.js';
import type { AddedClient, AddedUser, IdentityService, NewClient, NewUser, RolePolicy, User } from '../access/index.js';
import type { VaultConfig } from './config.js';
import { createIdentityService, openVaultDatabase } from './vault.js';

async function withIdentity<T>(config: VaultConfig, fn: (identity: IdentityService) => Promise<T>): Promise<T> {
  const database = await openVaultDatabase(config);
  try {
    return await fn(createIdentityService(database, systemClock, secureRandom));
  } finally {
    await database.close();
  }
}

/** Adds a user. Without `password` a strong one is generated and returned once in `generatedPassword`. */
export function addUser(config: VaultConfig, input: NewUser): Promise<AddedUser> {
  return withIdentity(config, (identity) => identity.addUser(input));
}

export function disableUser(config: VaultConfig, username: string): Promise<User> {
  return withIdentity(config, (identity) => identity.disableUser(username));
}

export function enableUser(config: VaultConfig, username: string): Promise<User> {
  return withIdentity(config, (identity) => identity.enableUser(username));
}

export function resetUserMfa(config: VaultConfig, username: string): Promise<User> {
  return withIdentity(config, (identity) => identity.resetMfa(username));
}

export function setRoleMfaRequired(config: VaultConfig, role: string, required: boolean): Promise<RolePolicy> {
  return withIdentity(config, (identity) => identity.setRoleMfaRequired(role, required));
}

const MAX_JWKS_FILE = 64 * 1024;

/** Reads a JWKS file (operator input), refusing anything larger than 64 KiB before reading it. */
export function readJwksFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new CustodiaError('request-malformed', 'The JWKS file cannot be opened');
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_JWKS_FILE) throw new CustodiaError('request-malformed', 'The JWKS file is larger than 64 KiB');
    const buf = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buf, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buf.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export interface NewClientInput extends NewClient {
  /** Path of a JWKS file (instead of `jwks`). */
  readonly jwksFile?: string;
}

/** Registers a client. A confidential-symmetric client's secret is returned once in `clientSecret`. */
export async function addClient(config: VaultConfig, input: NewClientInput): Promise<AddedClient> {
  const { jwksFile, ...rest } = input;
  if (jwksFile !== undefined && rest.jwks !== undefined) throw new CustodiaError('request-malformed', 'Give --jwks-file or a JWKS, not both');
  const client: NewClient = jwksFile === undefined ? rest : { ...rest, jwks: readJwksFile(jwksFile) };
  return withIdentity(config, (identity) => identity.addClient(client));
}
