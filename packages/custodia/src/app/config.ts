/**
 * The vault's configuration: resolved once from CLI options and the environment,
 * validated, and frozen (architecture guide §3.7: no getConfig() globals).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { CustodiaError } from '../kernel/index.js';
import type { FhirLimits } from '../fhir/index.js';
import type { RateLimits } from '../access/index.js';
import { parseCorsOrigins } from './cors-origins.js';
import { parseTrustedProxies } from './trusted-proxies.js';
import { isLoopback } from './loopback.js';
import { parseRateLimitSpecs, resolveRateLimits, type RateLimitInput } from './rate-limit-config.js';
import { resolveEncryption, type EncryptionConfig, type EncryptionInput } from './encryption-config.js';
import { loadRetentionPolicy, NO_RETENTION, type RetentionPolicy } from './retention-policy.js';
import { resolveLedger, type LedgerConfig, type LedgerInput } from './ledger-config.js';
import { resolveDetectStream, type DetectStreamConfig, type DetectStreamInput } from './detect-stream-config.js';
import { DEFAULT_SEARCH_TIMEOUT_MS } from '../store/index.js';
import { DEFAULT_ANSWER_FLOOR_MS, MAX_ANSWER_FLOOR_MS } from './answer-floor.js';

export { isLoopback };

export interface VaultConfig {
  readonly dataDir: string;
  /** A postgres:// URL or an absolute SQLite file path. */
  readonly database: string;
  /** PostgreSQL only: schema holding this vault's tables. */
  readonly postgresSchema?: string;
  readonly host: string;
  readonly port: number;
  /** Public base URL of the FHIR API, e.g. http://127.0.0.1:8080/fhir. */
  readonly fhirBaseUrl: string;
  readonly bodyLimitBytes: number;
  /** The longest a search statement may run on a SQLite file before the search fails `search-too-costly` (store/search-runner.ts). */
  readonly searchTimeoutMs: number;
  /** The least time a refusal of the FHIR pipeline takes, so that hidden and missing records answer alike in time too (answer-floor.ts); 0: off. */
  readonly answerFloorMs: number;
  readonly limits: FhirLimits;
  /** Allow plain HTTP on a non-loopback address (never do this outside a lab). */
  readonly insecureHttp: boolean;
  /** Serve HTTPS (TLS 1.2 or later); see {@link TlsConfig}. */
  readonly tls?: TlsConfig;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** Origins whose browser apps may call /fhir and the token endpoints (CORS); empty: none. */
  readonly corsOrigins: readonly string[];
  /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For gives the client's address; empty: none. */
  readonly trustedProxies: readonly string[];
  /** Request rate limits per user and per client (access/rate-limiter.ts). */
  readonly rateLimits: RateLimits;
  /** Encryption at rest: on by default, with the KEKs in the local keyring or an HSM. */
  readonly encryption: EncryptionConfig;
  /** Retention rules that refuse erasure while they apply (retention-policy.ts); none by default. */
  readonly retention: RetentionPolicy;
  /** The audit ledger: origin and checkpoint cadence (ledger-config.ts). */
  readonly ledger: LedgerConfig;
  /** Live device telemetry → scoring → findings (detect-stream-config.ts); off when absent. */
  readonly detectStream?: DetectStreamConfig;
}

/**
 * HTTPS: a PEM certificate chain and its private key, either the operator's
 * (`--tls-cert/--tls-key`) or a self-signed pair for localhost that the vault makes and
 * renews itself under `<data-dir>/keys/tls/` (`--tls-self-signed`, app/self-signed-certificate.ts).
 */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly selfSigned: boolean;
  /**
   * Mutual TLS (RFC 8705): ask every client for a certificate and accept it when it
   * chains to one of the CA certificates in this PEM file. Clients without one still
   * connect; only what needs a certificate (tls_client_auth, bound tokens) refuses them.
   */
  readonly clientCaFile?: string;
  /**
   * With mutual TLS: the CRLs (PEM or DER, RFC 5280 §5) of every CA in `clientCaFile`; a
   * revoked client certificate then authenticates nothing (app/tls-crl.ts). Read again
   * while serving (app/tls-renewal.ts).
   */
  readonly clientCrlFile?: string;
}

