/**
 * A witness's files and configuration, for `custodia witness serve` (a witness on its own)
 * and for a vault started with `--witness-for` (the same layout in its data directory):
 *
 *     <dir>/keys/witness-note.key   the cosigning key (type 0x04), 0600, created on first start
 *     <dir>/witness-state.db        the latest cosigned checkpoint per log (WAL, synchronous FULL)
 *     <dir>/keys/tls/localhost.*    the certificate and key of `--tls-self-signed` (witness serve only)
 *
 * A standalone witness serves HTTPS with `--tls-cert/--tls-key` or `--tls-self-signed`,
 * checked and loaded exactly as `custodia serve` does it (app/tls-files.ts).
 */
import { join, resolve } from 'node:path';
import { CustodiaError, secureRandom, systemClock, type Clock, type Random } from '../kernel/index.js';
import { formatVerifierKey, isValidKeyName } from '../ledger/index.js';
import { loadWitnessKey, openWitnessStateFile } from '../store/index.js';
import { isLoopback } from './loopback.js';
import { resolveTls, type TlsConfig } from './config.js';
import { prepareTlsMaterial, type TlsMaterial } from './tls-files.js';
import { parseWitnessedLog, logVerifiers, type WitnessedLog } from './witness-config.js';
import { WitnessService } from './witness-service.js';

export const WITNESS_STATE_FILE = 'witness-state.db';

export interface WitnessNodeConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** The logs it cosigns (`--log ORIGIN=VKEY`). */
  readonly logs: readonly WitnessedLog[];
  /** The witness's name when set explicitly (`--name`); fixed when its key is created. */
  readonly name?: string;
  /** The name a new key gets otherwise: `<host>:<port>/witness`. */
  readonly defaultName: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** HTTPS (TLS 1.2 or later), as for `custodia serve`; plain HTTP when absent. */
  readonly tls?: TlsConfig;
}

export interface WitnessNodeInput {
  readonly dataDir?: string;
  readonly host?: string;
  readonly port?: number | string;
  readonly logs?: readonly string[];
  readonly name?: string;
  readonly logLevel?: WitnessNodeConfig['logLevel'];
  /** PEM certificate chain and its private key (mode 0600). */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** A self-signed certificate for localhost, made and renewed under `<dataDir>/keys/tls/`. */
  readonly tlsSelfSigned?: boolean;
}

const invalid = (m: string): never => {
  throw new CustodiaError('config-invalid', m);
};

/** Resolves and freezes a standalone witness's configuration. */
export function resolveWitnessNodeConfig(input: WitnessNodeInput): WitnessNodeConfig {
  const host = input.host ?? '127.0.0.1';
  const p = input.port ?? 8090;
  const port = typeof p === 'number' ? p : /^\d{1,5}$/.test(p) ? Number(p) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) invalid('--port must be an integer from 0 to 65535');
  const logs = (input.logs ?? []).map((s) => parseWitnessedLog(s, '--log'));
  logVerifiers(logs); // refuses a key given twice
  if (input.name !== undefined && (!isValidKeyName(input.name) || input.name.length > 128)) invalid('--name must be 1–128 characters without spaces or "+" (C2SP signed-note key name)');
  const displayHost = host.includes(':') ? `[${host}]` : host;
  const dataDir = resolve(input.dataDir ?? './witness');
  // No environment: a vault's CUSTODIA_TLS_* on the same machine must not configure its witness.
  const tls = resolveTls({ ...(input.tlsCert === undefined ? {} : { tlsCert: input.tlsCert }), ...(input.tlsKey === undefined ? {} : { tlsKey: input.tlsKey }), ...(input.tlsSelfSigned === undefined ? {} : { tlsSelfSigned: input.tlsSelfSigned }) }, {}, dataDir);
  return Object.freeze({
    dataDir,
    host,
    port,
    logs: Object.freeze(logs),
    ...(input.name === undefined ? {} : { name: input.name }),
    defaultName: `${displayHost}:${port}/witness`,
    logLevel: input.logLevel ?? 'info',
    ...(tls === undefined ? {} : { tls }),
  });
}

/**
 * The witness service over the files in `dataDir` (key created on first use).
 *
 * @example
 *   const witness = openWitnessService(dir, { fallback: 'witness.example/w1' }, logs, systemClock, secureRandom);
 */
export function openWitnessService(dataDir: string, name: { readonly explicit?: string; readonly fallback: string }, logs: readonly WitnessedLog[], clock: Clock, random: Random): WitnessService {
  const key = loadWitnessKey(dataDir, name, random, true);
  const state = openWitnessStateFile(join(dataDir, WITNESS_STATE_FILE), () => clock.now());
  return new WitnessService(state, key, logs, clock);
}

/** The standalone witness of `config`. */
export function openWitnessNode(config: WitnessNodeConfig, clock: Clock = systemClock, random: Random = secureRandom): WitnessService {
  return openWitnessService(config.dataDir, { ...(config.name === undefined ? {} : { explicit: config.name }), fallback: config.defaultName }, config.logs, clock, random);
}

/** The witness's TLS material (the self-signed pair made or renewed first), or undefined for plain HTTP. */
export function prepareWitnessTls(config: WitnessNodeConfig, clock: Clock = systemClock, random: Random = secureRandom): Promise<TlsMaterial | undefined> {
  return prepareTlsMaterial(config, clock, random);
}

/** The witness's verifier key (type 0x04) from the key in `dataDir` (`custodia witness vkey`); the key must exist. */
export function witnessVerifierKey(dataDir: string): string {
  const key = loadWitnessKey(resolve(dataDir), { fallback: 'unused' }, secureRandom, false);
  return formatVerifierKey(key.name, key.type, key.publicKey);
}

/** Plain HTTP beyond loopback is allowed for a witness (checkpoints and cosignatures are public and signed), but said aloud. */
export function witnessPlainHttpWarning(config: WitnessNodeConfig): string | undefined {
  if (config.tls !== undefined || isLoopback(config.host)) return undefined;
  return `The witness serves plain HTTP on ${config.host}:${config.port}: what it serves is public and signed, but give it --tls-cert and --tls-key (or put it behind a TLS proxy) so logs cannot be cut off from it unnoticed.`;
}
