/**
 * A witness's memory (C2SP tlog-witness): per log origin, the latest checkpoint it
 * cosigned, in its own SQLite file `<dir>/witness-state.db` (mode 0600). "The witness MUST
 * persist the new checkpoint before responding", and a witness that forgot what it
 * cosigned would cosign a rolled-back or forked log: the file runs in WAL mode with
 * `synchronous = FULL`, so each compare-and-swap is fsynced before it returns.
 *
 * The compare-and-swap is one SQL statement (an INSERT that does nothing on a conflict,
 * or an UPDATE guarded by the expected size and root), atomic even against another
 * process on the same file. Refused checkpoints that were validly signed by the log (a
 * fork, a bad proof) are kept as evidence of misbehaviour, a bounded number per log.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WitnessLogState, WitnessStateStore } from '../ledger/index.js';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS witness_logs (
     origin TEXT PRIMARY KEY,
     size INTEGER NOT NULL CHECK (size >= 0),
     root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
     checkpoint TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS witness_evidence (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     origin TEXT NOT NULL,
     reason TEXT NOT NULL,
     checkpoint TEXT NOT NULL,
     at INTEGER NOT NULL
   )`,
  'CREATE INDEX IF NOT EXISTS witness_evidence_origin ON witness_evidence (origin, id)',
];

/** How many refused checkpoints are kept per log (the newest). */
export const EVIDENCE_PER_LOG = 100;

/** A refused, log-signed checkpoint: possible proof of log misbehaviour (tlog-witness §add-checkpoint, MAY log). */
export interface WitnessEvidence {
  readonly origin: string;
  readonly reason: string;
  readonly checkpoint: string;
  readonly at: number;
}

export interface WitnessStateFile extends WitnessStateStore {
  /** Keeps a refused checkpoint, dropping the oldest beyond {@link EVIDENCE_PER_LOG} for its log. */
  recordEvidence(evidence: WitnessEvidence): void;
  /** The evidence kept for `origin`, oldest first. */
  evidence(origin: string): WitnessEvidence[];
  close(): void;
}

interface StateRow {
  readonly origin: string;
  readonly size: number;
  readonly root_hash: Buffer;
  readonly checkpoint: string;
}

/**
 * Opens (creating it, 0600 in a 0700 folder) the witness's state file.
 *
 * @example
 *   const state = openWitnessStateFile(join(dataDir, 'witness-state.db'), () => Date.now());
 *   const outcome = await addCheckpoint(body, state, config);
 */
export function openWitnessStateFile(path: string, now: () => number): WitnessStateFile {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const existed = existsSync(path);
  const db = new Database(path);
  try {
    if (!existed) chmodSync(path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    for (const s of SCHEMA) db.exec(s);
  } catch (e) {
    db.close();
    throw e;
  }
  const load = db.prepare<[string], StateRow>('SELECT origin, size, root_hash, checkpoint FROM witness_logs WHERE origin = ?');
  const insert = db.prepare('INSERT INTO witness_logs (origin, size, root_hash, checkpoint, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING');
  const update = db.prepare('UPDATE witness_logs SET size = ?, root_hash = ?, checkpoint = ?, updated_at = ? WHERE origin = ? AND size = ? AND root_hash = ?');
  const addEvidence = db.prepare('INSERT INTO witness_evidence (origin, reason, checkpoint, at) VALUES (?, ?, ?, ?)');
  const trimEvidence = db.prepare('DELETE FROM witness_evidence WHERE origin = ? AND id <= (SELECT id FROM witness_evidence WHERE origin = ? ORDER BY id DESC LIMIT 1 OFFSET ?)');
  const listEvidence = db.prepare<[string], WitnessEvidence>('SELECT origin, reason, checkpoint, at FROM witness_evidence WHERE origin = ? ORDER BY id');
  const recordEvidence = db.transaction((e: WitnessEvidence) => {
    addEvidence.run(e.origin, e.reason, e.checkpoint, e.at);
    trimEvidence.run(e.origin, e.origin, EVIDENCE_PER_LOG);
  });

  return {
    async load(origin) {
      const row = load.get(origin);
      return row === undefined ? undefined : { origin: row.origin, size: row.size, rootHash: Buffer.from(row.root_hash), signedCheckpoint: row.checkpoint };
    },
    async compareAndSwap(origin, expected, next: WitnessLogState) {
      const t = now();
      const changed =
        expected === undefined
          ? insert.run(origin, next.size, next.rootHash, next.signedCheckpoint, t).changes
          : update.run(next.size, next.rootHash, next.signedCheckpoint, t, origin, expected.size, expected.rootHash).changes;
      return changed === 1;
    },
    recordEvidence: (e) => void recordEvidence(e),
    evidence: (origin) => listEvidence.all(origin),
    close: () => db.close(),
  };
}
