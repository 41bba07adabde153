/**
 * Break-the-glass (HL7 v3 PurposeOfUse BTG): a clinician denied by consent or labels
 * claims an emergency with a free-text reason and gets time-limited access to that one
 * patient's record (60 minutes by default). Every session is recorded and waits on a
 * review queue for a privacy officer's disposition. It never overrides an administrative
 * deny: a disabled account, a missing scope, a role without the permission, or a
 * compartment bound.
 *
 * Opening a session is a security event (security-events.ts): its record — with the
 * reason, which only the sealed ledger entry holds besides the session itself — is
 * durable before the session exists; when it cannot be written no session is opened and
 * the request fails (`audit-unavailable`).
 */
import { CustodiaError, uuidV4, type Random } from '../kernel/index.js';
import type { Principal } from './principal.js';
import { eventUser, type SecurityEventSink } from './security-events.js';

export type ReviewStatus = 'pending' | 'justified' | 'unjustified';

export interface BreakGlassSession {
  readonly id: string;
  readonly userId: string;
  readonly patientId: string;
  readonly reason: string;
  readonly purposeOfUse: 'BTG';
  readonly startedAt: number;
  readonly expiresAt: number;
  readonly review: ReviewStatus;
  readonly reviewer?: string;
  readonly reviewNote?: string;
  readonly reviewedAt?: number;
}

/** Where sessions are kept (the vault's database). */
export interface BreakGlassStore {
  /** Sessions of `userId` still running at `now`. */
  active(userId: string, now: number): Promise<BreakGlassSession[]>;
  insert(session: BreakGlassSession): Promise<void>;
  list(filter: { review?: ReviewStatus }, limit: number): Promise<BreakGlassSession[]>;
  get(id: string): Promise<BreakGlassSession | undefined>;
  /** Records a privacy officer's disposition; false when the session is unknown or already reviewed. */
  review(id: string, status: Exclude<ReviewStatus, 'pending'>, reviewer: string, note: string, at: number): Promise<boolean>;
}

/** Who may break the glass: people who treat patients. */
const MAY_BREAK_GLASS = new Set(['clinician', 'nurse']);

export const DEFAULT_BREAK_GLASS_MINUTES = 60;
const MAX_REASON = 2000;

export interface BreakGlassClaim {
  readonly patientId: string;
  readonly reason: string;
}

/**
 * Validates a break-the-glass claim (from the token or from request headers — both
 * attacker-controlled text until checked here).
 */
export function checkClaim(p: Principal, claim: { patientId?: string | undefined; reason?: string | undefined }): BreakGlassClaim {
  if (p.kind !== 'user' || p.role === undefined || !MAY_BREAK_GLASS.has(p.role)) {
    throw new CustodiaError('forbidden', 'Only clinicians and nurses can break the glass');
  }
  const reason = (claim.reason ?? '').trim();
  if (reason.length < 10 || reason.length > MAX_REASON) {
    throw new CustodiaError('request-malformed', `Break-the-glass needs a reason of 10 to ${MAX_REASON} characters`);
  }
  const patientId = claim.patientId ?? '';
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(patientId)) throw new CustodiaError('request-malformed', 'Break-the-glass needs the patient it is for');
  return { patientId, reason };
}

export class BreakGlassService {
  constructor(
    private readonly store: BreakGlassStore,
    private readonly random: Random,
    /** Where the opening of a session is recorded (the audit ledger). */
    private readonly events: SecurityEventSink,
    private readonly minutes: number = DEFAULT_BREAK_GLASS_MINUTES,
  ) {}

  /**
   * Starts a session for the claim unless one is already running for that user and
   * patient; `address` is the requester's network address, for the record.
   */
  async open(p: Principal, claim: BreakGlassClaim, now: number, address?: string): Promise<{ session: BreakGlassSession; created: boolean }> {
    const running = (await this.store.active(p.subject, now)).find((s) => s.patientId === claim.patientId);
    if (running !== undefined) return { session: running, created: false };
    const session: BreakGlassSession = {
      id: uuidV4(this.random),
      userId: p.subject,
      patientId: claim.patientId,
      reason: claim.reason,
      purposeOfUse: 'BTG',
      startedAt: now,
      expiresAt: now + this.minutes * 60_000,
      review: 'pending',
    };
    await this.events.record({
      kind: 'break-glass-opened',
      user: eventUser({ id: p.subject, role: p.role, fhirUser: p.fhirUser }),
      ...(p.clientId === undefined ? {} : { client: p.clientId }),
      patient: session.patientId,
      reason: session.reason,
      session: session.id,
      expiresAt: session.expiresAt,
      ...(address === undefined ? {} : { address }),
    });
    await this.store.insert(session);
    return { session, created: true };
  }

  /** The patients whose records this user currently has broken the glass for. */
  async activePatients(userId: string, now: number): Promise<string[]> {
    return [...new Set((await this.store.active(userId, now)).map((s) => s.patientId))].sort();
  }

  pending(limit = 100): Promise<BreakGlassSession[]> {
    return this.store.list({ review: 'pending' }, limit);
  }

  list(limit = 100): Promise<BreakGlassSession[]> {
    return this.store.list({}, limit);
  }

  async review(id: string, status: 'justified' | 'unjustified', reviewer: Principal, note: string, now: number): Promise<BreakGlassSession> {
    if (reviewer.kind !== 'operator' && reviewer.role !== 'privacy-officer') throw new CustodiaError('forbidden', 'Only a privacy officer reviews break-the-glass sessions');
    if (note.length > MAX_REASON) throw new CustodiaError('request-malformed', 'The review note is too long');
    if (!(await this.store.review(id, status, reviewer.subject, note, now))) {
      throw new CustodiaError('resource-not-found', 'No pending break-the-glass session with that id');
    }
    const s = await this.store.get(id);
    if (s === undefined) throw new CustodiaError('internal', 'A reviewed session vanished');
    return s;
  }
}
