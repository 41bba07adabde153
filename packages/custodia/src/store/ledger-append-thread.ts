/**
 * The audit writer thread (SQLite): appends the audit records of reads — and of
 * everything else audited outside a write's own transaction — to the ledger on a database
 * connection of its own, and answers once they are on stable storage. Encoding, hashing,
 * sealing, the inserts, the commit and the fsync all run here, off the thread that serves
 * requests; this is the SQLite counterpart of a database's WAL writer.
 *
 * Group commit: the vault writes each append into a ring the moment it is made
 * (ledger-append-channel.ts), and the thread commits everything written there while it
 * committed and flushed the last batch as the next one, so batches grow with the load.
 * The two sides share memory, not messages.
 *
 * Durability: the transaction commits with `synchronous = NORMAL` (its WAL frames
 * written), and the WAL is then flushed with fdatasync before anyone is answered, outside
 * the write lock, so that the vault's writers do not wait for the disk (see wal-sync.ts
 * for why that flushes exactly what the commit wrote, and every earlier frame). The
 * thread blocks in the flush; requests sent meanwhile are committed together after it.
 * Blocking, rather than flushing on libuv's pool and waiting on the event loop, keeps
 * each hand-off a futex wake (ledger-append-channel.ts).
 *
 * Indexes stay dense and in commit order: each batch takes `MAX(idx) + 1` under SQLite's
 * write lock, as the vault's write transactions do for their own records.
 *
 * The requests come from ledger-appender.ts in this process (trusted); the records in
 * them carry request data (a header, a query), which `encodeItems` checks field by field.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { secureRandom } from '../kernel/index.js';
import { sealEnvelope, type DataKey } from '../crypto/index.js';
import type { AuditRecord } from '../ledger/index.js';
import { CLEAR_AT_REST, secretAad } from './at-rest.js';
import { AUDIT_FILINGS, blindFiling, chainHeads, CHAIN_HEAD_SQL, CLEAR_FILING, encodeItems, filingMerge, LEAVES, leafRows, MERGED_THROUGH_SQL, nextIndex, patientRows, sealEntries, TAIL_AFTER_SQL, type EntrySealer, type PatientFiling } from './ledger-rows.js';
import { preparedInserts } from './prepared-inserts.js';
import { AppendChannel, type ChannelMemory } from './ledger-append-channel.js';
import { checkpointPolicy } from './wal-checkpoints.js';
import { walSync } from './wal-sync.js';
import { isSqliteBusy } from './db-errors.js';
import { BUSY_TIMEOUT_MS } from './sqlite-write-lock.js';
import { FilingTail } from './filing-tail.js';

/**
 * One request to append: its records, the data keys that may seal them (null in a clear
 * vault: owner, key id, base64 key), and the append time. It travels as JSON text: one
 * string is copied across threads far faster than a graph of objects is cloned.
 */
export interface AppendRequest {
  readonly id: number;
  readonly audits: readonly AuditRecord[];
  readonly keys: readonly (readonly [owner: string, keyId: string, key: string])[] | null;
  /** The vault's index key (base64) its patients are filed under in `audit_patients`; null in a clear vault (ledger-rows.ts PatientFiling). */
  readonly filingKey: string | null;
  readonly at: number;
}

/**
 * While busy, the thread looks for the next request this often (ledger-append-channel.ts)...
 * A millisecond, not less: requests sent meanwhile wait for the look (the vault wakes the
 * thread only when it had nothing in flight), so the wait is a group-commit delay, as
 * PostgreSQL's `commit_delay`: under load it gathers larger batches, with fewer commits,
 * flushes and wake-ups of the thread. Measured on the 2-core bench machine (2026-11-30, one
 * process, one vault looking every 0.25 ms and one every 1 ms, interleaved 4-second runs,
 * pairwise medians of the audited over unaudited ratios): 1.26 times the audited reads with
 * 50 clients, the thread's CPU per read about a fifth lower; 1.10 times with 100; with 10
 * clients 0.98 and 1.00 in two runs (four and six pairs), within this machine's noise. A
 * lightly loaded server does not wait for the look: its sends find nothing in flight and
 * wake the thread.
 */
const POLL_MS = 1;
/** ...for this long after its last request, and then sleeps until woken, looking whether it should stop this often. */
const BUSY_MS = 20;
const SLEEP_MS = 100;

/**
 * How many times the thread commits again, before a flush, what was sent while it
 * committed. Once: with 10 clients a batch commits for about as long as it flushes, and
 * the reads that arrive meanwhile otherwise wait out that flush, then a commit and a flush
 * of their own. Measured (2026-12-01, scratch harness: one process, an unaudited vault and
 * two audited ones, the thread as before and with this, five alternating 4-second runs
 * per concurrency, twice): with 10 clients 1.052 and 1.040 times the audited reads
 * (pairwise medians; higher in 9 of the 10 pairs), with 50 1.051 and 0.982, with 100
 * 1.011 (noise). Up to three times made 1.026 / 0.973 / 0.953 with 10 / 50 / 100: each
 * extra commit pays a commit's fixed cost for fewer records.
 */
