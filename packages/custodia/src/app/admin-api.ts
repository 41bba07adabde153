/**
 * The administration API behind `/admin/*`: explanations of access decisions, the
 * break-the-glass review queue, and user and client management. Framework-free: the
 * server adapter authenticates the bearer token and passes the Principal. Every call
 * checks the caller's role first (deny by default), and every change is recorded in the
 * operator log.
 */
import { ADMIN_ROLES, ADMIN_SCOPE, CLEARANCES, hasAdminScope, TREATMENT, userPrincipal, type BreakGlassService, type BreakGlassSession, type IdentityService, type OAuthStore, type OperatorLog, type Principal } from '../access/index.js';
import { CustodiaError, type Clock } from '../kernel/index.js';
import { isFhirId, type ResourceStore } from '../fhir/index.js';
import type { AccessControl, ExplainedLayer } from './access-control.js';
import type { LegalHold, LegalHoldStore } from '../store/index.js';
import { badPatientId, type ErasureReport, type ErasureService } from './erasure-service.js';
import { parseTokenId, revokeTokenIdOn } from './token-id.js';
import type { KeyRotation, KeyStatus } from './key-rotation.js';

/** Key management behind the admin API; erasure and rotation are absent when encryption at rest is off. */
export interface KeyAdministration {
  readonly holds: LegalHoldStore;
  readonly erasure?: ErasureService;
  readonly keyRotation?: KeyRotation;
}

const encryptionOff = (): CustodiaError => new CustodiaError('not-supported', 'Encryption at rest is off in this vault: there are no keys to destroy or rotate');

/** A reason from `{ "reason": … }` or a FHIR Parameters body with a `reason` string (attacker-controlled). */
function reasonOf(body: unknown): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (b['resourceType'] === 'Parameters' && Array.isArray(b['parameter'])) {
    const p = (b['parameter'] as unknown[]).find((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && (x as Record<string, unknown>)['name'] === 'reason');
    return str(p?.['valueString'], 'reason', 500);
  }
  return str(b['reason'], 'reason', 500);
}

/** Who the operator log names for a caller. */
const actorOf = (caller: Principal): string => (caller.kind === 'operator' ? 'operator' : caller.subject);

export type AdminRole = 'admin' | 'privacy-officer';

/**
 * Deny by default: the operator, or a user in one of `roles` whose token was issued for
 * administration (the `custodia/admin` scope, access/admin-scope.ts). Clients never.
 */
export function requireAdministrator(caller: Principal, ...roles: AdminRole[]): void {
  if (caller.kind === 'operator') return;
  if (caller.kind !== 'user' || caller.role === undefined || !(roles as string[]).includes(caller.role)) {
    throw new CustodiaError('forbidden', `This needs the ${roles.join(' or ')} role`);
  }
  if (!hasAdminScope(caller.scope)) throw new CustodiaError('forbidden', `This needs a token with the ${ADMIN_SCOPE} scope`);
}

/**
 * Separation of duties: the accounts that administer the vault or its privacy decisions
 * are created by the operator (`custodia user add`, which needs the data directory), never
 * through the API, so that one administrator cannot mint a privacy officer (or another
 * administrator) whose password they know and grant themselves clearances through it.
 */
const OPERATOR_ONLY_ROLES: readonly string[] = ADMIN_ROLES;

/** Attacker-controlled query and body values: strings of bounded length, or nothing. */
function str(v: unknown, name: string, max = 256): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw new CustodiaError('request-malformed', `${name} is required (at most ${max} characters)`);
  return v.trim();
}

function optionalStr(v: unknown, name: string, max = 256): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : str(v, name, max);
}

export interface Explanation {
  readonly user: string;
  readonly resource: string;
  readonly purposeOfUse: string;
  /** `access` (may they read it) or `correct` (may they change it). */
  readonly action: 'access' | 'correct';
  readonly exists: boolean;
  readonly allowed: boolean;
  readonly layers: readonly ExplainedLayer[];
}

