/**
 * The rows one ledger append adds (migration 0016): a `ledger_leaves` row per entry and an
 * `audit_patients` row per patient an audit event is about. Built in one place for both
 * ways entries are appended: in a write's own transaction (ledger-log.ts) and by the
 * audit writer thread (ledger-append-thread.ts).
 */
import { blindIndex } from '../crypto/index.js';
import { CustodiaError, type Random } from '../kernel/index.js';
import { chainedPatients, encodeEntry, hashLeaf, isAuditRecord, patientAccount, SALT_BYTES, type AuditRecord, type LedgerEntry } from '../ledger/index.js';
import type { BulkTable } from './bulk-insert.js';
import type { SealedContent } from './at-rest.js';
import { TENANT_OWNER } from './key-store.js';
import type { SqlDialect } from './schema.js';
import type { StoredDigest } from './stored-digest.js';

export const LEAVES: BulkTable = {
  table: 'ledger_leaves',
  columns: [
    ['idx', 'int'],
    ['leaf_hash', 'hexblob'],
    ['kind', 'text'],
    ['entry', 'hexblob'],
    ['key_id', 'text'],
    ['ref', 'text'],
    ['at', 'int'],
  ],
};
export const AUDIT_PATIENTS: BulkTable = { table: 'audit_patients', columns: [['patient', 'text'], ['idx', 'int'], ['at', 'int']] };
/** The tail of recent filings, in index order (migration 0024), merged into `audit_patients` in bulk. */
export const AUDIT_FILINGS: BulkTable = { table: 'audit_filings', columns: [['patient', 'text'], ['idx', 'int'], ['at', 'int']] };

/**
 * Ledger entries the tail spans before the append that reaches it merges it: at most this
 * many rows move in one transaction (a few milliseconds under the write lock), and a page
 * of `audit_patients` is written once for every row it gets in that span.
 */
export const FILING_MERGE_SPAN = 4096;
/** The last index the last merge covered (-1: none yet). */
export const MERGED_THROUGH_SQL = 'SELECT through FROM audit_filing_merges';
/** The tail after an index, in index order, as [filed name, index] (the writer thread's catching up: filing-tail.ts). */
export const TAIL_AFTER_SQL = 'SELECT patient, idx FROM audit_filings WHERE idx > ? ORDER BY idx';
/** The newest tail row of one filed name (a scan of the tail, which stays short). */
export const TAIL_HEAD_SQL = 'SELECT MAX(idx) FROM audit_filings WHERE patient = ?';
/** A statement of a fixed text and its bound parameters (SQLite's `?`). */
export type BoundStatement = readonly [sqlText: string, params: readonly unknown[]];
/**
 * The merge an append whose last entry is `last` makes, the tail last merged through
 * `through`: none before the tail spans FILING_MERGE_SPAN entries; then, in the append's
 * transaction, the whole tail into `audit_patients` in key order, the tail emptied, and
 * `last` as the index merged through. SQLite only (PostgreSQL has no tail).
 */
export function filingMerge(through: number, last: number): readonly BoundStatement[] {
  if (last - through < FILING_MERGE_SPAN) return [];
  return [
    ['INSERT INTO audit_patients (patient, idx, at) SELECT patient, idx, at FROM audit_filings ORDER BY patient, idx', []],
    ['DELETE FROM audit_filings', []],
    ['UPDATE audit_filing_merges SET through = ?', [last]],
  ];
}

/**
 * The name a patient's entries are filed under in `audit_patients`. The entries are
 * sealed, but the index beside them would otherwise tell anyone who reads the database
 * (a backup, an administrator) whose record was looked at, and when — the access
 * pattern the sealing hides. In a sealed vault the name is `b:` + the patient id's blind
 * index (crypto/blind-index.ts, under the vault's index key, in a domain of its own): equal
 * for the same patient, so a chain's entries are still found together, and not computable
 * without the key. A FHIR id has no `:`, so a filed name never reads as an id. In a clear
 * vault it is the id.
 */
export type PatientFiling = (patient: string) => string;
export const CLEAR_FILING: PatientFiling = (patient) => patient;
/** What starts a blind filed name. */
const BLIND_FILED = 'b:';
/** The first name past every blind one, in byte order (`;` follows `:`). */
const BLIND_FILED_END = 'b;';
/**
 * The names still filed under a clear id (to re-file, ledger-log.ts `refileClearPatients`):
 * every name outside the blind range [`b:`, `b;`) in byte order, as two range seeks on the
 * `(patient, idx)` primary key — so a vault with nothing to re-file pays nothing as it
 * opens. The key is in byte order on both databases: SQLite compares TEXT as BINARY, and
 * on PostgreSQL the column is `COLLATE "C"` (migration 0016) whatever the database's own
 * collation. The query says `COLLATE "C"` there too, so that the answer stays right even
 * on a column that is not (a scan then, which test/store/patient-chain.test.ts would
 * catch). The bounds are this file's constants, written in as literals: no input.
 */