const RETAKES = 1;

/**
 * While the vault's own writer holds SQLite's write lock (a write transaction: its commit
 * and fsync), the thread tries again this often (for as long as the vault's connections
 * wait for a lock, BUSY_TIMEOUT_MS). SQLite's busy handler would sleep 1 ms, then 2, then
 * 5 and more between attempts, holding back every read in the batch long after the lock is
 * free; the thread has nothing else to do, so it waits in short steps instead.
 */
const LOCK_RETRY_MS = 0.05;

export interface AppendThreadData {
  readonly path: string;
  readonly memory: ChannelMemory;
}

/** Seals with the keys the vault handed over for this request: those owners have a live key, and the tenant. */
function handedKeys(keys: AppendRequest['keys']): EntrySealer {
  if (keys === null) return CLEAR_AT_REST;
  const byOwner = new Map<string, DataKey>(keys.map(([owner, id, key]) => [owner, { id, key: Buffer.from(key, 'base64') }]));
  return {
    hasLiveKey: (owner) => byOwner.has(owner),
    sealFor(owner, purpose, subject, plaintext) {
      const key = byOwner.get(owner);
      if (key === undefined) throw new Error(`No data key was handed over for ${owner}`);
      return { content: sealEnvelope(key, plaintext, secretAad(purpose, subject), secureRandom), keyId: key.id };
    },
  };
}

