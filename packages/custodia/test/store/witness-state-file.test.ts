/**
 * The witness's state file: a compare-and-swap that only one of two racing writers wins
 * (also across two connections, as two processes would have), state that survives a
 * reopen, a 0600 file in WAL mode, and bounded evidence.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { EVIDENCE_PER_LOG, openWitnessStateFile, type WitnessStateFile } from '../../src/store/index.js';
import type { WitnessLogState } from '../../src/ledger/index.js';

const dirs: string[] = [];
const files: WitnessStateFile[] = [];
afterEach(() => {
  for (const f of files.splice(0)) f.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(path?: string): { file: WitnessStateFile; path: string } {
  const p = path ?? join(mkdtempSync(join(tmpdir(), 'custodia-witness-')), 'sub', 'witness-state.db');
  if (path === undefined) dirs.push(join(p, '..', '..'));
  const file = openWitnessStateFile(p, () => 1_750_000_000_000);
  files.push(file);
  return { file, path: p };
}

const state = (size: number, root = size, origin = 'log.example/a'): WitnessLogState => ({ origin, size, rootHash: Buffer.alloc(32, root), signedCheckpoint: `${origin}\n${size}\n…\n\n— sig\n` });

describe('witness state file', () => {
  it('swaps only from the expected state', async () => {
    const { file } = open();
    expect(await file.load('log.example/a')).toBeUndefined();
    expect(await file.compareAndSwap('log.example/a', undefined, state(5))).toBe(true);
    // A second "first" checkpoint loses: something is stored now.
    expect(await file.compareAndSwap('log.example/a', undefined, state(6))).toBe(false);
    // Wrong size, or right size and wrong root: refused.
    expect(await file.compareAndSwap('log.example/a', state(4), state(9))).toBe(false);
    expect(await file.compareAndSwap('log.example/a', state(5, 99), state(9))).toBe(false);
    expect(await file.compareAndSwap('log.example/a', state(5), state(9))).toBe(true);
    const loaded = await file.load('log.example/a');
    expect(loaded?.size).toBe(9);
    expect(loaded?.rootHash.equals(Buffer.alloc(32, 9))).toBe(true);
    expect(loaded?.signedCheckpoint).toBe(state(9).signedCheckpoint);
    // Logs are independent.
    expect(await file.load('log.example/b')).toBeUndefined();
  });

  it('lets exactly one of two connections win a race from the same state, and keeps it across a reopen', async () => {
    const { file, path } = open();
    const { file: other } = open(path);
    await file.compareAndSwap('log.example/a', undefined, state(10));
    const wins = await Promise.all([file.compareAndSwap('log.example/a', state(10), state(12)), other.compareAndSwap('log.example/a', state(10), state(15))]);
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = wins[0] ? 12 : 15;
    file.close();
    files.splice(files.indexOf(file), 1);
    const { file: reopened } = open(path);
    expect((await reopened.load('log.example/a'))?.size).toBe(winner);
  });

  it('is a 0600 file in WAL mode (synchronous FULL is set on its connection, see the source)', () => {
    const { path } = open();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('keeps at most the newest evidence per log', () => {
    const { file } = open();
    for (let i = 0; i < EVIDENCE_PER_LOG + 5; i++) file.recordEvidence({ origin: 'log.example/a', reason: 'fork', checkpoint: `cp ${i}`, at: i });
    file.recordEvidence({ origin: 'log.example/b', reason: 'bad-proof', checkpoint: 'b', at: 1 });
    const kept = file.evidence('log.example/a');
    expect(kept).toHaveLength(EVIDENCE_PER_LOG);
    expect(kept[0]!.checkpoint).toBe('cp 5');
    expect(kept.at(-1)!.checkpoint).toBe(`cp ${EVIDENCE_PER_LOG + 4}`);
    expect(file.evidence('log.example/b')).toEqual([{ origin: 'log.example/b', reason: 'bad-proof', checkpoint: 'b', at: 1 }]);
  });
});
