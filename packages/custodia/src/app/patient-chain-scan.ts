/**
 * Reads one patient's chain (ledger/patient-chain.ts) for `$access-log`: a contiguous run
 * of the entries filed under the patient, oldest first, from the first event recorded at
 * or after `since` (or after the cursor), with nothing skipped once it has started — an
 * entry whose patient key was destroyed is listed as unreadable, not left out, so that
 * the links still join up. Plus the boundary: the chain entry just before the run, which
 * shows where the run starts.
 */
import { isCustodiaError } from '../kernel/index.js';
import type { LedgerLog, StoredLeaf } from '../store/index.js';
import { isAuditKind, openAudit, type ScannedEvent } from './audit-event-scan.js';

/** Candidates read per query. */
const BATCH = 256;

/** One entry of the chain: opened, or only its leaf (its key was destroyed). */
export interface ChainItem {
  readonly index: number;
  readonly leafHash: Buffer;
  /** Undefined when the entry can no longer be read (erased). */
  readonly event?: ScannedEvent;
}

export interface ChainRun {
  readonly items: readonly ChainItem[];
  /** The chain entry before the first item (or the patient's newest entry, when there is no item); absent when the chain starts with the first item, or a cursor was given. */
  readonly boundary?: ChainItem;
  /** The cursor of the next page, when there is one. */
  readonly next?: number;
  /** The patient's newest chain entry (below `below`; null: none): the head the log signs. */
  readonly newest: number | null;
}

export interface ChainRequest {
  readonly patient: string;
  /** Epoch ms: the run starts at the first event recorded at or after it. */
  readonly since?: number;
  /** The index the previous page ended at (exclusive). */
  readonly after?: number;
  /** Only entries below this index (a checkpoint's size: what its proofs can cover). */
  readonly below?: number;
  readonly count: number;
}

function itemOf(log: LedgerLog, leaf: StoredLeaf): ChainItem {
  const opened = openAudit(log, leaf);
  return opened === 'erased' ? { index: leaf.idx, leafHash: leaf.leafHash } : { index: leaf.idx, leafHash: leaf.leafHash, event: opened };
}

async function itemAt(log: LedgerLog, index: number): Promise<ChainItem | undefined> {
  const [leaf] = await log.leavesAt([index]);
  if (leaf === undefined || !isAuditKind(leaf.kind)) return undefined;
  try {
    return itemOf(log, leaf);
  } catch (e) {
    // A malformed stored entry: the run stops short of it; `custodia ledger verify` names it.
    if (isCustodiaError(e, 'ledger-invalid')) return undefined;
    throw e;
  }
}

/**
 * One page of a patient's chain.
 *
 * @example
 *   const run = await scanPatientChain(log, { patient: 'p1', since: Date.parse('2026-01-01'), count: 100 });
 */
export async function scanPatientChain(log: LedgerLog, q: ChainRequest): Promise<ChainRun> {
  const items: ChainItem[] = [];
  let started = q.after !== undefined || q.since === undefined;
  let cursor = q.after;
  for (;;) {
    const candidates = await log.auditIndexes({
      patient: q.patient,
      ...(cursor === undefined ? {} : { above: cursor }),
      ...(q.below === undefined ? {} : { below: q.below }),
      // Appended no earlier than recorded: nothing at or after `since` was appended before it.
      ...(started || q.since === undefined ? {} : { appendedFrom: q.since }),
      order: 'asc',
      limit: BATCH,
    });
    if (candidates.length === 0) break;
    const leaves = new Map((await log.leavesAt(candidates)).map((l) => [l.idx, l]));
    for (const index of candidates) {
      cursor = index;
      const leaf = leaves.get(index);
      if (leaf === undefined || !isAuditKind(leaf.kind)) continue;
      const item = itemOf(log, leaf);
      if (!started) {
        // Before the run: an unreadable entry's time is unknown, and it is not the start.
        if (item.event === undefined || item.event.record.at < q.since!) continue;
        started = true;
      }
      if (items.length === q.count) return { items, ...(await boundaryOf(log, q, items)), next: items[items.length - 1]!.index, newest: (await newestOf(log, q)) ?? null };
      items.push(item);
    }
    if (candidates.length < BATCH) break;
  }
  // The scan ran to the chain's end, so its last entry is the newest. With none listed, the newest is the boundary (unless paged by `after`).
  if (items.length > 0) return { items, ...(await boundaryOf(log, q, items)), newest: items[items.length - 1]!.index };
  const newest = (await newestOf(log, q)) ?? null;
  const boundary = newest === null || q.after !== undefined ? undefined : await itemAt(log, newest);
  return { items, ...(boundary === undefined ? {} : { boundary }), newest };
}

/** The patient's newest chain entry below `below`. */
async function newestOf(log: LedgerLog, q: ChainRequest): Promise<number | undefined> {
  return (await log.auditIndexes({ patient: q.patient, ...(q.below === undefined ? {} : { below: q.below }), order: 'desc', limit: 1 }))[0];
}

/** The boundary of a run with items: the chain entry its first one links to (none when paged by `after`). */
async function boundaryOf(log: LedgerLog, q: ChainRequest, items: readonly ChainItem[]): Promise<{ boundary?: ChainItem }> {
  const prev = q.after === undefined ? items[0]!.event?.link?.prev : undefined;
  if (prev === undefined || prev === null) return {};
  const boundary = await itemAt(log, prev);
  return boundary === undefined ? {} : { boundary };
}