export interface ConfigInput {
  readonly dataDir?: string;
  readonly database?: string;
  readonly postgresSchema?: string;
  readonly host?: string;
  readonly port?: number | string;
  readonly baseUrl?: string;
  /** The largest request body: a number of bytes, or a size such as `4MiB` or `512KiB` from the command line (env CUSTODIA_BODY_LIMIT). */
  readonly bodyLimitBytes?: number | string;
  /** The search deadline in seconds, 1 to 600 (env CUSTODIA_SEARCH_TIMEOUT; default 10). */
  readonly searchTimeoutSeconds?: number | string;
  /** The answer floor in whole milliseconds, 0 (off) to 1000 (env CUSTODIA_ANSWER_FLOOR; default 25). */
  readonly answerFloorMs?: number | string;
  readonly limits?: Partial<FhirLimits>;
  readonly insecureHttp?: boolean;
  /** PEM files: the certificate chain and its private key (env CUSTODIA_TLS_CERT, CUSTODIA_TLS_KEY). */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** Make and serve a self-signed certificate for localhost (env CUSTODIA_TLS_SELF_SIGNED=1). */
  readonly tlsSelfSigned?: boolean;
  /** PEM file of the CA certificates client certificates must chain to (env CUSTODIA_TLS_CLIENT_CA). */
  readonly tlsClientCa?: string;
  /** CRL file of the client CAs (env CUSTODIA_TLS_CLIENT_CRL). */
  readonly tlsClientCrl?: string;
  readonly logLevel?: VaultConfig['logLevel'];
  /** Exact origins (e.g. https://app.example.org); each entry may also be a comma-separated list. */
  readonly corsOrigins?: readonly string[];
  /** Proxy addresses or CIDR ranges; each entry may also be a comma-separated list. */
  readonly trustedProxies?: readonly string[];
  readonly rateLimits?: RateLimitInput;
  readonly encryption?: EncryptionInput;
  /** A retention policy JSON file (env CUSTODIA_RETENTION_POLICY). */
  readonly retentionPolicy?: string;
  readonly ledger?: LedgerInput;
  /** The detection stream (env CUSTODIA_DETECT_MQTT_URL, CUSTODIA_DETECT_TOPIC, CUSTODIA_DETECT_NATS_URL). */
  readonly detectStream?: DetectStreamInput;
}

export const DEFAULT_LIMITS: FhirLimits = Object.freeze({
  defaultCount: 20,
  maxCount: 1000,
  maxResults: 10_000,
  maxIncludes: 1000,
  maxBundleEntries: 10_000,
  maxIndexRows: 50_000,
  pageTtlMs: 30 * 60_000,
});

function invalid(message: string): never {
  throw new CustodiaError('config-invalid', message);
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** A yes/no environment variable: 1/true/yes or 0/false/no (any case), or unset. */
function envFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = nonEmpty(env[name])?.trim().toLowerCase();
  if (v === undefined) return undefined;
  if (v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no') return false;
  return invalid(`${name} must be 1 or 0`);
}

/** Where `--tls-self-signed` keeps its key and certificate. */
export function selfSignedTlsFiles(dataDir: string): { readonly certFile: string; readonly keyFile: string } {
  const dir = join(dataDir, 'keys', 'tls');
  return { certFile: join(dir, 'localhost.crt'), keyFile: join(dir, 'localhost.key') };
}

/** The TLS options of a server (`custodia serve`, `custodia witness serve`). */
export type TlsInput = Pick<ConfigInput, 'tlsCert' | 'tlsKey' | 'tlsSelfSigned' | 'tlsClientCa' | 'tlsClientCrl'>;

/**
 * `--tls-cert/--tls-key`, `--tls-self-signed`, `--tls-client-ca` and `--tls-client-crl` (each also from its
 * CUSTODIA_TLS_* variable in `env`), resolved to files; undefined without TLS.
 */
export function resolveTls(input: TlsInput, env: NodeJS.ProcessEnv, dataDir: string): TlsConfig | undefined {
  const certFile = input.tlsCert ?? nonEmpty(env['CUSTODIA_TLS_CERT']);
  const keyFile = input.tlsKey ?? nonEmpty(env['CUSTODIA_TLS_KEY']);
  const selfSigned = input.tlsSelfSigned ?? envFlag(env, 'CUSTODIA_TLS_SELF_SIGNED') ?? false;
  const clientCa = input.tlsClientCa ?? nonEmpty(env['CUSTODIA_TLS_CLIENT_CA']);
  const clientCrl = input.tlsClientCrl ?? nonEmpty(env['CUSTODIA_TLS_CLIENT_CRL']);
  if (clientCrl !== undefined && clientCa === undefined) invalid('--tls-client-crl needs --tls-client-ca: the lists revoke certificates of those CAs');
  if ((certFile === undefined) !== (keyFile === undefined)) invalid('TLS needs both --tls-cert and --tls-key');
  if (selfSigned && certFile !== undefined) invalid('Give --tls-cert and --tls-key, or --tls-self-signed, not both');
  const files = selfSigned ? selfSignedTlsFiles(dataDir) : certFile === undefined || keyFile === undefined ? undefined : { certFile: resolve(certFile), keyFile: resolve(keyFile) };
  if (files === undefined) {
    if (clientCa !== undefined) invalid('--tls-client-ca needs TLS: give --tls-cert and --tls-key, or --tls-self-signed');
    return undefined;
  }
  return Object.freeze({ ...files, selfSigned, ...(clientCa === undefined ? {} : { clientCaFile: resolve(clientCa) }), ...(clientCrl === undefined ? {} : { clientCrlFile: resolve(clientCrl) }) });
}

function parsePort(p: number | string | undefined): number {
  if (p === undefined) return 8080;
  const n = typeof p === 'number' ? p : /^\d{1,5}$/.test(p) ? Number(p) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) invalid('--port must be an integer from 0 to 65535');
  return n;
}

