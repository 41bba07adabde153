/**
 * Patient chains: what makes a patient's access log provably complete (issue 5 §5).
 *
 * An inclusion proof shows that an event is in the log; it cannot show that no event was
 * left out of the list a patient is given. So every entry about a patient carries a link
 * to the previous one about the same patient, and the links are part of the leaf data,
 * fixed by the Merkle tree and the signed, witnessed checkpoints:
 *
 *   - an audit event about exactly one patient carries `prev`: the ledger index of the
 *     previous entry of that patient's chain, or null for the first;
 *   - an audit event about several patients is stored once, in full, sealed under the
 *     tenant's key (it names them all), and followed by one `access` entry per patient:
 *     the event as that patient may see it ({@link patientAccount}), `of` the full entry,
 *     with that patient's `prev`.
 *
 * A patient's chain is then every `audit` entry about them alone and every `access` entry
 * for them, each linking to the one before. A list of entries whose links join up from
 * its newest back to an entry before the period (or to null, the first ever) misses
 * nothing in between: omitting an entry would leave a link pointing at it. The links are
 * assigned under the ledger's write lock, one writer at a time, so each is the index of
 * the patient's newest entry when it was appended; `custodia ledger verify` checks that
 * every link in the whole log is exactly that (no fork, no skip).
 *
 * What a chain cannot show by itself is that its newest entry is the patient's newest:
 * entries after it can be left off the end. A later access log shows them (their links
 * lead back through the earlier list), and the operator's full verify sees every chain.
 */
import type { AuditRecord } from './audit-record.js';
import type { LedgerEntry } from './ledger-entry.js';

/** One link of a patient's chain. */
export interface ChainLink {
  readonly patient: string;
  /** Index of the previous entry of the chain; null for the first. */
  readonly prev: number | null;
}

/**
 * The event as one of its patients may see it: them alone as subject, and neither the
 * query (it may name the others) nor what was touched beyond their own Patient resource
 * (ids may be meaningful). The full event stays in the log for the privacy officer; the
 * account refers to it by index.
 */
export function patientAccount(record: AuditRecord, patient: string): AuditRecord {
  const own = (e: string): boolean => e === `Patient/${patient}` || e.startsWith(`Patient/${patient}/`);
  // Whether the full event's list was truncated says nothing about this patient's part: the flag is not carried over.
  const { query: _query, entitiesTruncated: _truncated, ...rest } = record;
  return { ...rest, patients: [patient], entities: record.entities.filter(own) };
}

/** The chain link an entry carries: on an audit event about one patient (when recorded), and on an access entry. */
export function chainLinkOf(entry: LedgerEntry): ChainLink | undefined {
  if (entry.kind === 'access') return { patient: entry.event.patients[0]!, prev: entry.prev };
  if (entry.kind === 'audit' && entry.prev !== undefined) return { patient: entry.event.patients[0]!, prev: entry.prev };
  return undefined;
}

/** The patients whose chains an audit event extends: itself for one patient; an access entry each for several. */
export const chainedPatients = (record: AuditRecord): readonly string[] => [...new Set(record.patients)];
