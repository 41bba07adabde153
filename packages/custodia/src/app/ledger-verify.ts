/**
 * `custodia ledger verify` (issue 5 §4): checks a vault's ledger and data from storage
 * alone, trusting nothing in the database:
 *
 *  1. every checkpoint's signature, under the log's verifier key (from the key file, or
 *     one the auditor supplies);
 *  2. the leaves are dense (0, 1, 2, …) and each entry hashes to its leaf (RFC 9162
 *     §2.1.1) and is in canonical form; sealed entries are opened with the key store, and
 *     those whose patient was erased are counted as such (their leaf hash still counts);
 *  3. the whole tree recomputed from the leaves: every stored node hash, and every
 *     checkpoint's root at its size;
 *  4. every stored resource version matches the SHA-256 its latest commitment (version
 *     or re-seal entry) holds; a version whose content is gone was emptied by an erasure
 *     the ledger records; no committed version is missing;
 *  5. every patient's chain (ledger/patient-chain.ts): each audit event about one patient,
 *     and each account, links to exactly the previous entry about that patient (no fork,
 *     no skip), and an event naming several patients is followed by an account for each
 *     of them, in order. An entry that cannot be read (its patient erased) is taken on
 *     trust as a link target, as it can no longer be checked.
 *
 * It stops at nothing: every problem is collected (the first few reported in full), and
 * the first one is named so that an operator knows where to look.
 */
import { createHash } from 'node:crypto';
import { isCustodiaError } from '../kernel/index.js';
import {
  chainedPatients,
  chainLinkOf,
  decodeEntry,
  ed25519NoteVerifier,
  hashLeaf,
  NoteVerifierSet,
  openCheckpoint,
  storedHashCount,
  TreeBuilder,
  type LedgerEntry,
} from '../ledger/index.js';
import type { LedgerLog } from '../store/index.js';
import { isAuditKind } from './audit-event-scan.js';

export interface LedgerVerification {
  readonly ok: boolean;
  readonly leaves: number;
  /** Audit entries whose patient was erased: unreadable by design; their leaf hashes were checked. */
  readonly erasedEntries: number;
  readonly checkpoints: number;
  /** The size of the newest checkpoint; leaves beyond it await the sequencer. */
  readonly checkpointedSize: number;
  readonly versions: number;
  readonly erasedVersions: number;
  /** Every problem found, in the order found (at most 1,000 kept). */
  readonly problems: readonly string[];
  readonly problemCount: number;
}

const BATCH = 5000;
const KEEP = 1000;