function detectStreamOf(input: DetectStreamInput, env: NodeJS.ProcessEnv): { detectStream?: DetectStreamConfig } {
  const detectStream = resolveDetectStream(input, env);
  return detectStream === undefined ? {} : { detectStream };
}

function retentionOf(path: string | undefined): RetentionPolicy {
  return path === undefined ? NO_RETENTION : loadRetentionPolicy(resolve(path));
}

/** Limits set in the environment: CUSTODIA_MAX_INDEX_ROWS (a positive integer), checked with the others. */
function envLimits(env: NodeJS.ProcessEnv): Partial<FhirLimits> {
  const rows = nonEmpty(env['CUSTODIA_MAX_INDEX_ROWS'])?.trim();
  if (rows === undefined) return {};
  if (!/^[0-9]{1,9}$/.test(rows)) invalid('CUSTODIA_MAX_INDEX_ROWS must be a positive integer');
  return { maxIndexRows: Number(rows) };
}

const MIN_BODY_LIMIT = 64 * 1024;
const MAX_BODY_LIMIT = 1024 * 1024 * 1024;
const BYTE_UNITS: Record<string, number> = { '': 1, B: 1, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };

/**
 * The body limit: bytes, or a whole number of KiB, MiB or GiB. From the command line or
 * the environment: refused unless it reads exactly so and lies between 64 KiB (room for
 * any ordinary resource and the OAuth forms) and 1 GiB.
 */
function parseBodyLimit(value: number | string): number {
  const m = typeof value === 'number' ? undefined : /^\s*([0-9]{1,10})\s*(B|KiB|MiB|GiB)?\s*$/i.exec(value);
  const bytes = typeof value === 'number' ? value : m === null || m === undefined ? Number.NaN : Number(m[1]) * BYTE_UNITS[(m[2] ?? '').toUpperCase()]!;
  if (!Number.isInteger(bytes) || bytes < MIN_BODY_LIMIT || bytes > MAX_BODY_LIMIT) invalid('the body limit must be a size from 64KiB to 1GiB, such as 4MiB or 1048576');
  return bytes;
}

/** A whole number from `min` to `max`: an option's number, or digits from the command line or environment (hostile until checked). */
function wholeNumberIn(value: number | string, min: number, max: number, message: string): number {
  const n = typeof value === 'number' ? value : /^\s*[0-9]{1,9}\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) invalid(message);
  return n;
}

/** The search deadline: whole seconds from 1 to 600. */
function parseSearchTimeout(value: number | string): number {
  return wholeNumberIn(value, 1, 600, 'the search timeout must be a whole number of seconds from 1 to 600') * 1000;
}

/** The answer floor: whole milliseconds from 0 (off) to MAX_ANSWER_FLOOR_MS. */
function parseAnswerFloor(value: number | string): number {
  return wholeNumberIn(value, 0, MAX_ANSWER_FLOOR_MS, `the answer floor must be a whole number of milliseconds from 0 to ${MAX_ANSWER_FLOOR_MS}`);
}

