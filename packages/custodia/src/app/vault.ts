/**
 * The composition root: builds every component from a validated config, once. Nothing
 * else in the code base constructs adapters (architecture guide §2, import rules).
 */
import { readFileSync } from 'node:fs';
import { monotonicClock, secureRandom, systemClock, type Clock, type Random } from '../kernel/index.js';
import { TokenService } from '../access/index.js';
import type { FhirContext, ResourceStore } from '../fhir/index.js';
import { loadSigningKey, openStore } from '../store/index.js';
import type { VaultConfig } from './config.js';
import { fhirComponents } from './fhir-components.js';

export interface Vault {
  readonly config: VaultConfig;
  readonly fhir: FhirContext;
  readonly tokens: TokenService;
  readonly store: ResourceStore;
  close(): Promise<void>;
}

export interface VaultOverrides {
  readonly clock?: Clock;
  readonly random?: Random;
}

function softwareVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The store and FHIR context of a config: what the server, the CLI and import workers share. */
export async function createFhirContext(config: VaultConfig, clock: Clock, random: Random): Promise<FhirContext> {
  const store = await openStore({ database: config.database, ...(config.postgresSchema === undefined ? {} : { schema: config.postgresSchema }) });
  return Object.freeze({
    baseUrl: config.fhirBaseUrl,
    store,
    ...fhirComponents(config.fhirBaseUrl, config.limits, clock),
    clock,
    random,
    limits: config.limits,
    software: { name: 'Custodia', version: softwareVersion() },
  });
}

export async function createVault(config: VaultConfig, overrides: VaultOverrides = {}): Promise<Vault> {
  const clock = monotonicClock(overrides.clock ?? systemClock);
  const random = overrides.random ?? secureRandom;
  const key = await loadSigningKey(config.dataDir, true);
  const fhir = await createFhirContext(config, clock, random);
  const store = fhir.store;
  const tokens = new TokenService(key, clock, random);
  return Object.freeze({
    config,
    fhir,
    tokens,
    store,
    close: () => store.close(),
  });
}
