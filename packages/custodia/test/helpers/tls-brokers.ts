/**
 * Brokers of our own for the TLS and credential suites: a second `mosquitto` and a
 * `nats-server` (with JetStream) in child processes, on free loopback ports, configured in
 * a temporary directory, each killed by `stop`. Undefined binaries make those suites skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { which } from './openssl-pki.js';

export const MOSQUITTO = which('mosquitto');
export const MOSQUITTO_PASSWD = which('mosquitto_passwd');
export const NATS_SERVER = which('nats-server');
export const OPENSSL = which('openssl');

export interface Broker {
  readonly process: ChildProcess;
  /** Everything the broker wrote, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

async function startBroker(command: string, args: string[], ready: (output: string) => boolean, ports: readonly number[]): Promise<Broker> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const end = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}: ${output}`);
    let up = ready(output);
    for (const p of ports) up = up && (await portOpen(p));
    if (up) break;
    if (Date.now() > end) {
      await stop();
      throw new Error(`${command} did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { process: child, output: () => output, stop };
}

/** A Mosquitto password file at `path` (mode 0600) for `users` (name → password), made by mosquitto_passwd. */
function mosquittoPasswords(path: string, users: Record<string, string>): string {
  writeFileSync(path, '', { mode: 0o600 });
  for (const [user, password] of Object.entries(users)) {
    const r = spawnSync(MOSQUITTO_PASSWD!, ['-b', path, user, password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
  }
  return path;
}

/**
 * Mosquitto with two TLS listeners, both password-only (`allow_anonymous false`):
 * `mtlsPort` with the server certificate of `ca` and `require_certificate` (mutual TLS),
 * `otherPort` with a certificate from an unrelated CA.
 */
export async function startMosquitto(dir: string, o: { mtlsPort: number; otherPort: number; ca: string; cert: string; key: string; otherCert: string; otherKey: string; otherCa: string; users: Record<string, string> }): Promise<Broker> {
  const passwords = mosquittoPasswords(join(dir, 'mosquitto.passwd'), o.users);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'user root', // only when started as root: keeps it able to read the 0600 keys of this test
      'persistence false',
      'log_dest stderr',
      'allow_anonymous false',
      `password_file ${passwords}`,
      `listener ${o.mtlsPort} 127.0.0.1`,
      `cafile ${o.ca}`,
      `certfile ${o.cert}`,
      `keyfile ${o.key}`,
      'require_certificate true',
      `listener ${o.otherPort} 127.0.0.1`,
      `cafile ${o.otherCa}`,
      `certfile ${o.otherCert}`,
      `keyfile ${o.otherKey}`,
      '',
    ].join('\n'),
  );
  return startBroker(MOSQUITTO!, ['-c', conf], () => true, [o.mtlsPort, o.otherPort]);
}

/**
 * Mosquitto on a loopback listener where every client may publish and subscribe only as
 * `acl` says (mosquitto.conf(5) `acl_file`: `user` and `topic` lines, `pattern` lines with
 * `%u` for the client's username). Clients sign in with a password (`users`), or, with
 * `tls`, by a client certificate of `tls.ca` whose CN is their username
 * (`require_certificate`, `use_identity_as_username`).
 */
export async function startMosquittoWithAcl(dir: string, o: { port: number; acl: readonly string[]; users?: Record<string, string>; tls?: { ca: string; cert: string; key: string } }): Promise<Broker> {
  const aclFile = join(dir, 'mosquitto.acl');
  writeFileSync(aclFile, [...o.acl, ''].join('\n'));
  const signIn = o.tls === undefined
    ? [`password_file ${mosquittoPasswords(join(dir, 'mosquitto-acl.passwd'), o.users ?? {})}`]
    : [`cafile ${o.tls.ca}`, `certfile ${o.tls.cert}`, `keyfile ${o.tls.key}`, 'require_certificate true', 'use_identity_as_username true'];
  const conf = join(dir, 'mosquitto-acl.conf');
  writeFileSync(conf, ['user root', 'persistence false', 'log_dest stderr', 'per_listener_settings true', `listener ${o.port} 127.0.0.1`, 'allow_anonymous false', `acl_file ${aclFile}`, ...signIn, ''].join('\n'));
  return startBroker(MOSQUITTO!, ['-c', conf], () => true, [o.port]);
}

/** nats-server on loopback `port` with JetStream (its store in `dir`), configured by `lines`, written to `dir/name`. */
function startNats(dir: string, name: string, port: number, lines: readonly string[]): Promise<Broker> {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: ${JSON.stringify(join(dir, `${name}-jetstream`))} }`, ...lines, ''].join('\n'));
  return startBroker(NATS_SERVER!, ['-c', conf], (out) => out.includes('Server is ready'), [port]);
}

/** nats-server with JetStream, TLS (client certificates required: `verify`) and one user with a password. */
export function startNatsServer(dir: string, o: { port: number; ca: string; cert: string; key: string; user: string; password: string }): Promise<Broker> {
  const q = JSON.stringify;
  return startNats(dir, 'nats', o.port, [
    `tls { cert_file: ${q(o.cert)}, key_file: ${q(o.key)}, ca_file: ${q(o.ca)}, verify: true, timeout: 2 }`,
    `authorization { user: ${q(o.user)}, password: ${q(o.password)} }`,
  ]);
}

/**
 * nats-server in operator (JWT) mode with JetStream: it trusts `operatorJwt`, and knows
 * the `accounts` (id → account JWT, the system account `systemAccount` among them) from a
 * MEMORY resolver preloaded with them; a user authenticates with a user JWT its account
 * signed and a signature by its nkey. It logs at debug level, so `output()` gives the
 * reason of a refusal.
 */
export function startNatsOperatorServer(dir: string, o: { port: number; operatorJwt: string; systemAccount: string; accounts: Record<string, string> }): Promise<Broker> {
  const q = JSON.stringify;
  return startNats(dir, 'nats-operator', o.port, [
    `operator: ${q(o.operatorJwt)}`,
    `system_account: ${o.systemAccount}`,
    'resolver: MEMORY',
    'debug: true', // the log says why a client was refused (`Signature not verified`, `account missing`)
    `resolver_preload: { ${Object.entries(o.accounts).map(([id, jwt]) => `${id}: ${q(jwt)}`).join(', ')} }`,
  ]);
}

/** One user of {@link startNatsWithPermissions}: NATS subject permissions (allow lists) for publish and subscribe. */
export interface NatsPermittedUser {
  readonly user: string;
  readonly password: string;
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/**
 * nats-server with JetStream on loopback (plain: the permissions are the point) and users
 * whose permissions allow only the subjects listed; anything else is a "Permissions
 * Violation", which the server logs (`debug`) and reports to the client.
 */
export function startNatsWithPermissions(dir: string, o: { port: number; users: readonly NatsPermittedUser[] }): Promise<Broker> {
  const q = JSON.stringify;
  const list = (xs: readonly string[]): string => `[${xs.map((x) => q(x)).join(', ')}]`;
  return startNats(dir, 'nats-permissions', o.port, [
    'debug: true',
    `authorization { users: [ ${o.users.map((u) => `{ user: ${q(u.user)}, password: ${q(u.password)}, permissions: { publish: { allow: ${list(u.publish)} }, subscribe: { allow: ${list(u.subscribe)} } } }`).join(', ')} ] }`,
  ]);
}