export async function verifyLedger(log: LedgerLog, verifierKey: string): Promise<LedgerVerification> {
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (p: string): void => {
    problemCount++;
    if (problems.length < KEEP) problems.push(p);
  };

  // 1. Checkpoints, each signed by the log's key.
  const verifiers = new NoteVerifierSet([ed25519NoteVerifier(verifierKey)]);
  const roots = new Map<number, Buffer>();
  const stored = await log.checkpoints();
  for (const c of stored) {
    try {
      const { checkpoint } = openCheckpoint(c.note, verifiers);
      if (checkpoint.size !== c.size) problem(`checkpoint ${c.size}: its note says size ${checkpoint.size}`);
      else roots.set(c.size, checkpoint.rootHash);
    } catch {
      problem(`checkpoint ${c.size}: the signature does not verify under the log's key (or the note is malformed)`);
    }
  }
  const checkpointedSize = stored.length === 0 ? 0 : stored[stored.length - 1]!.size;

  // 2 and 3. Leaves, the tree and its stored hashes, in one pass.
  const commitments = new Map<string, string | null>();
  const erasedKeys = new Set<string>();
  let erasedEntries = 0;
  const hashes: { n: number; hash: Buffer }[] = [];
  let hashAt = 0;
  let hashFrom = 0;
  let hashesDone = false;
  let storedN = 0;
  const expectedHashes = storedHashCount(checkpointedSize);
  const nodeHashes: Buffer[] = [];
  const tree = new TreeBuilder({ onNode: (_node, h) => nodeHashes.push(h) });
  const checkStoredHashes = async (): Promise<void> => {
    for (const h of nodeHashes) {
      if (storedN >= expectedHashes) break;
      if (hashAt >= hashes.length && !hashesDone) {
        hashes.length = 0;
        hashes.push(...(await log.scanHashes(hashFrom, BATCH)));
        hashAt = 0;
        hashFrom = hashes.length === 0 ? hashFrom : hashes[hashes.length - 1]!.n + 1;
        if (hashes.length === 0) hashesDone = true;
      }
      const s = hashes[hashAt];
      if (s === undefined || s.n !== storedN) problem(`tree hash ${storedN} is missing from storage`);
      else if (!s.hash.equals(h)) problem(`tree hash ${storedN} does not match the leaves`);
      if (s !== undefined && s.n === storedN) hashAt++;
      storedN++;
    }
    nodeHashes.length = 0;
  };

  // 5. Patient chains, checked as the leaves go by.
  const chains = new PatientChains(problem);

  let next = 0;
  for (;;) {
    const leaves = await log.scanLeaves(next, BATCH);
    if (leaves.length === 0) break;
    for (const leaf of leaves) {
      if (leaf.idx !== next) {
        problem(`leaf ${next} is missing (the next stored leaf is ${leaf.idx}): entries were deleted or moved`);
        next = leaf.idx;
      }
      let entry: LedgerEntry | undefined;
      try {
        const bytes = log.openLeaf(leaf);
        if (!hashLeaf(bytes).equals(leaf.leafHash)) problem(`leaf ${leaf.idx}: the entry does not hash to its leaf hash`);
        entry = decodeEntry(bytes);
        if (entry.kind !== leaf.kind) problem(`leaf ${leaf.idx}: stored as ${leaf.kind} but the entry is ${entry.kind}`);
      } catch (e) {
        if (isCustodiaError(e, 'resource-erased')) erasedEntries++;
        else problem(`leaf ${leaf.idx}: ${isCustodiaError(e, 'decrypt-failed') ? 'the sealed entry fails its integrity check' : 'the entry is malformed'}`);
      }
      if (entry?.kind === 'version' || entry?.kind === 'reseal') {
        const ref = `${entry.type}/${entry.id}/_history/${entry.versionId}`;
        if (leaf.ref !== ref) problem(`leaf ${leaf.idx}: the commitment is filed under ${leaf.ref ?? 'nothing'} but is about ${ref}`);
        if (entry.kind === 'version' && commitments.has(ref)) problem(`leaf ${leaf.idx}: ${ref} is committed twice`);
        if (entry.kind === 'reseal' && !commitments.has(ref)) problem(`leaf ${leaf.idx}: ${ref} is re-sealed before it was committed`);
        commitments.set(ref, entry.sha256);
      } else if (entry?.kind === 'erasure') {
        for (const k of entry.keyIds) erasedKeys.add(k);
      }
      if (entry === undefined && isAuditKind(leaf.kind)) chains.unreadable(leaf.idx);
      else if (entry !== undefined) chains.check(leaf.idx, entry);
      tree.append(leaf.leafHash);
      const root = roots.get(tree.size);
      if (root !== undefined && !root.equals(tree.root())) problem(`checkpoint ${tree.size}: its root is not the root of the stored leaves`);
      next = leaf.idx + 1;
    }
    await checkStoredHashes();
  }
  chains.end();
  for (const [size] of roots) if (size > tree.size) problem(`checkpoint ${size}: the log has only ${tree.size} leaves`);
  if (storedN < expectedHashes) problem(`tree hashes ${storedN}–${expectedHashes - 1} are missing from storage`);
  const extra = await log.scanHashes(expectedHashes, 1);
  if (extra.length > 0) problem(`tree hash ${extra[0]!.n} is stored beyond the newest checkpoint`);

  // 4. Every stored version against its commitment.
  let versions = 0;
  let erasedVersions = 0;
  const seen = new Set<string>();
  for (let after = -1; ; ) {
    const rows = await log.scanVersions(after, BATCH);
    if (rows.length === 0) break;
    for (const v of rows) {
      versions++;
      seen.add(v.ref);
      const committed = commitments.get(v.ref);
      if (committed === undefined) {
        problem(`${v.ref} has no commitment in the ledger`);
        continue;
      }
      if (committed === null) {
        // Committed as a deletion: no content, ever.
        if (v.content !== null || !v.deleted) problem(`${v.ref} was committed as a deletion but is stored as content`);
        continue;
      }
      if (v.content === null) {
        if (v.keyId !== null && erasedKeys.has(v.keyId)) erasedVersions++;
        else problem(`${v.ref}: its content was removed without an erasure in the ledger`);
        continue;
      }
      if (createHash('sha256').update(v.content).digest('base64') !== committed) problem(`${v.ref}: the stored data does not match its commitment (changed outside Custodia)`);
    }
    after = rows[rows.length - 1]!.seq;
  }
  for (const ref of commitments.keys()) if (!seen.has(ref)) problem(`${ref} is committed in the ledger but missing from storage (deleted?)`);

  return { ok: problemCount === 0, leaves: tree.size, erasedEntries, checkpoints: stored.length, checkpointedSize, versions, erasedVersions, problems, problemCount };
}

