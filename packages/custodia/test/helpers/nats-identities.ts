/**
 * NATS decentralized identities for a credentials suite, made fresh on every run (no
 * secret is committed): an operator, accounts it signs (JetStream enabled through the
 * account's limits) and users each account signs, with @nats-io/nkeys and @nats-io/jwt,
 * as `nsc` would. NATS docs: "JWTs" (operator → account → user chain of trust) and
 * "Creds" (the decorated file `nsc generate creds` writes).
 */
import { writeFileSync } from 'node:fs';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';

export interface NatsOperator {
  readonly key: KeyPair;
  readonly jwt: string;
  /** The operator's system account (JetStream in operator mode needs one), named in its JWT. */
  readonly system: NatsAccount;
}

export interface NatsAccount {
  /** The account's public nkey (A…), the key of its JWT in the server's resolver. */
  readonly id: string;
  readonly key: KeyPair;
  readonly jwt: string;
}

export interface NatsUser {
  readonly key: KeyPair;
  /** The user JWT, signed by its account. */
  readonly jwt: string;
}

/** What `nsc add account` grants: no limit (-1) on connections, subscriptions, data, payload, imports, exports and leaf nodes. An absent limit is 0: no connection at all. */
const UNLIMITED = { conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, leaf: -1, wildcards: true };
/** JetStream on: no limit on memory and file storage, streams and consumers. */
const JETSTREAM = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

/** An account signed by `operator`, with JetStream when `jetstream`; `connections` caps its client connections (no cap by default). */
async function signAccount(name: string, operator: KeyPair, jetstream: boolean, connections = -1): Promise<NatsAccount> {
  const key = createAccount();
  const jwt = await encodeAccount(name, key, { limits: { ...UNLIMITED, conn: connections, ...(jetstream ? JETSTREAM : {}) } }, { signer: operator });
  return { id: key.getPublicKey(), key, jwt };
}

/** An operator and its system account (`SYS`, without JetStream, which a system account may not have). */
export async function makeOperator(name: string): Promise<NatsOperator> {
  const key = createOperator();
  const system = await signAccount('SYS', key, false);
  return { key, jwt: await encodeOperator(name, key, { system_account: system.id }), system };
}

/** An account of `operator` with JetStream on, and at most `connections` client connections (-1: no cap). */
export const makeAccount = (name: string, operator: NatsOperator, connections = -1): Promise<NatsAccount> => signAccount(name, operator.key, true, connections);

/** A user signed by `account`, with the default (unrestricted) permissions. */
export async function makeUser(name: string, account: NatsAccount): Promise<NatsUser> {
  const key = createUser();
  return { key, jwt: await encodeUser(name, key, account.key) };
}

/**
 * Writes a .creds file in the format `nsc generate creds` produces (the user JWT and an
 * nkey seed, each between its BEGIN and END lines), owner-only. `seed` is the user's own
 * key unless a test wants a mismatched one.
 */
export function writeCreds(path: string, user: NatsUser, seed: KeyPair = user.key): string {
  writeFileSync(path, fmtCreds(user.jwt, seed), { mode: 0o600 });
  return path;
}
