/**
 * The audit trail on the FHIR API (issue 5 §5), served from the ledger, read-only:
 *
 * - `GET /fhir/AuditEvent?patient&date&_id&_count&_before`: search, newest first, paged by
 *   ledger index (audit-event-query.ts);
 * - `GET /fhir/AuditEvent/ledger-<index>`: read;
 * - `GET /fhir/Patient/{id}/$access-log?_since&_count&_after`: the events about one
 *   patient, oldest first, as a Bundle with a proof (access-log-proof.ts) that each event
 *   is in the signed log.
 *
 * The privacy officer and the operator read everything; a patient reads what is filed
 * under their own id, and an event that also names other patients only in part (their
 * part, no proof data); everyone else gets 403 (audit-trail-access.ts). A patient asking for
 * another patient's events gets what a read of that Patient gets: 404. Events whose
 * patient was erased cannot be opened: 410 for a read, counted and left out of lists.
 * Every answer, and every refusal (by the gateway), is itself on the audit trail.
 *
 * AuditEvents stored as ordinary resources (records of other systems, imported) keep
 * their own ids and are read, versioned and written as before; AuditEvent search and the
 * `ledger-` ids belong to the vault's own trail.
 */
import { CustodiaError, type Clock } from '../kernel/index.js';
import { MAX_ENTITIES, type AuditRecord } from '../ledger/index.js';
import { informationOutcome, isFhirId, type FhirInteraction, type FhirResult, type InteractionGuard } from '../fhir/index.js';
import type { Principal } from '../access/index.js';
import type { AuditTrail } from './audit-trail.js';
import type { LedgerService } from './ledger-service.js';
import { auditEventResource, isSharedWithOthers, ledgerEventId, parseLedgerEventId } from './audit-event-resource.js';
import { parseAccessLogQuery, parseAuditEventSearch, parseDisclosureQuery, type PageLimits } from './audit-event-query.js';
import { disclosureOf, disclosuresHtml, LOOK_BACK_MS, type Disclosure } from './disclosure-accounting.js';

/** An accounting lists at most this many disclosures (a longer period is asked for in parts). */
const MAX_DISCLOSURES = 10_000;
import { auditTrailScope, type AuditTrailScope } from './audit-trail-access.js';
import { isAuditKind, openAudit, scanAuditEvents, type ScannedEvent } from './audit-event-scan.js';
import { proofParameters, WITHHELD_ERASED, WITHHELD_SHARED, type ProofItem } from './access-log-proof.js';
import { scanPatientChain, type ChainItem } from './patient-chain-scan.js';
import { templateOf } from './fhir-audit.js';
import { ScanSlots } from './scan-slots.js';

type Json = Record<string, unknown>;

/** What the gateway passes along with the interaction. */
export interface AuditTrailRequest {
  readonly address?: string;
  /** Prefer: handling (R4 search.html §3.1.1.3.2): unknown parameters refused when strict. */
  readonly handling: 'strict' | 'lenient';
}

export interface AuditEventApiDeps {
  readonly ledger: LedgerService;
  readonly audit: AuditTrail;
  /** The interaction-level check (scopes ∩ role) of a principal. */
  readonly guardFor: (p: Principal) => InteractionGuard;
  readonly baseUrl: string;
  readonly limits: PageLimits;
  readonly clock: Clock;
  /** Charges an admitted request of `caller` for the audit events it opened (access/rate-limiter.ts `chargeWork`). */
  readonly chargeEvents?: (caller: Principal, events: number) => void;
}

/** Accountings of disclosures made at once in a process (scan-slots.ts). */
const ACCOUNTINGS_AT_ONCE = 2;

export class AuditEventApi {
  readonly #accountings = new ScanSlots(ACCOUNTINGS_AT_ONCE);

  constructor(private readonly deps: AuditEventApiDeps) {}

