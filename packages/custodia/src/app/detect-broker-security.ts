/**
 * TLS and credentials of the detection stream's brokers (issue 6): device telemetry carries
 * vital signs, so it is patient data in transit between the broker and the vault.
 *
 *   MQTT  mqtts:// with --detect-mqtt-ca (trust anchor), --detect-mqtt-cert/--detect-mqtt-key
 *         (mutual TLS); --detect-mqtt-username with the password from the environment
 *         (CUSTODIA_DETECT_MQTT_PASSWORD) or --detect-mqtt-password-file.
 *   NATS  tls:// or --detect-nats-ca (+ --detect-nats-cert/--detect-nats-key); --detect-nats-creds
 *         (a .creds file: user JWT and nkey seed), or CUSTODIA_DETECT_NATS_TOKEN, or
 *         --detect-nats-user with CUSTODIA_DETECT_NATS_PASSWORD.
 *
 * Secrets never come from flags (other users read them in the process list) nor from the
 * broker URL (user:pass@host is refused), and plain text beyond loopback is refused unless
 * --detect-mqtt-insecure / --detect-nats-insecure, as --witness-insecure-http does for
 * witnesses. Certificates are always verified: there is no option to turn that off.
 *
 * Every file is read and checked here, once, so a wrong path, a key that is not a key or
 * a certificate without its key is a one-line configuration error before anything
 * connects. Messages name files, never their contents. The resolved secrets are frozen
 * objects whose JSON and inspect forms are `[redacted]`, so a logged config shows none.
 */
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { CustodiaError } from '../kernel/index.js';
import type { BrokerTls, NatsAuth } from '../ingest/index.js';
import { isLoopback } from './loopback.js';
import { readCaBundle, readCertificateAndKey, readOwnerOnlyFile } from './tls-files.js';

export interface MqttAuth {
  readonly username: string;
  readonly password?: string;
}


export interface BrokerSecurityInput {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly insecure?: boolean | undefined;
}

export interface MqttSecurityInput extends BrokerSecurityInput {
  readonly username?: string | undefined;
  readonly passwordFile?: string | undefined;
}

export interface NatsSecurityInput extends BrokerSecurityInput {
  readonly creds?: string | undefined;
  readonly user?: string | undefined;
}

const invalid = (m: string, cause?: unknown): never => {
  throw new CustodiaError('config-invalid', m, cause === undefined ? undefined : { cause });
};

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** Frozen, with `[redacted]` as its JSON and inspect forms (the members stay readable to code). */
function redacted<T extends object>(o: T): T {
  Object.defineProperty(o, 'toJSON', { value: () => '[redacted]' });
  Object.defineProperty(o, inspect.custom, { value: () => '[redacted]' });
  return Object.freeze(o);
}

/** A file holding a secret: readable, and private to its owner (as the TLS key of `serve`). */
const readSecretFile = (path: string, flag: string): Buffer => readOwnerOnlyFile(resolve(path), flag);

/** The URL's host as `isLoopback` wants it (IPv6 without brackets). */
const hostOf = (u: URL): string => u.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Whether the vault talks plain text to `url` beyond loopback: refused (`refusal`) unless
 * `insecure`; true when allowed so, for `serve` to warn about (config: plainTextBrokers).
 */
function plainTextBeyondLoopback(url: URL, secure: boolean, insecure: boolean | undefined, refusal: string): boolean {
  if (secure || isLoopback(hostOf(url))) return false;
  if (insecure !== true) invalid(refusal);
  return true;
}

function refuseUserinfo(u: URL, flag: string, how: string): void {
  if (u.username !== '' || u.password !== '') invalid(`${flag}: credentials in the URL are refused (they would show in the process list and the logs); ${how}`);
}

/** CA bundle, and a client certificate with its key (mutual TLS), each file checked. */
function clientTls(input: BrokerSecurityInput, prefix: string): BrokerTls {
  if ((input.cert === undefined) !== (input.key === undefined)) invalid(`Mutual TLS needs both ${prefix}-cert and ${prefix}-key`);
  const ca = input.ca === undefined ? undefined : readCaBundle(resolve(input.ca), `CA file (${prefix}-ca)`).toString('utf8');
  if (input.cert === undefined || input.key === undefined) return redacted(ca === undefined ? {} : { ca });
  const { cert, key } = readCertificateAndKey(resolve(input.cert), resolve(input.key), { cert: `${prefix}-cert`, key: `${prefix}-key` });
  return redacted({ ...(ca === undefined ? {} : { ca }), cert: cert.toString('utf8'), key: key.toString('utf8') });
}

/**
 * MQTT: TLS for mqtts:// only (its files with mqtt:// are refused: they would do nothing),
 * plain mqtt:// beyond loopback only with `insecure`, the password from env or file.
 */