export function clearFiledSql(dialect: SqlDialect): string {
  const bytes = dialect === 'postgres' ? ' COLLATE "C"' : '';
  return (
    `SELECT DISTINCT patient FROM audit_patients WHERE patient${bytes} < '${BLIND_FILED}'` +
    ` UNION SELECT DISTINCT patient FROM audit_patients WHERE patient${bytes} >= '${BLIND_FILED_END}'`
  );
}

/** The same in the tail (migration 0024), which is short: one pass over it. */
export function clearTailSql(dialect: SqlDialect): string {
  const bytes = dialect === 'postgres' ? ' COLLATE "C"' : '';
  return `SELECT DISTINCT patient FROM audit_filings WHERE patient${bytes} < '${BLIND_FILED}' OR patient${bytes} >= '${BLIND_FILED_END}'`;
}
/** The blind-index domain of filed names (not a search parameter: search parameter names have no `:`). */
const FILING_DOMAIN = 'ledger:patient';
/** Filed names remembered per filing (each a keyed hash to compute). */
const FILING_MEMO = 4096;

/** The blind filing under `indexKey`. */
export function blindFiling(indexKey: Uint8Array): PatientFiling {
  const memo = new Map<string, string>();
  return (patient) => {
    let name = memo.get(patient);
    if (name === undefined) {
      name = BLIND_FILED + blindIndex(indexKey, FILING_DOMAIN, patient);
      if (memo.size >= FILING_MEMO) memo.clear();
      memo.set(patient, name);
    }
    return name;
  };
}

const patientOwner = (patient: string): string => `Patient/${patient}`;

/** Every key owner the entries of `record` may be sealed for: its patients (their own entry or account, unreadable once they are erased), and the tenant. */
export const auditOwners = (record: AuditRecord): string[] => [...chainedPatients(record).map(patientOwner), TENANT_OWNER];

/**
 * The newest entry of each patient's chain as stored (`MAX(idx)` in `audit_patients`),
 * for those that have one; read under the write lock, as the indexes are taken.
 */
export type ChainHeads = (patients: readonly string[]) => ReadonlyMap<string, number>;

/** The newest chain entry of one patient, by filed name (SQLite: a seek on the `(patient, idx)` primary key). */
export const CHAIN_HEAD_SQL = 'SELECT MAX(idx) FROM audit_patients WHERE patient = ?';

/** {@link ChainHeads} from a one-patient lookup ({@link CHAIN_HEAD_SQL}'s single value) by filed name. */
export function chainHeads(patients: readonly string[], file: PatientFiling, headOf: (filed: string) => unknown): Map<string, number> {
  const heads = new Map<string, number>();
  for (const p of patients) {
    const n = headOf(file(p));
    if (n !== null && n !== undefined) heads.set(p, Number(n));
  }
  return heads;
}

/** The `ref` of a version commitment: the version it is about. */
export const versionRef = (type: string, id: string, versionId: number): string => `${type}/${id}/_history/${versionId}`;

/** The AAD subject of a sealed entry: its leaf index (so a sealed entry cannot be moved to another leaf). */
export const aadSubject = (idx: number): string => `leaf-${idx}`;

/** What one append adds, in this order: version commitments, re-seal commitments, erasures, audit events. */
export interface LedgerItems {
  readonly versions?: readonly StoredDigest[];
  readonly reseals?: readonly StoredDigest[];
  readonly erasures?: readonly { readonly patient: string; readonly keyIds: readonly string[] }[];
  readonly audits?: readonly AuditRecord[];
}

/** How audit entries are sealed: AtRest in the vault; the data keys the vault handed over in the writer thread. */
export interface EntrySealer {
  /** Whether `owner` has a data key now (never creates one). */
  hasLiveKey(owner: string): boolean;
  sealFor(owner: string, purpose: string, subject: string, plaintext: Buffer): SealedContent;
}

export interface LedgerRow {
  readonly leafHash: Buffer;
  readonly kind: string;
  readonly stored: Buffer;
  readonly keyId: string | null;
  readonly ref: string | null;
  readonly patients: readonly string[];
}

function refOf(entry: LedgerEntry): string | null {
  return entry.kind === 'version' || entry.kind === 'reseal' ? versionRef(entry.type, entry.id, entry.versionId) : null;
}