function run(data: AppendThreadData): void {
  const channel = new AppendChannel(data.memory);
  const db = new BetterSqlite3(data.path, { timeout: BUSY_TIMEOUT_MS });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  checkpointPolicy(db);
  // From here on a locked database is retried by `commit` (the timeout above covers opening it).
  db.pragma('busy_timeout = 0');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const insert = preparedInserts(db);
  const maxIdx = db.prepare('SELECT MAX(idx) FROM ledger_leaves').pluck();
  const chainHead = db.prepare(CHAIN_HEAD_SQL).pluck();
  const mergedThrough = db.prepare(MERGED_THROUGH_SQL).pluck();
  const tailAfter = db.prepare(TAIL_AFTER_SQL).raw();
  const tail = new FilingTail();
  // Blocking flushes, fail-stop (wal-sync.ts): a failed one fails every later one.
  const wal = walSync(data.path)!;
  /** The filing of the last request's key (the vault's index key does not change while it runs). */
  let filing: { readonly key: string | null; readonly file: PatientFiling } = { key: null, file: CLEAR_FILING };
  const filingFor = (key: string | null): PatientFiling => {
    if (key !== filing.key) filing = { key, file: key === null ? CLEAR_FILING : blindFiling(Buffer.from(key, 'base64')) };
    return filing.file;
  };

  /** Commits request `r` (not yet durable), waiting for the write lock; the first index of its records. */
  function commit(r: AppendRequest): number {
    const started = performance.now();
    for (;;) {
      try {
        return commitOnce(r);
      } catch (e) {
        // Another connection holds the write lock (BEGIN IMMEDIATE takes it first, so this is
        // where it shows); the transaction was rolled back and runs again from the start. Any
        // other error is the batch's failure.
        if (!isSqliteBusy(e) || performance.now() - started > BUSY_TIMEOUT_MS) throw e;
        Atomics.wait(pause, 0, 0, LOCK_RETRY_MS);
      }
    }
  }

  function commitOnce(r: AppendRequest): number {
    // Encoded under the write lock: the indexes and each patient's chain head are exact there (ledger/patient-chain.ts).
    try {
      const { next, filed, mergedThrough: merged } = db
        .transaction(() => {
          tail.observe(tailAfter.iterate(tail.readFrom(Number(mergedThrough.get()))) as Iterable<[string, number]>);
          const next = nextIndex(maxIdx.get());
          const file = filingFor(r.filingKey);
          const entries = encodeItems(secureRandom, { audits: r.audits }, r.at, next, (patients) => chainHeads(patients, file, (name) => tail.head(name, () => chainHead.get(name))));
          const rows = sealEntries(handedKeys(r.keys), entries, next);
          insert(LEAVES, leafRows(rows, next, r.at));
          const filed = patientRows(rows, next, r.at, file);
          insert(AUDIT_FILINGS, filed);
          // The append that makes the tail span FILING_MERGE_SPAN entries merges it (migration 0024).
          const last = next + rows.length - 1;
          const merge = filingMerge(tail.through, last);
          for (const [q, params] of merge) db.prepare(q).run(...params);
          return { next, filed, mergedThrough: merge.length > 0 ? last : undefined };
        })
        .immediate();
      tail.committed(filed, merged);
      return next;
    } catch (e) {
      tail.forget();
      throw e;
    }
  }

  /** Requests taken, not yet settled: from `settled` to `taken` (exclusive); those that failed, with why. */
  let settled = 0;
  let taken = 0;
  const failed = new Map<number, string>();

  /**
   * Commits `group` as one transaction; undefined, or why it failed (nothing written) and
   * whether it was the write lock, still held by another connection after the busy timeout.
   */
  function commitTogether(group: readonly AppendRequest[]): { readonly why: string; readonly locked: boolean } | undefined {
    try {
      let first = commit(merged(group));
      for (const r of group) {
        channel.committed(r.id, first);
        first += r.audits.length;
      }
      return undefined;
    } catch (e) {
      // No detail of the records: only what failed (a constraint, a full disk, a locked database).
      return { why: e instanceof Error ? e.message.slice(0, 300) : 'the append failed', locked: isSqliteBusy(e) };
    }
  }

  /**
   * Commits every request sent so far, as one transaction for each run of requests filed
   * under the same key: the records of request after request, in order. If that fails,
   * each request is committed alone, so that one request's bad record (its records carry
   * request data) fails that request only, not every read that happened to be batched with it;
   * unless the lock was what failed: no record is at fault, and each request alone would
   * wait out the busy timeout again.
   */
  function takeAll(): void {
    const texts = channel.readFrom(taken);
    let group: AppendRequest[] = [];
    const commitGroup = (): void => {
      const failure = group.length > 0 ? commitTogether(group) : undefined;
      if (failure !== undefined) {
        for (const r of group) {
          const alone = group.length === 1 || failure.locked ? failure : commitTogether([r]);
          if (alone !== undefined) failed.set(r.id, alone.why);
        }
      }
      group = [];
    };
    for (const [i, text] of texts.entries()) {
      const id = taken + i;
      let r: AppendRequest;
      try {
        r = JSON.parse(text) as AppendRequest;
      } catch {
        failed.set(id, 'the append request could not be read');
        continue;
      }
      if (r.id !== id) failed.set(id, 'the append request is out of order');
      else {
        if (group.length > 0 && group[0]!.filingKey !== r.filingKey) commitGroup();
        group.push(r);
      }
    }
    commitGroup();
    taken += texts.length;
  }

  /** Flushes the WAL and settles every request taken so far (durable, or failed with why). */
  function flush(): void {
    if (settled === taken) return;
    const upTo = taken;
    const why = new Map(failed);
    failed.clear();
    try {
      wal.flushSync();
    } catch (e) {
      // The errno of the flush (wrapped by wal-sync.ts) or of opening the WAL file.
      const code = ((e as { cause?: NodeJS.ErrnoException }).cause ?? (e as NodeJS.ErrnoException)).code ?? 'error';
      for (let id = settled; id < upTo; id++) if (!why.has(id)) why.set(id, `the flush to stable storage failed: ${code}`);
    }
    settled = upTo;
    channel.settle(upTo, why);
  }

  // Blocking waits (see ledger-append-channel.ts for why): commit what was sent, flush, and
  // at once commit what was sent meanwhile; wait only when nothing was.
  let lastWork = performance.now();
  let takenAtWait = 0;
  for (;;) {
    takeAll();
    // Requests sent while that committed: committed now too, so that the flush below makes
    // them durable with the rest, rather than their waiting for it and then for a commit
    // and flush of their own. Once, not until none arrive: see RETAKES.
    for (let k = 0; k < RETAKES && channel.sent > taken; k++) takeAll();
    flush();
    if (channel.sent > taken) continue;
    if (channel.closing) break;
    const now = performance.now();
    if (taken !== takenAtWait) lastWork = now;
    takenAtWait = taken;
    const busy = now - lastWork < BUSY_MS;
    channel.waitForSent(taken, busy ? POLL_MS : SLEEP_MS, !busy);
  }
  void wal.close();
  db.close();
}

/** Requests one after another as one: their records in order, their keys, the latest time. */
function merged(group: readonly AppendRequest[]): AppendRequest {
  if (group.length === 1) return group[0]!;
  const keys = group[0]!.keys === null ? null : [...new Map(group.flatMap((r) => r.keys ?? []).map((k) => [k[0], k] as const)).values()];
  return { id: group[0]!.id, audits: group.flatMap((r) => r.audits), keys, filingKey: group[0]!.filingKey, at: Math.max(...group.map((r) => r.at)) };
}

// Only as the thread ledger-appender.ts starts (another worker that imports this module has other data).
const given = workerData as Partial<AppendThreadData> | null;
if (!isMainThread && given?.memory !== undefined && given.path !== undefined) run(given as AppendThreadData);