  /** Whether `i` is the audit trail's: AuditEvent search, anything on a `ledger-` id, `$access-log`. */
  handles(i: FhirInteraction): boolean {
    switch (i.kind) {
      case 'search':
        return i.types.length === 1 && i.types[0] === 'AuditEvent';
      case 'read':
      case 'vread':
      case 'update':
      case 'patch':
      case 'delete':
        return i.type === 'AuditEvent' && parseLedgerEventId(i.id) !== undefined;
      case 'history':
        return i.type === 'AuditEvent' && i.id !== undefined && parseLedgerEventId(i.id) !== undefined;
      case 'operation':
        return i.name === '$access-log' || i.name === '$disclosures';
      default:
        return false;
    }
  }

  /** Serves an interaction `handles` accepted, for an authenticated caller; a successful answer is audited before it returns. */
  async serve(i: FhirInteraction, caller: Principal, req: AuditTrailRequest): Promise<FhirResult> {
    switch (i.kind) {
      case 'search':
        return this.#search(i.params, caller, i, req);
      case 'read':
        return this.#read(i.id, caller, i, req);
      case 'operation':
        if (i.type !== 'Patient' || i.id === undefined) throw new CustodiaError('not-supported', `${i.name} is an operation on a Patient: GET /fhir/Patient/{id}/${i.name}`);
        return i.name === '$disclosures' ? this.#disclosures(i.id, i.params ?? [], caller, i, req) : this.#accessLog(i.id, i.params ?? [], caller, i, req);
      case 'vread':
      case 'history':
        throw new CustodiaError('not-supported', 'Audit events have one version: read them with GET /fhir/AuditEvent/{id}');
      default:
        throw new CustodiaError('method-not-allowed', 'The audit trail is read-only');
    }
  }

