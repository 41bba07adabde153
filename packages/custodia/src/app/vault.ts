/**
 * The composition root: builds every component from a validated config, once. Nothing
 * else in the code base constructs adapters (architecture guide §2, import rules).
 */
import { readFileSync } from 'node:fs';
import { InFlight, monotonicClock, secureRandom, systemClock, type Clock, type Random } from '../kernel/index.js';
import { BreakGlassService, IdentityService, LABEL_REQUIREMENTS, RateLimiter, TokenService, oauthEndpoints, type IdentityOptions, type OAuthOptions } from '../access/index.js';
import { AccessControl } from './access-control.js';
import { AdminApi } from './admin-api.js';
import { ConsentDirectory } from './consent-directory.js';
import type { FhirContext, ResourceStore, StoredVersion } from '../fhir/index.js';
import type { WriteAuditContext } from '../ledger/index.js';
import { ledgerErasureRecorder } from './erasure-record.js';
import { auditedOperatorLog } from './audited-operator-log.js';
import { AuditTrail } from './audit-trail.js';
import { auditedSecurityEvents } from './security-audit.js';
import { LedgerService } from './ledger-service.js';
import { FindingService } from './finding-service.js';
import { DeviceDirectory } from './device-directory.js';
import { DetectStream } from './detect-stream.js';
import { TalkerInventory } from './talker-inventory.js';
import { DeviceStatusApi } from './device-status.js';
import { AuditEventApi } from './audit-event-api.js';
import { AUDIT_EVENT_SEARCH_PARAMS } from './audit-event-query.js';
import { CosignedCheckpoints } from './cosigned-checkpoints.js';
import { CosignatureCollector } from './cosignature-collector.js';
import { openWitnessService } from './witness-node.js';
import type { WitnessService } from './witness-service.js';
import { patientsOfVersion } from './fhir-audit.js';
import { loadLedgerKey, loadSigningKey, openDatabase, type VaultDatabase } from '../store/index.js';
import type { VaultConfig } from './config.js';
import { fhirComponents } from './fhir-components.js';
import { commonPasswords } from './common-passwords.js';
import { createOAuthServer, type OAuthServer } from './oauth-server.js';
import { openKeyManagement, type KeyManagement } from './key-management.js';
import { ErasureService } from './erasure-service.js';
import { KeyRotation } from './key-rotation.js';
import { answerFloor, type AnswerFloor, type FloorTimer } from './answer-floor.js';
import { prepareTlsMaterial, readCaBundle, type TlsMaterial } from './tls-files.js';

export interface Vault {
  readonly config: VaultConfig;
  /** The requests being served: the server counts each from arrival to the end of its response. */
  readonly inFlight: InFlight;
  /** How long the FHIR pipeline holds a refusal (answer-floor.ts). */
  readonly answerFloor: AnswerFloor;
  /** What HTTPS serves with (certificate, key, client CAs), checked; undefined for plain HTTP. */
  readonly tls?: TlsMaterial;
  readonly fhir: FhirContext;
  /** `fhir` as one request that may write sees it: its store's transactions record the request's write audit in themselves (audit-trail.ts). */
  readonly auditedFhir: (audit: WriteAuditContext) => FhirContext;
  readonly tokens: TokenService;
  readonly store: ResourceStore;
  /** Users, second factors, lockout and clients (the OAuth server and admin endpoints build on it). */
  readonly identity: IdentityService;
  /** The SMART App Launch authorization server (discovery, authorize, token, introspect, revoke, launch). */
  readonly oauth: OAuthServer;
  /** The decision point: scopes ∩ role ∩ compartment ∩ consent ∩ labels, and break-the-glass. */
  readonly access: AccessControl;
  readonly breakGlass: BreakGlassService;
  /** `/admin/*`: explanations, break-the-glass reviews, users and clearances. */
  readonly admin: AdminApi;
  /** Request rate limits per user and per client (FHIR API and token endpoint), in this process. */
  readonly rateLimiter: RateLimiter;
  /** Crypto-shredding erasure and KEK/data-key rotation; absent when encryption at rest is off. */
  readonly erasure?: ErasureService;
  readonly keyRotation?: KeyRotation;
  /** Every access on the record (issue 5): durable audit records, in the Merkle ledger. */
  readonly audit: AuditTrail;
  /** The ledger's sequencer, checkpoints, tiles and proofs. */
  readonly ledger: LedgerService;
  /** With `--witness`: asks the witnesses to cosign each checkpoint (cosignature-collector.ts). */
  readonly cosigning?: CosignatureCollector;
  /** With `--witness-for`: this vault as a witness of other logs (served under /witness). */
  readonly witness?: WitnessService;
  /** The patients a returned version is about (for audit records). */
  readonly patientsOf: (v: StoredVersion) => readonly string[];
  /** The audit trail on the FHIR API: AuditEvent search and read, `Patient/{id}/$access-log`. */
  readonly auditEvents: AuditEventApi;
  /** Detection findings (issue 6 §4). */
  readonly findings: FindingService;
  /** Unknown talkers of the device network (issue 6 §2). */
  readonly inventory: TalkerInventory;
  /** What guards each device the detection stream of this process scores. */
  readonly deviceStatus: DeviceStatusApi;
  /** With `--detect-mqtt`: device telemetry → scoring → findings; started by `start()` (serve). */
  readonly detectStream?: DetectStream;
  close(): Promise<void>;
}