/** An entry encoded and hashed, not yet sealed (sealing binds it to its index, known only under the write lock). */
export interface EncodedEntry {
  readonly bytes: Buffer;
  readonly leafHash: Buffer;
  readonly kind: string;
  readonly ref: string | null;
  readonly patients: readonly string[];
  /** Whose key seals it (audit events); undefined: stored in clear (commitments say nothing the stored rows do not). */
  readonly owner: string | undefined;
}

function encoded(entry: LedgerEntry, patients: readonly string[], owner: string | undefined): EncodedEntry {
  const bytes = encodeEntry(entry);
  return { bytes, leafHash: hashLeaf(bytes), kind: entry.kind, ref: refOf(entry), patients, owner };
}

/**
 * The entries of `items`, stored from index `next` on, in append order: commitments,
 * re-seals, erasures, audit events. An audit event about one patient links into that
 * patient's chain; one about several is followed by an `access` entry for each of them
 * (ledger/patient-chain.ts). Called under the write lock: `next` and `heads` are exact.
 */
export function encodeItems(random: Random, items: LedgerItems, t: number, next: number, heads: ChainHeads): EncodedEntry[] {
  const salt = (): string => random.bytes(SALT_BYTES).toString('base64');
  const out: EncodedEntry[] = [];
  for (const v of items.versions ?? []) out.push(encoded({ kind: 'version', salt: salt(), type: v.type, id: v.id, versionId: v.versionId, sha256: v.sha256?.toString('base64') ?? null }, [], undefined));
  for (const v of items.reseals ?? []) out.push(encoded({ kind: 'reseal', salt: salt(), type: v.type, id: v.id, versionId: v.versionId, sha256: v.sha256?.toString('base64') ?? null }, [], undefined));
  for (const e of items.erasures ?? []) out.push(encoded({ kind: 'erasure', salt: salt(), patient: e.patient, keyIds: [...e.keyIds], at: t }, [], undefined));
  const audits = items.audits ?? [];
  if (audits.length === 0) return out;
  const chained = new Set<string>();
  for (const r of audits) {
    // What a request put into its record (a header, a query) is checked before it is committed: nothing the verifier would refuse gets in.
    if (!isAuditRecord(r)) throw new CustodiaError('internal', 'An audit record is malformed');
    for (const p of r.patients) chained.add(p);
  }
  const head = new Map(chained.size === 0 ? [] : heads([...chained]));
  /** The link to `patient`'s previous entry, and the entry about to be pushed made their newest. */
  const link = (patient: string): number | null => {
    const prev = head.get(patient) ?? null;
    head.set(patient, next + out.length);
    return prev;
  };
  for (const r of audits) {
    if (r.patients.length === 1) {
      const p = r.patients[0]!;
      out.push(encoded({ kind: 'audit', salt: salt(), event: r, prev: link(p) }, [p], patientOwner(p)));
      continue;
    }
    const of = next + out.length;
    out.push(encoded({ kind: 'audit', salt: salt(), event: r }, [], TENANT_OWNER));
    for (const p of chainedPatients(r)) out.push(encoded({ kind: 'access', salt: salt(), of, prev: link(p), event: patientAccount(r, p) }, [p], patientOwner(p)));
  }
  return out;
}

/** The rows of encoded entries stored from index `next` on (audit events sealed, bound to their index). */
export function sealEntries(sealer: EntrySealer, entries: readonly EncodedEntry[], next: number): LedgerRow[] {
  return entries.map((e, i) => {
    if (e.owner === undefined) return { leafHash: e.leafHash, kind: e.kind, stored: e.bytes, keyId: null, ref: e.ref, patients: e.patients };
    // A patient's existing key, else the tenant's: an audit record never creates a key (a
    // request naming a patient who does not exist must not grow the key store) and an
    // erased patient's events stay readable as events about an id.
    const sealed = sealer.sealFor(sealer.hasLiveKey(e.owner) ? e.owner : TENANT_OWNER, 'ledger', aadSubject(next + i), e.bytes);
    return { leafHash: e.leafHash, kind: e.kind, stored: sealed.content ?? e.bytes, keyId: sealed.keyId, ref: null, patients: e.patients };
  });
}

export const leafRows = (rows: readonly LedgerRow[], next: number, t: number): unknown[][] => rows.map((r, i) => [next + i, r.leafHash, r.kind, r.stored, r.keyId, r.ref, t]);
/** An `audit_patients` row: the patient's filed name, the entry's index, the append time. */
export type PatientRow = [filed: string, idx: number, at: number];
export const patientRows = (rows: readonly LedgerRow[], next: number, t: number, file: PatientFiling): PatientRow[] => rows.flatMap((r, i) => [...new Set(r.patients)].map((p): PatientRow => [file(p), next + i, t]));
/** The index after `MAX(idx)` (null on an empty ledger). */
export const nextIndex = (n: unknown): number => Number(n ?? -1) + 1;