/**
 * Check 5: each patient's chain, entry by entry in index order. Problems never name the
 * patient (the report may be shared); the leaf index is enough to look.
 */
class PatientChains {
  readonly #heads = new Map<string, number>();
  /** Entries that could not be read (erased): a link to one cannot be checked. */
  readonly #unreadable = new Set<number>();
  /** The event naming several patients whose accounts come next, and which of them is due. */
  #accounts: { of: number; patients: readonly string[]; due: number } | undefined;

  constructor(private readonly problem: (p: string) => void) {}

  unreadable(idx: number): void {
    this.#unreadable.add(idx);
    // An unreadable account still takes its place in the run of accounts.
    if (this.#accounts !== undefined) this.#advance();
  }

  check(idx: number, entry: LedgerEntry): void {
    if (entry.kind === 'access') {
      const due = this.#accounts;
      if (due === undefined || entry.of !== due.of || entry.event.patients[0] !== due.patients[due.due]) this.problem(`leaf ${idx}: an account that is not the one due (of the event at leaf ${entry.of})`);
      else this.#advance();
    } else if (this.#accounts !== undefined) {
      this.problem(`leaf ${this.#accounts.of}: the event names several patients but is not followed by an account for each`);
      this.#accounts = undefined;
    }
    if (entry.kind === 'audit' && entry.event.patients.length === 1 && entry.prev === undefined) this.problem(`leaf ${idx}: an event about one patient has no link in the patient's chain`);
    if (entry.kind === 'audit' && entry.event.patients.length > 1) this.#accounts = { of: idx, patients: chainedPatients(entry.event), due: 0 };
    const link = chainLinkOf(entry);
    if (link === undefined) return;
    const expected = this.#heads.get(link.patient) ?? null;
    // Past an unreadable entry, the link may lead to it (it was this patient's; it can no longer be told).
    const unverifiable = link.prev !== null && this.#unreadable.has(link.prev) && (expected === null || link.prev > expected);
    if (link.prev !== expected && !unverifiable) this.problem(`leaf ${idx}: it links to ${link.prev === null ? 'nothing' : `leaf ${link.prev}`} in its patient's chain, but the previous entry about that patient is ${expected === null ? 'none' : `leaf ${expected}`}`);
    this.#heads.set(link.patient, idx);
  }

  end(): void {
    if (this.#accounts !== undefined) this.problem(`leaf ${this.#accounts.of}: the event names several patients but is not followed by an account for each`);
  }

  #advance(): void {
    const a = this.#accounts!;
    this.#accounts = a.due + 1 === a.patients.length ? undefined : { ...a, due: a.due + 1 };
  }
}