export interface VaultOverrides {
  readonly clock?: Clock;
  readonly random?: Random;
  /** Identity settings (tests lower the scrypt cost here; production keeps the defaults). */
  readonly identity?: Partial<IdentityOptions>;
  /** Authorization-server settings (lifetimes, JWKS fetching). */
  readonly oauth?: OAuthOptions;
  /** The timer of the answer floor (answer-floor.ts; default: setTimeout). */
  readonly timer?: FloorTimer;
}

function softwareVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The vault's database with every adapter over it, sealed under the vault's key store
 * (key-management.ts), with its audit ledger.
 */
export async function openVaultDatabase(
  config: VaultConfig,
  clock: Clock = systemClock,
  random: Random = secureRandom,
  /** The server's requests in flight (createVault); command-line tools pass none. */
  inFlight?: InFlight,
): Promise<VaultDatabase & { readonly keyManagement: KeyManagement }> {
  const keyManagement = openKeyManagement(config, clock, random);
  try {
    const database = await openDatabase({
      database: config.database,
      atRest: keyManagement.atRest,
      ledger: { enabled: config.ledger.audit, random, clock },
      searchTimeoutMs: config.searchTimeoutMs,
      ...(inFlight === undefined ? {} : { inFlight }),
      ...(config.postgresSchema === undefined ? {} : { schema: config.postgresSchema }),
    });
    return {
      ...database,
      ...(config.ledger.audit ? { operatorLog: auditedOperatorLog(database.operatorLog, database.ledger) } : {}),
      keyManagement,
      async close() {
        try {
          await database.close();
        } finally {
          keyManagement.close();
        }
      },
    };
  } catch (e) {
    keyManagement.close();
    throw e;
  }
}

/** The identity service over a vault database, with the shipped common-password list. */
export function createIdentityService(database: VaultDatabase, clock: Clock, random: Random, options: Partial<IdentityOptions> = {}): IdentityService {
  return new IdentityService(database.identity, clock, random, { commonPasswords, sharedThrottle: database.sharedBuckets, ...options });
}

function oauthUrisOf(e: ReturnType<typeof oauthEndpoints>): NonNullable<FhirContext['oauthUris']> {
  return { authorize: e.authorization, token: e.token, revoke: e.revocation, introspect: e.introspection };
}

