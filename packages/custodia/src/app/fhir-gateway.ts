/**
 * The security pipeline every FHIR request goes through, in the order the architecture
 * fixes: authenticate → rate-limit → parse → authorize → execute → audit. A write is
 * audited inside its own transaction; a read's record, and a refusal's, is durable before
 * the response leaves (audit-trail.ts). Only `GET metadata` is answered without a token,
 * as SMART requires.
 */
import { createHash } from 'node:crypto';
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { requireBoundCertificate, type ClientCertificate, type Principal, type RateLimiter, type TokenService } from '../access/index.js';
import type { AccessControl, BreakGlassRequest } from './access-control.js';
import { executeInteraction, isReadOnly, parseInteraction, type FhirContext, type FhirInteraction, type FhirResult, type RequestOptions, type StoredVersion } from '../fhir/index.js';
import type { WriteAuditContext, WriteAuditTemplate } from '../ledger/index.js';
import type { AuditTrail } from './audit-trail.js';
import { agentOf, authnFailureTemplate, disclosureRecord, failureRecord, templateOf } from './fhir-audit.js';
import type { AuditEventApi } from './audit-event-api.js';
import type { AnswerFloor } from './answer-floor.js';

export interface FhirHttpRequest {
  readonly method: string;
  /** Path below the FHIR base without leading slash or query. */
  readonly path: string;
  readonly query: string;
  readonly body: unknown;
  readonly formParams?: ReadonlyArray<readonly [string, string]>;
  readonly authorization?: string;
  /** The principal `authorization` was already verified as, for this request, before its body was read (server/verified-before-body.ts). */
  readonly principal?: Principal;
  /** The length of the body as read (characters of its text), for its rate-limit charge; 0 or absent without one. */
  readonly bodyLength?: number;
  /** The connection's client certificate, verified by the TLS stack (mutual TLS), if any. */
  readonly clientCertificate?: ClientCertificate;
  readonly ifMatch?: string;
  readonly ifNoneExist?: string;
  /** Conditional read (R4 http.html §3.1.0.2, RFC 9110 §13.1.2, §13.1.3). */
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly prefer?: string;
  /** Break-the-glass by header: X-Purpose-Of-Use, X-Break-Glass-Reason, X-Break-Glass-Patient. */
  readonly breakGlass?: BreakGlassRequest;
  /** The client's network address (after trusted proxies), for the audit record. */
  readonly address?: string;
}

/** What the pipeline needs of the vault. */
export interface FhirGateway {
  readonly fhir: FhirContext;
  /** `fhir` for one request that may write: its transactions record the request's write audit in themselves (vault.ts). */
  readonly auditedFhir: (audit: WriteAuditContext) => FhirContext;
  readonly tokens: TokenService;
  readonly access: AccessControl;
  readonly rateLimiter: Pick<RateLimiter, 'admit' | 'charge' | 'chargeWork' | 'countRefusedToken'>;
  readonly audit: AuditTrail;
  /** The patients a returned version is about (fhir-audit.ts patientsOfVersion). */
  readonly patientsOf: (v: StoredVersion) => readonly string[];
  /** The audit trail as AuditEvents and `$access-log` (audit-event-api.ts), served from the ledger. */
  readonly auditEvents?: Pick<AuditEventApi, 'handles' | 'serve'>;
  /** Holds refusals to a floor of time (answer-floor.ts); none: they leave when ready. */
  readonly answerFloor?: AnswerFloor;
}

/**
 * RFC 6750 §2.1: `Authorization: Bearer <token>`. The header is attacker-controlled. A
 * certificate-bound token (RFC 8705 §3) holds only over a connection presenting its
 * certificate.
 */
export async function authenticate(tokens: TokenService, header: string | undefined, certificate?: ClientCertificate): Promise<Principal> {
  if (header === undefined || header === '') throw new CustodiaError('unauthenticated', 'This endpoint needs a bearer token (Authorization: Bearer …)');
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  if (m === null) throw new CustodiaError('token-invalid', 'The Authorization header must be "Bearer <token>"');
  const principal = await tokens.verify(m[1]!);
  requireBoundCertificate(principal, certificate);
  return principal;
}

/** Prefer (RFC 7240; R4 http.html §3.1.0.1.8 and search.html §3.1.1.3.2). */
export function parsePrefer(header: string | undefined): Pick<RequestOptions, 'returnPreference' | 'handling'> {
  let returnPreference: RequestOptions['returnPreference'];
  let handling: RequestOptions['handling'] = 'lenient';
  for (const part of (header ?? '').split(/[,;]/)) {
    const [k, v] = part.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k === 'return' && (v === 'minimal' || v === 'representation' || v === 'OperationOutcome')) returnPreference = v;
    if (k === 'handling' && (v === 'strict' || v === 'lenient')) handling = v;
  }
  return { returnPreference, handling };
}