export class AdminApi {
  constructor(
    private readonly access: AccessControl,
    private readonly identity: IdentityService,
    private readonly breakGlass: BreakGlassService,
    private readonly store: ResourceStore,
    private readonly log: OperatorLog,
    private readonly clock: Clock,
    private readonly keys: KeyAdministration,
    /** The revocation list every token verification consults (`oauth_revoked_tokens`). */
    private readonly revocations: Pick<OAuthStore, 'revokeAccessToken' | 'issuedTokenExpiry'>,
  ) {}

  async #record(caller: Principal, action: string, detail: Record<string, string | number | boolean | null>): Promise<void> {
    await this.log.record({ at: this.clock.now(), action, actor: actorOf(caller), detail });
  }

  /** "Why was this user allowed or denied this resource?" — for administrators and privacy officers only. */
  async explain(caller: Principal, q: { user?: unknown; resource?: unknown; purpose?: unknown; scope?: unknown; action?: unknown }): Promise<Explanation> {
    requireAdministrator(caller, 'admin', 'privacy-officer');
    const username = str(q.user, 'user');
    const resource = str(q.resource, 'resource', 200);
    const m = /^([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})$/.exec(resource);
    if (m === null) throw new CustodiaError('request-malformed', 'resource must be Type/id');
    const purposeOfUse = optionalStr(q.purpose, 'purpose', 16) ?? TREATMENT;
    const scope = optionalStr(q.scope, 'scope', 2000) ?? 'user/*.cruds';
    const action = optionalStr(q.action, 'action', 16) ?? 'access';
    if (action !== 'access' && action !== 'correct') throw new CustodiaError('request-malformed', 'action must be access or correct');
    const user = await this.identity.getUserByUsername(username);
    if (user === undefined) throw new CustodiaError('identity-not-found', 'No such user');
    const p = userPrincipal(user, { issuer: 'explain', tokenId: 'explain', scope, purposeOfUse });
    const facts = await this.store.visibilityFacts(m[1]!, m[2]!);
    await this.#record(caller, 'access.explain', { user: username, resource, purpose: purposeOfUse, action });
    if (facts === undefined) return { user: username, resource, purposeOfUse, action, exists: false, allowed: false, layers: [] };
    const r = await this.access.explain(p, facts, action);
    return { user: username, resource, purposeOfUse, action, exists: true, allowed: r.allowed, layers: r.layers };
  }

  async breakGlassReviews(caller: Principal, status: unknown): Promise<BreakGlassSession[]> {
    requireAdministrator(caller, 'privacy-officer');
    return status === 'all' ? this.breakGlass.list(500) : this.breakGlass.pending(500);
  }

  async reviewBreakGlass(caller: Principal, id: string, body: unknown): Promise<BreakGlassSession> {
    requireAdministrator(caller, 'privacy-officer');
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const disposition = b['disposition'];
    if (disposition !== 'justified' && disposition !== 'unjustified') throw new CustodiaError('request-malformed', 'disposition must be justified or unjustified');
    const note = optionalStr(b['note'], 'note', 2000) ?? '';
    const s = await this.breakGlass.review(str(id, 'id', 64), disposition, caller, note, this.clock.now());
    await this.#record(caller, 'btg.review', { session: s.id, disposition });
    return s;
  }

  async addUser(caller: Principal, body: unknown): Promise<{ user: unknown; generatedPassword?: string }> {
    requireAdministrator(caller, 'admin');
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const fhirUser = optionalStr(b['fhirUser'], 'fhirUser', 200);
    const password = optionalStr(b['password'], 'password', 1024);
    const role = str(b['role'], 'role', 32);
    if (caller.kind !== 'operator' && OPERATOR_ONLY_ROLES.includes(role)) {
      throw new CustodiaError('forbidden', `Accounts with the ${role} role are created by the operator (custodia user add), not through the API`);
    }
    const r = await this.identity.addUser({
      username: str(b['username'], 'username'),
      role,
      ...(fhirUser === undefined ? {} : { fhirUser }),
      ...(password === undefined ? {} : { password }),
    });
    await this.#record(caller, 'user.add', { username: r.user.username, role: r.user.role });
    return r.generatedPassword === undefined ? { user: r.user } : { user: r.user, generatedPassword: r.generatedPassword };
  }

  async disableUser(caller: Principal, username: string): Promise<unknown> {
    requireAdministrator(caller, 'admin');
    const u = await this.identity.disableUser(str(username, 'username'));
    await this.#record(caller, 'user.disable', { username: u.username });
    return u;
  }

  async resetMfa(caller: Principal, username: string): Promise<unknown> {
    requireAdministrator(caller, 'admin');
    const u = await this.identity.resetMfa(str(username, 'username'));
    await this.#record(caller, 'user.reset-mfa', { username: u.username });
    return u;
  }

  /**
   * Ends the bearer token an AuditEvent names (`agent.policy`, the id alone or as the BALP
   * URN; path text, attacker-controlled): a security officer who sees accesses they do not
   * trust stops the token at once, without the token in hand. Same list, same lifetime as
   * `custodia token revoke --jti` (token-revocation.ts): until the token expires. An id
   * this vault has no record of issuing is `token-unknown` (404); the CLI's `--unrecorded`
   * is the way for a token issued before issuance was recorded.
   */
  async revokeTokenId(caller: Principal, id: string): Promise<{ jti: string; revoked: true; revokedUntil: string } | { jti: string; revoked: false; expiredAt: string }> {
    requireAdministrator(caller, 'admin', 'privacy-officer');
    const jti = parseTokenId(id);
    const r = await revokeTokenIdOn({ revocations: this.revocations, log: this.log }, jti, this.clock.now(), actorOf(caller));
    const at = new Date(r.until).toISOString();
    return r.revoked ? { jti, revoked: true, revokedUntil: at } : { jti, revoked: false, expiredAt: at };
  }

  /** Sensitive-data clearances are a privacy decision: the privacy officer (or the operator) grants them. */
  async setClearances(caller: Principal, username: string, body: unknown): Promise<unknown> {
    requireAdministrator(caller, 'privacy-officer');
    const list = (typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['clearances'] : undefined) as unknown;
    if (!Array.isArray(list) || list.length > 32 || !list.every((c) => typeof c === 'string')) throw new CustodiaError('request-malformed', 'clearances must be a list of codes');
    const u = await this.identity.setClearances(str(username, 'username'), list, CLEARANCES);
    await this.#record(caller, 'user.clearances', { username: u.username, clearances: u.clearances.join(',') });
    return u;
  }

  /**
   * `POST /fhir/Patient/{id}/$erase`: crypto-shredding erasure (erasure-service.ts), for an
   * administrator or the privacy officer, with a reason. Legal holds and retention refuse it.
   */
  async erasePatient(caller: Principal, patientId: string, body: unknown): Promise<ErasureReport> {
    requireAdministrator(caller, 'admin', 'privacy-officer');
    const reason = reasonOf(body);
    if (this.keys.erasure === undefined) throw encryptionOff();
    return this.keys.erasure.erasePatient(patientId, caller.kind === 'operator' ? 'operator' : caller.subject, reason);
  }

  /** Legal holds are a privacy decision: the privacy officer (or the operator). */
  async placeHold(caller: Principal, patientId: string, body: unknown): Promise<LegalHold> {
    requireAdministrator(caller, 'privacy-officer');
    if (!isFhirId(patientId)) throw badPatientId();
    const hold: LegalHold = { patientId, reason: reasonOf(body), placedBy: caller.kind === 'operator' ? 'operator' : caller.subject, placedAt: this.clock.now() };
    await this.keys.holds.place(hold);
    await this.#record(caller, 'legal-hold.place', { patient: hold.patientId, reason: hold.reason });
    return hold;
  }

  async releaseHold(caller: Principal, patientId: string): Promise<{ released: boolean }> {
    requireAdministrator(caller, 'privacy-officer');
    if (!isFhirId(patientId)) throw badPatientId();
    const released = await this.keys.holds.release(patientId);
    if (released) await this.#record(caller, 'legal-hold.release', { patient: patientId });
    return { released };
  }

  async legalHolds(caller: Principal): Promise<LegalHold[]> {
    requireAdministrator(caller, 'admin', 'privacy-officer');
    return this.keys.holds.list();
  }

  /** Which keys protect how much data (`custodia keys status` over HTTP). */
  async keyStatus(caller: Principal): Promise<KeyStatus> {
    requireAdministrator(caller, 'admin');
    if (this.keys.keyRotation === undefined) throw encryptionOff();
    return this.keys.keyRotation.status();
  }
}