/** The store and FHIR context of a config: what the server, the CLI and import workers share. */
export async function createFhirContext(config: VaultConfig, clock: Clock, random: Random, database?: VaultDatabase): Promise<FhirContext> {
  const store = (database ?? (await openVaultDatabase(config))).resources;
  return Object.freeze({
    baseUrl: config.fhirBaseUrl,
    store,
    ...fhirComponents(config.fhirBaseUrl, config.limits, clock),
    clock,
    random,
    limits: config.limits,
    software: { name: 'Custodia', version: softwareVersion() },
    cors: config.corsOrigins.length > 0,
    oauthUris: oauthUrisOf(oauthEndpoints(config.fhirBaseUrl)),
    searchServedElsewhere: { AuditEvent: AUDIT_EVENT_SEARCH_PARAMS },
  });
}

export async function createVault(config: VaultConfig, overrides: VaultOverrides = {}): Promise<Vault> {
  const wallClock = overrides.clock ?? systemClock;
  const clock = monotonicClock(wallClock);
  const random = overrides.random ?? secureRandom;
  // First, so a TLS mistake stops the start before anything is opened.
  const tls = await prepareTlsMaterial(config, wallClock, random);
  const witnessCa = config.ledger.witnessCaFile === undefined ? undefined : readCaBundle(config.ledger.witnessCaFile, 'witness CA file');
  const key = await loadSigningKey(config.dataDir, true);
  const ledgerKey = loadLedgerKey(config.dataDir, { ...(config.ledger.origin === undefined ? {} : { explicit: config.ledger.origin }), fallback: config.ledger.defaultOrigin }, random, true);
  // The server counts its requests here; the store flushes off the event loop while others wait (store/group-commit.ts).
  const inFlight = new InFlight();
  const database = await openVaultDatabase(config, clock, random, inFlight);
  const fhir = await createFhirContext(config, clock, random, database);
  // Witnesses (issue 5 §3): the log's own, and the other logs this vault witnesses.
  const { witnesses, witnessQuorum, witnessFor } = config.ledger;
  const cosigned = witnesses.length === 0 ? undefined : new CosignedCheckpoints(database.ledger, database.cosignatures, witnesses.map((w) => w.vkey), witnessQuorum);
  const ledger = new LedgerService(database.ledger, ledgerKey, config.ledger, clock, cosigned);
  const cosigning = witnesses.length === 0 ? undefined : new CosignatureCollector(ledger, database.cosignatures, witnesses, { clock: wallClock, ...(witnessCa === undefined ? {} : { ca: witnessCa }) });
  if (cosigning !== undefined) ledger.onCheckpoint((cp) => cosigning.notify(cp));
  const witnessName = { ...(config.ledger.witnessName === undefined ? {} : { explicit: config.ledger.witnessName }), fallback: config.ledger.defaultWitnessName };
  const witness = witnessFor.length === 0 ? undefined : openWitnessService(config.dataDir, witnessName, witnessFor, wallClock, random);
  const audit = new AuditTrail(database.ledger, clock, config.ledger.audit, (n) => ledger.appended(n));
  const patientsOf = patientsOfVersion((r) => fhir.indexer.patients(r));
  const store = fhir.store;
  // Access tokens of the authorization server: its issuer, for this FHIR base URL; revocations in the database.
  const tokens = new TokenService(key, clock, random, { oauth: { issuer: oauthEndpoints(config.fhirBaseUrl).issuer, audience: config.fhirBaseUrl }, revocations: database.oauth, issued: database.oauth, accounts: database.identity });
  // The sign-in throttle, like the rate limits below, measures elapsed time by the wall clock.
  const identity = createIdentityService(database, clock, random, { throttleClock: wallClock, ...overrides.identity });
  // Sign-in, MFA, consent, token and break-the-glass events, in the ledger like FHIR requests.
  const securityEvents = auditedSecurityEvents(audit);
  const breakGlass = new BreakGlassService(database.breakGlass, random, securityEvents);
  const tokenParams = fhir.validator.resourceTypes.flatMap((t) => fhir.search.describe(t).filter((p) => p.type === 'token').map((p) => `${t}.${p.name}`));
  const access = new AccessControl(fhir.validator.resourceTypes, LABEL_REQUIREMENTS, new ConsentDirectory(store, { baseUrl: config.fhirBaseUrl }), breakGlass, clock, tokenParams);
  // Rate limits measure elapsed time: the wall clock, not the monotonic one, which runs
  // ahead of it whenever it is read more than once a millisecond.
  const rateLimiter = new RateLimiter(wallClock, config.rateLimits, database.sharedBuckets);
  const keys = database.keyManagement.keys;
  // The detection stream is built below; an erasure reaches it through this binding.
  const deviceDirectory = new DeviceDirectory(store, clock, undefined, (patient) => keys?.isErased(patient) ?? false);
  let streamOfErasure: DetectStream | undefined;
  const forgetDevices = async (patient: string): Promise<void> => {
    const devices = await deviceDirectory.devicesOf(patient);
    await database.baselines.forget(streamOfErasure === undefined ? devices : await streamOfErasure.forgetPatient(patient, devices));
  };
  const erasure = keys === undefined ? undefined : new ErasureService(keys, database.sealedData, database.legalHolds, config.retention, database.operatorLog, clock, ledgerErasureRecorder(database, config.ledger.audit, (n) => ledger.appended(n)), forgetDevices);
  const keyRotation = keys === undefined ? undefined : new KeyRotation(keys, database.sealedData, database.keyManagement.atRest, database.operatorLog, clock);
  // A database restored from a backup taken before an erasure loses the erased records again.
  await erasure?.replay();
  // Break-the-glass reasons written before they were sealed (migration 0021) are sealed now, once.
  await database.breakGlass.sealClearReasons();
  // Audit index rows filed under a clear patient id (before blind filing) are filed blind now, once.
  await database.ledger.refileClearPatients();
  const findings = new FindingService(database.findings, audit, clock, random, undefined, { buckets: database.sharedBuckets, clock: wallClock });
  const inventory = new TalkerInventory(database.talkers, audit, clock);
  const detectStream = config.detectStream === undefined ? undefined : new DetectStream({ config: config.detectStream, findings, devices: deviceDirectory, inventory, clock, random, baselines: database.baselines, keepEveryMs: config.detectStream.keepSeconds * 1000 });
  streamOfErasure = detectStream;
  const oauth = createOAuthServer({ fhirBaseUrl: config.fhirBaseUrl, mutualTls: tls?.clientCa !== undefined, access, key, tokens, identity, store: database.oauth, fhir, clock, random, rateLimiter, events: securityEvents, ...(overrides.oauth === undefined ? {} : { options: overrides.oauth }) });
  return Object.freeze({
    config,
    inFlight,
    answerFloor: answerFloor(config.answerFloorMs, overrides.timer),
    ...(tls === undefined ? {} : { tls }),
    fhir,
    // Without a ledger the store's view is the store itself (KyselyResourceStore.withAudit).
    auditedFhir: (a: WriteAuditContext) => Object.freeze({ ...fhir, store: database.auditedResources(a) }),
    tokens,
    store,
    identity,
    oauth,
    access,
    breakGlass,
    admin: new AdminApi(access, identity, breakGlass, store, database.operatorLog, clock, { holds: database.legalHolds, ...(erasure === undefined ? {} : { erasure }), ...(keyRotation === undefined ? {} : { keyRotation }) }, database.oauth),
    rateLimiter,
    ...(erasure === undefined ? {} : { erasure }),
    ...(keyRotation === undefined ? {} : { keyRotation }),
    audit,
    ledger,
    ...(cosigning === undefined ? {} : { cosigning }),
    ...(witness === undefined ? {} : { witness }),
    patientsOf,
    auditEvents: new AuditEventApi({ ledger, audit, guardFor: (p) => access.guardFor(p), baseUrl: config.fhirBaseUrl, limits: config.limits, clock, chargeEvents: (p, events) => rateLimiter.chargeWork(p, 'auditEvents', events) }),
    findings,
    inventory,
    deviceStatus: new DeviceStatusApi(audit, detectStream),
    ...(detectStream === undefined ? {} : { detectStream }),
    async close() {
      await detectStream?.close();
      await inventory.flush().catch(() => undefined);
      await keyRotation?.stop();
      await ledger.stop();
      await cosigning?.stop();
      witness?.close();
      await database.close();
    },
  });
}