/**
 * Paging links belong to the identity that ran the search and to what it was allowed: the
 * same user through another client, with other scopes, another patient context or another
 * purpose of use cannot page through it (a refreshed token with the same grant can).
 */
function ownerOf(p: Principal): string {
  const grant = [p.issuer, p.kind, p.subject, p.clientId ?? '', [...p.scope.split(' ')].filter((s) => s !== '').sort().join(' '), p.patient ?? '', p.purposeOfUse];
  return createHash('sha256').update(JSON.stringify(grant)).digest('base64url');
}

/**
 * The entries of a batch or transaction Bundle, each of which the rate limits count as a
 * request (R4 http.html §3.1.0.11: each entry is an interaction). Counted in the parsed
 * body (hostile: whatever `entry` is), before any entry is read; a Bundle over the limit
 * is refused by the bundle parser and costs the limit.
 */
function bundleEntries(body: unknown, max: number): number {
  const entry = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['entry'] : undefined;
  return Array.isArray(entry) ? Math.min(entry.length, max) : 0;
}

/**
 * authenticate → rate-limit (per user and client, before any parsing or lookup; a large
 * body pays for its size, a Bundle for its other entries, and a large answer for what it
 * returns) → parse → decide (scopes ∩ role ∩ compartment ∩ consent
 * ∩ labels) → execute with the decision's guard and visibility.
 */
export async function handleFhirRequest(gateway: FhirGateway, req: FhirHttpRequest): Promise<FhirResult> {
  const isMetadata = req.path === 'metadata' && (req.method === 'GET' || req.method === 'HEAD');
  if (isMetadata) return answerMetadata(gateway, req);
  // Armed at arrival: a hidden record's refusal and a missing one's leave when it fires (answer-floor.ts).
  const floor = gateway.answerFloor?.start();
  const state: RequestState = { req };
  try {
    const result = await serve(gateway, req, state);
    floor?.done();
    return result;
  } catch (e) {
    await auditFailure(gateway, state.req, state.principal, state.interaction, e);
    await floor?.refuse(e);
    throw e;
  }
}

/** What a request had established when it failed: its audit record says so. */
interface RequestState {
  /** The request as the pipeline took it (without a break-the-glass claim where none applies). */
  req: FhirHttpRequest;
  principal?: Principal;
  interaction?: FhirInteraction;
}

/** authenticate → admit → parse → authorize and execute → audit what is disclosed. */
async function serve(gateway: FhirGateway, req: FhirHttpRequest, state: RequestState): Promise<FhirResult> {
  const { audit } = gateway;
  const principal = req.principal ?? await authenticate(gateway.tokens, req.authorization, req.clientCertificate).catch((e: unknown) => {
    // A refused token is recorded (auditFailure), up to a rate per address; past it, 429 and nothing recorded.
    gateway.rateLimiter.countRefusedToken(req.address);
    throw e;
  });
  state.principal = principal;
  gateway.rateLimiter.admit(principal);
  gateway.rateLimiter.chargeWork(principal, 'bodyBytes', req.bodyLength ?? 0);
  const interaction = parse(req);
  state.interaction = interaction;
  if (interaction.kind === 'bundle') gateway.rateLimiter.charge(principal, bundleEntries(interaction.body, gateway.fhir.limits.maxBundleEntries) - 1);
  if (gateway.auditEvents?.handles(interaction) === true) {
    // The audit trail: its own access rule and audit record. Break-the-glass does not
    // apply to it, so a BTG header is not what access was decided on and is not recorded.
    const { breakGlass: _notApplicable, ...rest } = req;
    state.req = rest;
    if (interaction.kind === 'operation' && rest.method !== 'GET' && rest.method !== 'HEAD') throw new CustodiaError('method-not-allowed', `${interaction.name} is invoked with GET`);
    return gateway.auditEvents.serve(interaction, principal, { ...(rest.address === undefined ? {} : { address: rest.address }), handling: parsePrefer(rest.prefer).handling });
  }
  const template = templateOf(interaction, principal, req.address, req.breakGlass?.purposeOfUse);
  const context: WriteAuditContext = { template, now: () => audit.clock.now(), recorded: false };
  // A read-only interaction writes nothing, so its store needs no write-audit context.
  const ctx = isReadOnly(interaction) ? gateway.fhir : gateway.auditedFhir(context);
  const result = await authorizeAndExecute(gateway, ctx, req, principal, interaction);
  const returned = result.returned ?? [];
  gateway.rateLimiter.chargeWork(principal, 'resources', returned.length);
  // A write was audited in its transaction; what a response discloses is audited here, before it leaves.
  if (audit.enabled && (returned.length > 0 || !context.recorded)) await audit.record([disclosureRecord(template, returned, gateway.patientsOf, audit.clock.now())]);
  return result;
}

