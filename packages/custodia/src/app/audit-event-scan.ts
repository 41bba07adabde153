/**
 * Reads audit events out of the ledger a page at a time, in index order (newest or oldest
 * first): candidate indexes come from SQL (`audit_patients` for one patient, else every
 * audit leaf), each entry is opened and decoded, and the exact filters are applied to the
 * decoded record. Entries whose key was destroyed by an erasure cannot be opened: they
 * are counted, never returned.
 *
 * Time bounds are on AuditEvent.recorded (the record's `at`). The SQL pre-filter uses the
 * time the entry was appended, which is never earlier than `at` (both from the vault's
 * monotonic clock, the record made first) and in practice at most a transaction later:
 * the upper bound is widened by {@link APPEND_SLACK_MS} and then applied exactly.
 */
import { CustodiaError, GiveWay, isCustodiaError } from '../kernel/index.js';
import { chainLinkOf, decodeEntry, type AuditRecord, type ChainLink } from '../ledger/index.js';
import type { LedgerLog, StoredLeaf } from '../store/index.js';

/** How much later than its record's `at` an entry may have been appended, for the SQL pre-filter. */
export const APPEND_SLACK_MS = 10 * 60_000;
/** Candidates read per query. */
const BATCH = 256;

/**
 * A scan gives the event loop away after each millisecond of opening entries (about 60),
 * kernel/give-way.ts. After each batch of 256 (about 4 ms) instead, a read still waited
 * 14 ms at the median beside one accounting (2026-12-01).
 */
const SLICE_MS = 1;
/** At most this many entries are examined per page; a page may then end early, with a next link. */
const MAX_EXAMINED = 20_000;

export interface ScanRequest {
  /** Only entries filed under this patient (`audit_patients`). */
  readonly patient?: string;
  readonly indexes?: readonly number[];
  readonly from?: number;
  readonly to?: number;
  readonly order: 'asc' | 'desc';
  /** Exclusive: below it (desc) or above it (asc). */
  readonly cursor?: number;
  readonly count: number;
  /** A further test of each event within the time bounds (AuditEvent search filters). */
  readonly accept?: (e: ScannedEvent) => boolean;
}

export interface ScannedEvent {
  readonly index: number;
  readonly leafHash: Buffer;
  /** The entry's bytes (the leaf data). */
  readonly bytes: Buffer;
  readonly record: AuditRecord;
  /** Its link in its patient's chain (ledger/patient-chain.ts), when it has one. */
  readonly link?: ChainLink;
  /** For one patient's account of an event naming several: the full event's index. */
  readonly of?: number;
}

/** Leaf kinds that hold an audit event: the event itself, or one patient's account of it. */
export const isAuditKind = (kind: string): boolean => kind === 'audit' || kind === 'access';

export interface ScanPage {
  readonly events: readonly ScannedEvent[];
  /** Entries in this page's range that match the index filters but could not be read: their patient was erased. */
  readonly erased: number;
  /** The cursor of the next page, when there may be one. */
  readonly next?: number;
  /** Entries opened to make this page (its cost: the caller is charged for it). */
  readonly examined: number;
}

/**
 * One page of audit events.
 *
 * @example
 *   const page = await scanAuditEvents(log, { patient: 'p1', order: 'desc', count: 20 });
 */
export async function scanAuditEvents(log: LedgerLog, q: ScanRequest): Promise<ScanPage> {
  const events: ScannedEvent[] = [];
  let erased = 0;
  let erasedSinceLast = 0;
  let cursor = q.cursor;
  let examined = 0;
  const turns = new GiveWay(SLICE_MS);
  for (;;) {
    const candidates = await log.auditIndexes({
      ...(q.patient === undefined ? {} : { patient: q.patient }),
      ...(q.indexes === undefined ? {} : { indexes: q.indexes }),
      ...(cursor === undefined ? {} : q.order === 'desc' ? { below: cursor } : { above: cursor }),
      ...(q.from === undefined ? {} : { appendedFrom: q.from }),
      ...(q.to === undefined ? {} : { appendedTo: q.to + APPEND_SLACK_MS }),
      order: q.order,
      limit: BATCH,
    });
    if (candidates.length === 0) break;
    const leaves = new Map((await log.leavesAt(candidates)).map((l) => [l.idx, l]));
    for (const index of candidates) {
      const leaf = leaves.get(index);
      if (leaf === undefined || !isAuditKind(leaf.kind)) continue;
      const opened = openAudit(log, leaf);
      if (opened === 'erased') {
        erasedSinceLast++;
      } else if ((q.from === undefined || opened.record.at >= q.from) && (q.to === undefined || opened.record.at <= q.to) && (q.accept === undefined || q.accept(opened))) {
        if (events.length === q.count) {
          // One more than the page holds: there is a next page, from the last event shown.
          return { events, erased, next: events[events.length - 1]!.index, examined };
        }
        events.push(opened);
        erased += erasedSinceLast;
        erasedSinceLast = 0;
      }
      cursor = index;
      if (++examined >= MAX_EXAMINED) return { events, erased: erased + erasedSinceLast, next: index, examined };
      await turns.ifDue();
    }
    if (candidates.length < BATCH) break;
  }
  return { events, erased: erased + erasedSinceLast, examined };
}

/**
 * An audit leaf opened and decoded, or `erased` when its data key was destroyed. Leaf
 * data from storage is checked like any other input (decodeEntry).
 */
export function openAudit(log: LedgerLog, leaf: StoredLeaf): ScannedEvent | 'erased' {
  let bytes: Buffer;
  try {
    bytes = log.openLeaf(leaf);
  } catch (e) {
    if (isCustodiaError(e, 'resource-erased')) return 'erased';
    throw e;
  }
  const entry = decodeEntry(bytes);
  if ((entry.kind !== 'audit' && entry.kind !== 'access') || entry.kind !== leaf.kind) throw new CustodiaError('ledger-invalid', `Ledger entry ${leaf.idx} is filed as an audit event but is not one`);
  const link = chainLinkOf(entry);
  return { index: leaf.idx, leafHash: leaf.leafHash, bytes, record: entry.event, ...(link === undefined ? {} : { link }), ...(entry.kind === 'access' ? { of: entry.of } : {}) };
}