/**
 * Resolves the configuration. `env` supplies CUSTODIA_DATABASE_URL, CUSTODIA_DATA_DIR,
 * CUSTODIA_CORS_ORIGINS, CUSTODIA_TRUSTED_PROXIES and CUSTODIA_RATE_LIMITS (comma-separated),
 * CUSTODIA_TLS_CERT, CUSTODIA_TLS_KEY, CUSTODIA_TLS_CLIENT_CA, CUSTODIA_TLS_CLIENT_CRL (paths), CUSTODIA_MAX_INDEX_ROWS, CUSTODIA_BODY_LIMIT, CUSTODIA_SEARCH_TIMEOUT, CUSTODIA_ANSWER_FLOOR, and the flags
 * CUSTODIA_TLS_SELF_SIGNED and CUSTODIA_INSECURE_HTTP (1 or 0); explicit options win over
 * the environment.
 */
export function resolveConfig(input: ConfigInput, env: NodeJS.ProcessEnv = {}): VaultConfig {
  const dataDir = resolve(input.dataDir ?? env['CUSTODIA_DATA_DIR'] ?? './data');
  const rawDb = input.database ?? env['CUSTODIA_DATABASE_URL'];
  const database = rawDb === undefined || rawDb === '' ? join(dataDir, 'custodia.db') : /^postgres(ql)?:\/\//i.test(rawDb) ? rawDb : isAbsolute(rawDb) ? rawDb : resolve(rawDb);
  const host = input.host ?? '127.0.0.1';
  const port = parsePort(input.port);
  const insecureHttp = input.insecureHttp ?? envFlag(env, 'CUSTODIA_INSECURE_HTTP') ?? false;
  const tls = resolveTls(input, env, dataDir);
  if (tls === undefined && !isLoopback(host) && !insecureHttp) {
    invalid(`Refusing to serve plain HTTP on ${host}: patient data would cross the network unencrypted. Bind 127.0.0.1, give --tls-cert and --tls-key (or --tls-self-signed), or pass --insecure-http in a lab.`);
  }
  const limits = { ...DEFAULT_LIMITS, ...envLimits(env), ...(input.limits ?? {}) };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v < 1) invalid(`limit ${k} must be a positive integer`);
  }
  const displayHost = host.includes(':') ? `[${host}]` : host;
  const fhirBaseUrl = (input.baseUrl ?? `${tls === undefined ? 'http' : 'https'}://${displayHost}:${port}/fhir`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(fhirBaseUrl)) invalid('--base-url must be an absolute http(s) URL');
  const config: VaultConfig = {
    dataDir,
    database,
    host,
    port,
    fhirBaseUrl,
    bodyLimitBytes: parseBodyLimit(input.bodyLimitBytes ?? nonEmpty(env['CUSTODIA_BODY_LIMIT']) ?? 32 * 1024 * 1024),
    searchTimeoutMs: parseSearchTimeout(input.searchTimeoutSeconds ?? nonEmpty(env['CUSTODIA_SEARCH_TIMEOUT']) ?? DEFAULT_SEARCH_TIMEOUT_MS / 1000),
    answerFloorMs: parseAnswerFloor(input.answerFloorMs ?? nonEmpty(env['CUSTODIA_ANSWER_FLOOR']) ?? DEFAULT_ANSWER_FLOOR_MS),
    limits: Object.freeze(limits),
    insecureHttp,
    ...(tls === undefined ? {} : { tls }),
    logLevel: input.logLevel ?? 'info',
    corsOrigins: parseCorsOrigins(input.corsOrigins ?? [env['CUSTODIA_CORS_ORIGINS'] ?? '']),
    trustedProxies: parseTrustedProxies(input.trustedProxies ?? [env['CUSTODIA_TRUSTED_PROXIES'] ?? '']),
    rateLimits: resolveRateLimits(input.rateLimits ?? parseRateLimitSpecs([env['CUSTODIA_RATE_LIMITS'] ?? ''])),
    encryption: resolveEncryption(input.encryption ?? {}, env),
    retention: retentionOf(input.retentionPolicy ?? nonEmpty(env['CUSTODIA_RETENTION_POLICY'])),
    ledger: resolveLedger(input.ledger ?? {}, fhirBaseUrl, env),
    ...detectStreamOf(input.detectStream ?? {}, env),
    ...(input.postgresSchema === undefined ? {} : { postgresSchema: input.postgresSchema }),
  };
  return Object.freeze(config);
}