/** A bearer token refused outside the FHIR pipeline (the ledger's entry route) is audited like one inside it. */
export function recordAuthnFailure(gateway: Pick<FhirGateway, 'audit'>, e: unknown, address: string | undefined): Promise<void> {
  return gateway.audit.record([failureRecord(authnFailureTemplate(e, address), undefined, e, gateway.audit.clock.now())]);
}

/** A request that failed is audited too (failed sign-ins, refusals, not found); a flood of 429s is not, to keep it from amplifying. */
async function auditFailure(gateway: FhirGateway, req: FhirHttpRequest, principal: Principal | undefined, interaction: FhirInteraction | undefined, e: unknown): Promise<void> {
  if (isCustodiaError(e, 'rate-limited') || isCustodiaError(e, 'audit-unavailable')) return;
  const { audit } = gateway;
  const template: WriteAuditTemplate =
    principal === undefined
      ? authnFailureTemplate(e, req.address)
      : interaction === undefined
        ? { type: 'rest', subtype: 'unparsed', agent: agentOf(principal, req.address), purposeOfUse: principal.purposeOfUse.slice(0, 64) || 'TREAT' }
        : templateOf(interaction, principal, req.address, req.breakGlass?.purposeOfUse);
  try {
    await audit.record([failureRecord(template, interaction, e, audit.clock.now())]);
  } catch {
    // The request fails anyway with its own error; the lost record is the operator's to see (audit-unavailable is logged by the server).
  }
}

function parse(req: FhirHttpRequest): FhirInteraction {
  return parseInteraction({
    method: req.method,
    path: req.path,
    query: req.query,
    body: req.body,
    ...(req.formParams === undefined ? {} : { formParams: req.formParams }),
    ...(req.ifMatch === undefined ? {} : { ifMatch: req.ifMatch }),
    ...(req.ifNoneExist === undefined ? {} : { ifNoneExist: req.ifNoneExist }),
    ...(req.ifNoneMatch === undefined ? {} : { ifNoneMatch: req.ifNoneMatch }),
    ...(req.ifModifiedSince === undefined ? {} : { ifModifiedSince: req.ifModifiedSince }),
  });
}

/** `GET metadata`: the CapabilityStatement, the one answer without a token (nothing stored is disclosed; not audited). */
function answerMetadata(gateway: FhirGateway, req: FhirHttpRequest): Promise<FhirResult> {
  const anonymous: RequestOptions = { ...parsePrefer(req.prefer), owner: 'anonymous', visibility: { kind: 'none' } };
  return executeInteraction(gateway.fhir, parse(req), anonymous, (i) => {
    if (i.kind !== 'capabilities') throw new CustodiaError('unauthenticated', 'This endpoint needs a bearer token');
  });
}

/**
 * decide (scopes ∩ role ∩ compartment ∩ consent ∩ labels) → execute with the decision's
 * guard and visibility.
 */
async function authorizeAndExecute(gateway: FhirGateway, ctx: FhirContext, req: FhirHttpRequest, principal: Principal, interaction: FhirInteraction): Promise<FhirResult> {
  const { access } = gateway;
  // The interaction-level check first: a refusal that depends on nothing stored (403),
  // before anything is looked up or a break-the-glass session is opened.
  access.guardFor(principal)(interaction);
  const decision = await access.forRequest(principal, req.breakGlass ?? {}, req.address);
  const options: RequestOptions = {
    ...parsePrefer(req.prefer),
    // Only searches (and bundles, which may hold them, and operations that search) save a page set that needs an owner.
    owner: interaction.kind === 'search' || interaction.kind === 'page' || interaction.kind === 'bundle' || interaction.kind === 'operation' ? ownerOf(principal) : '',
    visibility: decision.visibility,
    ...(isReadOnly(interaction) ? {} : { writeVisibility: await decision.writeVisibility() }),
  };
  return executeInteraction(ctx, interaction, options, decision.guard);
}
