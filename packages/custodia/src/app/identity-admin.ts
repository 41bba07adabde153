/**
 * Identity administration as the CLI does it (`custodia user …`, `custodia client …`,
 * `custodia role …`): each call opens the vault's database, acts through the identity
 * service, and closes it. Only the database is touched: no signing key is needed to
 * manage accounts. The HTTP admin endpoints call `Vault.identity` directly instead.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CustodiaError, secureRandom, systemClock } from '../kernel/index.js';
import type { AddedClient, AddedUser, Client, IdentityService, NewClient, NewUser, RolePolicy, User } from '../access/index.js';
import type { VaultConfig } from './config.js';
import { createIdentityService, openVaultDatabase } from './vault.js';

type Detail = Record<string, string | number | boolean | null>;

/**
 * Opens the database, acts, and records the change in the operator log (as the HTTP admin
 * API does) in the same run: who acted is "operator", since only someone with access to
 * the database can run these commands. The detail names accounts and roles, never a
 * password, secret or key.
 */
async function withIdentity<T>(config: VaultConfig, action: string, fn: (identity: IdentityService) => Promise<T>, detail: (result: T) => Detail): Promise<T> {
  const database = await openVaultDatabase(config);
  try {
    const result = await fn(createIdentityService(database, systemClock, secureRandom));
    await database.operatorLog.record({ at: systemClock.now(), action, actor: 'operator', detail: { ...detail(result), via: 'cli' } });
    return result;
  } finally {
    await database.close();
  }
}

const userDetail = (u: User): Detail => ({ username: u.username, role: u.role });

/** Adds a user. Without `password` a strong one is generated and returned once in `generatedPassword`. */
export function addUser(config: VaultConfig, input: NewUser): Promise<AddedUser> {
  return withIdentity(config, 'user.add', (identity) => identity.addUser(input), (r) => ({ ...userDetail(r.user), fhirUser: r.user.fhirUser ?? null }));
}

export function disableUser(config: VaultConfig, username: string): Promise<User> {
  return withIdentity(config, 'user.disable', (identity) => identity.disableUser(username), userDetail);
}

export function enableUser(config: VaultConfig, username: string): Promise<User> {
  return withIdentity(config, 'user.enable', (identity) => identity.enableUser(username), userDetail);
}

/** A new password for a user (given, or generated and returned once); recorded without it. */
export function setUserPassword(config: VaultConfig, username: string, password?: string): Promise<AddedUser> {
  return withIdentity(config, 'user.set-password', (identity) => identity.setPassword(username, password), (r) => ({ ...userDetail(r.user), generated: r.generatedPassword !== undefined }));
}

export function resetUserMfa(config: VaultConfig, username: string): Promise<User> {
  return withIdentity(config, 'user.reset-mfa', (identity) => identity.resetMfa(username), userDetail);
}

export function setRoleMfaRequired(config: VaultConfig, role: string, required: boolean): Promise<RolePolicy> {
  return withIdentity(config, 'role.require-mfa', (identity) => identity.setRoleMfaRequired(role, required), () => ({ role, required }));
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

export function disableClient(config: VaultConfig, clientId: string): Promise<Client> {
  return withIdentity(config, 'client.disable', (identity) => identity.disableClient(clientId), (c) => ({ clientId: c.clientId }));
}

export function enableClient(config: VaultConfig, clientId: string): Promise<Client> {
  return withIdentity(config, 'client.enable', (identity) => identity.enableClient(clientId), (c) => ({ clientId: c.clientId }));
}

/** Registers a client. A confidential-symmetric client's secret is returned once in `clientSecret`. */
export async function addClient(config: VaultConfig, input: NewClientInput): Promise<AddedClient> {
  const { jwksFile, ...rest } = input;
  if (jwksFile !== undefined && rest.jwks !== undefined) throw new CustodiaError('request-malformed', 'Give --jwks-file or a JWKS, not both');
  const client: NewClient = jwksFile === undefined ? rest : { ...rest, jwks: readJwksFile(jwksFile) };
  return withIdentity(config, 'client.add', (identity) => identity.addClient(client), (r) => ({ clientId: r.client.clientId, kind: r.client.kind, scope: r.client.scope, ...(r.client.tlsSubjectDn === undefined ? {} : { tlsSubjectDn: r.client.tlsSubjectDn }) }));
}