export function resolveMqttSecurity(url: URL, input: MqttSecurityInput, env: NodeJS.ProcessEnv): { tls?: BrokerTls; auth?: MqttAuth; plainText: boolean } {
  refuseUserinfo(url, '--detect-mqtt', 'give --detect-mqtt-username, and the password in CUSTODIA_DETECT_MQTT_PASSWORD or --detect-mqtt-password-file');
  const secure = url.protocol === 'mqtts:';
  if (!secure && (input.ca ?? input.cert ?? input.key) !== undefined) invalid('--detect-mqtt-ca, --detect-mqtt-cert and --detect-mqtt-key are for TLS: use an mqtts:// broker URL');
  const plainText = plainTextBeyondLoopback(url, secure, input.insecure, `--detect-mqtt ${url.protocol}//${url.host} is plain MQTT beyond loopback: device telemetry (patient data) and the broker password would cross the network unencrypted. Give the broker TLS (mqtts://, with --detect-mqtt-ca for a private CA) or pass --detect-mqtt-insecure`);
  const envPassword = nonEmpty(env['CUSTODIA_DETECT_MQTT_PASSWORD']);
  if (envPassword !== undefined && input.passwordFile !== undefined) invalid('Give the MQTT password once: CUSTODIA_DETECT_MQTT_PASSWORD or --detect-mqtt-password-file, not both');
  const password = input.passwordFile === undefined ? envPassword : passwordOf(readSecretFile(input.passwordFile, '--detect-mqtt-password-file'), '--detect-mqtt-password-file');
  const username = nonEmpty(input.username);
  if (password !== undefined && username === undefined) invalid('An MQTT password needs --detect-mqtt-username');
  return {
    ...(secure ? { tls: clientTls(input, '--detect-mqtt') } : {}),
    ...(username === undefined ? {} : { auth: redacted({ username, ...(password === undefined ? {} : { password }) }) }),
    plainText,
  };
}

/** The first line of a password file, without its line ending; never empty. */
function passwordOf(data: Buffer, flag: string): string {
  const text = data.toString('utf8').replace(/\r?\n$/, '');
  if (text === '' || /[\r\n]/.test(text)) invalid(`${flag} must hold the password on one line`);
  return text;
}

/** A NATS .creds file (nsc): the user JWT and the nkey seed, each in its decorated block. */
function credsOf(path: string): Uint8Array {
  const data = readSecretFile(path, '--detect-nats-creds');
  const text = data.toString('utf8');
  if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) invalid(`--detect-nats-creds ${resolve(path)} is not a NATS credentials file (user JWT and nkey seed)`);
  return new Uint8Array(data);
}

/**
 * NATS: TLS with tls:// or any of the TLS files (the client then insists on it), plain
 * nats:// beyond loopback only with `insecure`; at most one way of authenticating.
 */
export function resolveNatsSecurity(url: URL, input: NatsSecurityInput, env: NodeJS.ProcessEnv): { tls?: BrokerTls; auth?: NatsAuth; plainText: boolean } {
  refuseUserinfo(url, '--detect-nats', 'give --detect-nats-creds, CUSTODIA_DETECT_NATS_TOKEN, or --detect-nats-user with CUSTODIA_DETECT_NATS_PASSWORD');
  const secure = url.protocol === 'tls:' || (input.ca ?? input.cert ?? input.key) !== undefined;
  const plainText = plainTextBeyondLoopback(url, secure, input.insecure, `--detect-nats ${url.protocol}//${url.host} is plain NATS beyond loopback: device telemetry (patient data) and the credentials would cross the network unencrypted. Give the server TLS (tls://, with --detect-nats-ca for a private CA) or pass --detect-nats-insecure`);
  const token = nonEmpty(env['CUSTODIA_DETECT_NATS_TOKEN']);
  const pass = nonEmpty(env['CUSTODIA_DETECT_NATS_PASSWORD']);
  const user = nonEmpty(input.user);
  const ways = [input.creds !== undefined, token !== undefined, user !== undefined || pass !== undefined].filter(Boolean).length;
  if (ways > 1) invalid('Give one NATS credential: --detect-nats-creds, CUSTODIA_DETECT_NATS_TOKEN, or --detect-nats-user with CUSTODIA_DETECT_NATS_PASSWORD');
  if ((user === undefined) !== (pass === undefined)) invalid('NATS user authentication needs both --detect-nats-user and CUSTODIA_DETECT_NATS_PASSWORD');
  const auth: NatsAuth | undefined =
    input.creds !== undefined ? { kind: 'creds', creds: credsOf(input.creds) } : token !== undefined ? { kind: 'token', token } : user !== undefined && pass !== undefined ? { kind: 'user', user, pass } : undefined;
  return {
    ...(secure ? { tls: clientTls(input, '--detect-nats') } : {}),
    ...(auth === undefined ? {} : { auth: redacted(auth) }),
    plainText,
  };
}

export type { BrokerTls, NatsAuth };
