/**
 * Audit-ledger settings (issue 5): the log's origin (the first line of every checkpoint,
 * and the name of its signing key), how often checkpoints are published, and whether
 * auditing is on at all — always, except in the benchmark that measures its cost.
 */
import { resolve } from 'node:path';
import { CustodiaError } from '../kernel/index.js';
import { isValidKeyName } from '../ledger/index.js';
import { logVerifiers, parseWitnessedLog, resolveWitnesses, type WitnessedLog, type WitnessPeer } from './witness-config.js';

export interface LedgerConfig {
  /** Off only for the benchmark that measures auditing's overhead (CUSTODIA_AUDIT=off). */
  readonly audit: boolean;
  /**
   * C2SP tlog-checkpoint origin, e.g. `hospital.example/ledger`, when set explicitly: a
   * log keeps the origin it was created with, and a different one is refused.
   */
  readonly origin?: string;
  /** The origin a new log gets when none is set: the FHIR base URL's host and path. */
  readonly defaultOrigin: string;
  /** A checkpoint is signed at least this often while entries arrive (ms)… */
  readonly checkpointIntervalMs: number;
  /** …and as soon as this many entries are pending. */
  readonly checkpointEntries: number;
  /** The witnesses asked to cosign every checkpoint (`--witness`); none by default. */
  readonly witnesses: readonly WitnessPeer[];
  /** How many of them must cosign a checkpoint before GET /ledger/checkpoint serves it (`--witness-quorum`). */
  readonly witnessQuorum: number;
  /** A PEM CA bundle, the only trust anchor of https witnesses (`--witness-ca`); the system's roots when absent. */
  readonly witnessCaFile?: string;
  /** Plain-http witnesses beyond loopback were allowed (`--witness-insecure-http`). */
  readonly witnessInsecureHttp: boolean;
  /** The other logs this vault witnesses (`--witness-for`); none by default. */
  readonly witnessFor: readonly WitnessedLog[];
  /** The name of this vault's witness key when set explicitly (`--witness-name`); fixed when the key is created. */
  readonly witnessName?: string;
  /** The name a new witness key gets when none is set: the FHIR base URL's host and path, then `/witness`. */
  readonly defaultWitnessName: string;
}

export interface LedgerInput {
  readonly audit?: boolean;
  readonly origin?: string;
  readonly checkpointIntervalMs?: number;
  readonly checkpointEntries?: number;
  /** `URL=VKEY` specs (witness-config.ts). */
  readonly witnesses?: readonly string[];
  readonly witnessQuorum?: number | string;
  /** PEM file of the CA certificates https witnesses must chain to. */
  readonly witnessCa?: string;
  readonly witnessInsecureHttp?: boolean;
  /** `ORIGIN=VKEY` specs. */
  readonly witnessFor?: readonly string[];
  readonly witnessName?: string;
}

const invalid = (m: string): never => {
  throw new CustodiaError('config-invalid', m);
};

/** The default origin: the FHIR base URL's host and path, without the scheme (C2SP recommends a schema-less URL). */
export function defaultOrigin(fhirBaseUrl: string, last = 'ledger'): string {
  const u = new URL(fhirBaseUrl);
  return `${u.host}${u.pathname.replace(/\/fhir\/?$/, '')}/${last}`.replace(/\/+/g, '/');
}

export function resolveLedger(input: LedgerInput, fhirBaseUrl: string, env: NodeJS.ProcessEnv): LedgerConfig {
  const flag = env['CUSTODIA_AUDIT'];
  if (flag !== undefined && flag !== '' && flag !== 'on' && flag !== 'off') invalid('CUSTODIA_AUDIT is on or off');
  const origin = input.origin ?? (env['CUSTODIA_LEDGER_ORIGIN'] || undefined);
  const fallback = defaultOrigin(fhirBaseUrl);
  for (const o of origin === undefined ? [fallback] : [origin]) {
    if (!isValidKeyName(o) || o.length > 128) invalid('--ledger-origin must be 1–128 characters without spaces or "+" (C2SP signed-note key name)');
  }
  const checkpointIntervalMs = input.checkpointIntervalMs ?? 1000;
  const checkpointEntries = input.checkpointEntries ?? 1000;
  if (!Number.isInteger(checkpointIntervalMs) || checkpointIntervalMs < 10) invalid('The checkpoint interval is a whole number of milliseconds, at least 10');
  if (!Number.isInteger(checkpointEntries) || checkpointEntries < 1) invalid('The checkpoint entry count is a positive whole number');
  const witnessInsecureHttp = input.witnessInsecureHttp ?? false;
  const { witnesses, quorum: witnessQuorum } = resolveWitnesses(input.witnesses ?? [], input.witnessQuorum, witnessInsecureHttp);
  if (input.witnessCa !== undefined && !witnesses.some((w) => w.url.startsWith('https:'))) invalid('--witness-ca is the trust anchor of https witnesses: give at least one https --witness');
  const witnessFor = Object.freeze((input.witnessFor ?? []).map((s) => parseWitnessedLog(s)));
  logVerifiers(witnessFor); // refuses a log key given twice
  const witnessName = input.witnessName;
  if (witnessName !== undefined && (!isValidKeyName(witnessName) || witnessName.length > 128)) invalid('--witness-name must be 1–128 characters without spaces or "+" (C2SP signed-note key name)');
  return Object.freeze({
    audit: input.audit ?? flag !== 'off',
    ...(origin === undefined ? {} : { origin }),
    defaultOrigin: fallback,
    checkpointIntervalMs,
    checkpointEntries,
    witnesses,
    witnessQuorum,
    ...(input.witnessCa === undefined ? {} : { witnessCaFile: resolve(input.witnessCa) }),
    witnessInsecureHttp,
    witnessFor,
    ...(witnessName === undefined ? {} : { witnessName }),
    defaultWitnessName: defaultOrigin(fhirBaseUrl, 'witness'),
  });
}