  async #search(params: ReadonlyArray<readonly [string, string]>, caller: Principal, i: FhirInteraction, req: AuditTrailRequest): Promise<FhirResult> {
    const scope = auditTrailScope(caller, this.deps.guardFor(caller));
    const q = parseAuditEventSearch(params, this.deps.baseUrl, this.deps.limits, req.handling);
    // A patient searches their own events; naming anyone else is refused outright (it depends only on who asks).
    if (scope.kind === 'patient' && q.patient !== undefined && q.patient !== scope.patient) throw new CustodiaError('forbidden', 'A patient may search only the audit events about themself');
    const patient = scope.kind === 'patient' ? scope.patient : q.patient;
    const forPatient = scope.kind === 'patient' ? scope.patient : undefined;
    // Filters see each event as this caller will (a patient's view hides other patients);
    // the entries of those that pass are kept for the page, not built again.
    const shown = new Map<number, { fullUrl: string; resource: Json }>();
    const accept = q.filters.length === 0 ? undefined : (e: ScannedEvent): boolean => {
      const entry = this.#entry(e, forPatient);
      if (!q.filters.every((f) => f(entry.resource))) return false;
      shown.set(e.index, entry);
      return true;
    };
    const page = await scanAuditEvents(this.deps.ledger.log, {
      ...(patient === undefined ? {} : { patient }),
      ...(q.indexes === undefined ? {} : { indexes: q.indexes }),
      ...(q.from === undefined ? {} : { from: q.from }),
      ...(q.to === undefined ? {} : { to: q.to }),
      ...(q.before === undefined ? {} : { cursor: q.before }),
      ...(accept === undefined ? {} : { accept }),
      order: 'desc',
      count: q.count,
    });
    this.deps.chargeEvents?.(caller, page.examined);
    const link = (extra: [string, string][]): string => `${this.deps.baseUrl}/AuditEvent?${new URLSearchParams([...q.used, ...extra] as [string, string][]).toString()}`;
    const issues = [
      ...(page.erased > 0 ? [`${page.erased} audit event(s) in this page's range are left out: their patient was erased, so they can no longer be read`] : []),
      ...q.ignored.map((name) => `The parameter ${name} is not supported and was ignored`),
    ];
    const bundle: Json = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [{ relation: 'self', url: link(q.before === undefined ? [] : [['_before', String(q.before)]]) }, ...(page.next === undefined ? [] : [{ relation: 'next', url: link([['_before', String(page.next)]]) }])],
      entry: [
        ...page.events.map((e) => ({ ...(shown.get(e.index) ?? this.#entry(e, forPatient)), search: { mode: 'match' } })),
        ...(issues.length === 0 ? [] : [{ resource: informationOutcome(issues.join('. ')), search: { mode: 'outcome' } }]),
      ],
    };
    await this.#recordDisclosure(caller, i, req, page.events, scope);
    return { status: 200, body: bundle };
  }

  async #read(id: string, caller: Principal, i: FhirInteraction, req: AuditTrailRequest): Promise<FhirResult> {
    const scope = auditTrailScope(caller, this.deps.guardFor(caller));
    const index = parseLedgerEventId(id)!;
    const log = this.deps.ledger.log;
    const notFound = (): CustodiaError => new CustodiaError('resource-not-found', `No AuditEvent/${id}`);
    // A patient sees only what is filed under them; anything else looks like nothing at all.
    if (scope.kind === 'patient' && (await log.auditIndexes({ patient: scope.patient, indexes: [index], order: 'asc', limit: 1 })).length === 0) throw notFound();
    const [leaf] = await log.leavesAt([index]);
    if (leaf === undefined || !isAuditKind(leaf.kind)) throw notFound();
    const event = openAudit(log, leaf);
    if (event === 'erased') throw new CustodiaError('resource-erased', `AuditEvent/${id} is about a patient who was erased: it can no longer be read`);
    const body = this.#entry(event, scope.kind === 'patient' ? scope.patient : undefined).resource;
    await this.#recordDisclosure(caller, i, req, [event], scope);
    return { status: 200, body, lastModified: event.record.at };
  }

  async #accessLog(patient: string, params: ReadonlyArray<readonly [string, string]>, caller: Principal, i: FhirInteraction, req: AuditTrailRequest): Promise<FhirResult> {
    const scope = auditTrailScope(caller, this.deps.guardFor(caller));
    if (!isFhirId(patient)) throw new CustodiaError('request-malformed', 'A patient id is 1–64 letters, digits, - or .');
    // Another patient's log is as invisible to a patient as that patient's record (GET Patient/{id} answers 404 too).
    if (scope.kind === 'patient' && scope.patient !== patient) throw new CustodiaError('resource-not-found', `No Patient/${patient}`);
    const q = parseAccessLogQuery(params, this.deps.limits, req.handling);
    const { ledger } = this.deps;
    // The checkpoint first (integrating what has been appended, if the sequencer has not
    // yet), then the chain below its size: every entry listed can be proven against it,
    // and the signed head says which entry is the patient's newest among its leaves.
    const checkpoint = await ledger.checkpointCovering(await ledger.log.appendedSize());
    const below = checkpoint.size;
    const run = await scanPatientChain(ledger.log, { patient, ...(q.since === undefined ? {} : { since: q.since }), ...(q.after === undefined ? {} : { after: q.after }), below, count: q.count });
    const head = ledger.signChainHead(patient, below, run.newest);
    const events = run.items.flatMap((item) => (item.event === undefined ? [] : [item.event]));
    const erased = run.items.length - events.length;
    const proven = [...(run.boundary === undefined ? [] : [run.boundary]), ...run.items];
    const paths = proven.length === 0 ? [] : await ledger.inclusionProofs(proven.map((p) => p.index), checkpoint.size);
    const forPatient = scope.kind === 'patient' ? patient : undefined;
    const withheld = (e: ScannedEvent): boolean => forPatient !== undefined && isSharedWithOthers(e.record, forPatient);
    const proofItem = (item: ChainItem, n: number): ProofItem => ({
      index: item.index,
      leafHash: item.leafHash,
      inclusionProof: paths[n]!,
      ...(item.event === undefined ? { withheld: WITHHELD_ERASED } : withheld(item.event) ? { withheld: WITHHELD_SHARED } : { data: item.event.bytes }),
    });
    const offset = run.boundary === undefined ? 0 : 1;
    const proof = proofParameters({
      patient,
      ...(q.since === undefined ? {} : { since: q.since }),
      checkpoint: checkpoint.note,
      head,
      verifierKey: ledger.verifierKey,
      erased,
      ...(q.after === undefined ? {} : { after: q.after }),
      ...(run.boundary === undefined ? {} : { boundary: proofItem(run.boundary, 0) }),
      items: run.items.map((item, n) => proofItem(item, n + offset)),
    });
    const self = `${this.deps.baseUrl}/Patient/${patient}/$access-log`;
    const link = (extra: [string, string][]): string => `${self}?${new URLSearchParams([...q.used, ...extra] as [string, string][]).toString()}`;
    const shared = events.filter(withheld).length;
    const bundle: Json = {
      resourceType: 'Bundle',
      type: 'collection',
      timestamp: new Date(this.deps.clock.now()).toISOString(),
      link: [{ relation: 'self', url: link(q.after === undefined ? [] : [['_after', String(q.after)]]) }, ...(run.next === undefined ? [] : [{ relation: 'next', url: link([['_after', String(run.next)]]) }])],
      entry: [
        ...events.map((e) => this.#entry(e, forPatient)),
        { resource: proof },
        { resource: informationOutcome(accessLogNotes(events.length, erased, shared, checkpoint.size, q.ignored)) },
      ],
    };
    await this.#recordDisclosure(caller, i, req, events, scope, patient);
    return { status: 200, body: bundle };
  }

  /**
   * HIPAA accounting of disclosures (45 CFR 164.528; disclosure-accounting.ts): the
   * disclosures of the patient's data in [start, end] (at most six years back), as their
   * AuditEvents, with the same page in readable form as an HTML Binary. Who may ask: the
   * patient themself and the privacy officer, as for `$access-log`.
   */
  async #disclosures(patient: string, params: ReadonlyArray<readonly [string, string]>, caller: Principal, i: FhirInteraction, req: AuditTrailRequest): Promise<FhirResult> {
    const scope = auditTrailScope(caller, this.deps.guardFor(caller));
    if (!isFhirId(patient)) throw new CustodiaError('request-malformed', 'A patient id is 1–64 letters, digits, - or .');
    if (scope.kind === 'patient' && scope.patient !== patient) throw new CustodiaError('resource-not-found', `No Patient/${patient}`);
    const now = this.deps.clock.now();
    const q = parseDisclosureQuery(params, now, LOOK_BACK_MS, req.handling);
    const found: { event: ScannedEvent; disclosure: Disclosure }[] = [];
    let erased = 0;
    let examined = 0;
    // Every event about the patient in the period, oldest first (bounded: an accounting is not paged), one slot per caller.
    const key = `${caller.kind}:${caller.subject}`;
    await this.#accountings.run(key, async () => {
      try {
        for (let cursor: number | undefined; ; ) {
          const page = await scanAuditEvents(this.deps.ledger.log, { patient, from: q.start, to: q.end, order: 'asc', count: 1000, ...(cursor === undefined ? {} : { cursor }) });
          erased += page.erased;
          examined += page.examined;
          for (const event of page.events) {
            const disclosure = disclosureOf(event.index, event.record, patient);
            if (disclosure !== null) found.push({ event, disclosure });
          }
          if (page.next === undefined || found.length >= MAX_DISCLOSURES) break;
          cursor = page.next;
        }
      } finally {
        this.deps.chargeEvents?.(caller, examined);
      }
    });
    const forPatient = scope.kind === 'patient' ? patient : undefined;
    const html = disclosuresHtml(patient, q.start, q.end, found.map((f) => f.disclosure));
    const notes = [
      `Accounting of disclosures for Patient/${patient} from ${new Date(q.start).toISOString()} to ${new Date(q.end).toISOString()} (45 CFR 164.528): ${found.length} disclosure(s). Disclosures for treatment, payment and health-care operations, and to the patient, are not listed.`,
      ...(erased > 0 ? [`${erased} audit event(s) in the period can no longer be read (their patient was erased).`] : []),
      ...(found.length >= MAX_DISCLOSURES ? [`Only the first ${MAX_DISCLOSURES} are listed: ask for a shorter period.`] : []),
      ...q.ignored.map((name) => `The parameter ${name} is not supported and was ignored`),
    ];
    const bundle: Json = {
      resourceType: 'Bundle',
      type: 'collection',
      timestamp: new Date(now).toISOString(),
      entry: [
        ...found.map((f) => this.#entry(f.event, forPatient)),
        { resource: { resourceType: 'Binary', id: 'disclosures-html', contentType: 'text/html', data: Buffer.from(html, 'utf8').toString('base64') } },
        { resource: informationOutcome(notes.join(' ')) },
      ],
    };
    await this.#recordDisclosure(caller, i, req, found.map((f) => f.event), scope, patient);
    return { status: 200, body: bundle };
  }

  /** A Bundle entry of an event read from the ledger, as `forPatient` (if given) may see it; an account refers to its full event. */
  #entry(e: ScannedEvent, forPatient: string | undefined): { fullUrl: string; resource: Json } {
    const view = { origin: this.deps.ledger.origin, ...(forPatient === undefined ? {} : { forPatient }), ...(e.of === undefined ? {} : { accountOf: e.of }) };
    return { fullUrl: `${this.deps.baseUrl}/AuditEvent/${ledgerEventId(e.index)}`, resource: auditEventResource(e.index, e.record, view) };
  }

  /** The read of the audit trail, on the audit trail: who read which events about which patients. */
  async #recordDisclosure(caller: Principal, i: FhirInteraction, req: AuditTrailRequest, events: readonly ScannedEvent[], scope: AuditTrailScope, about?: string): Promise<void> {
    const patients = new Set<string>(about === undefined ? [] : [about]);
    for (const e of events) for (const p of scope.kind === 'patient' ? [scope.patient] : e.record.patients) patients.add(p);
    const template = templateOf(i, caller, req.address, undefined);
    const record: AuditRecord = {
      ...template,
      at: this.deps.audit.clock.now(),
      action: i.kind === 'operation' ? 'E' : 'R',
      outcome: '0',
      patients: [...patients].sort().slice(0, MAX_ENTITIES),
      entities: events.slice(0, MAX_ENTITIES).map((e) => `AuditEvent/${ledgerEventId(e.index)}`),
      ...(events.length > MAX_ENTITIES ? { entitiesTruncated: true } : {}),
    };
    await this.deps.audit.record([record]);
  }
}

/** What the patient can and cannot conclude from the Bundle (docs/operations.md § Access log proofs). */
function accessLogNotes(shown: number, erased: number, shared: number, size: number, ignored: readonly string[]): string {
  return [
    `${shown} audit event(s) with a proof of inclusion in the signed ledger checkpoint of ${size} entries.`,
    ...(shared > 0 ? [`${shared} of them also name other patients (as subjects, or as who acted): only your part is shown, and the proof covers the entry's hash, not its content.`] : []),
    ...(erased > 0 ? [`${erased} event(s) are left out: their patient was erased, so they can no longer be read.`] : []),
    'The proofs show that each event shown is in the log as signed, and the events form an unbroken run of your chain (each names the one before it about you), so none between the first and the last was left out. The log also signs which event about you is the newest up to this checkpoint (the head): keep this file, and a later access log can be checked against it (custodia ledger verify-proof --earlier).',
    ...ignored.map((name) => `The parameter ${name} is not supported and was ignored.`),
  ].join(' ');
}
