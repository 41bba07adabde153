/**
 * Flushing a SQLite write-ahead log off the event loop (store/wal-sync.ts): concurrent
 * callers all get a flush that began after they called; a WAL file not there yet is a
 * failure that passes; a failed fdatasync is final — every later flush, and `check`, fail
 * with it (fail-stop: a later fsync may succeed without what the failed one lost).
 * The failing flush is real: fdatasync(2) of a FIFO fails with EINVAL. The blocking flush
 * (flushSync) shares that fail-stop.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { walSync } from '../../src/store/wal-sync.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('custodia-walsync-');
const newDb = (): string => join(tempDir(), 'db.sqlite');

describe('walSync', () => {
  it('is undefined for an in-memory database', () => {
    expect(walSync(':memory:')).toBeUndefined();
  });

  it('flushes for every caller, however many arrive at once', async () => {
    const db = newDb();
    writeFileSync(`${db}-wal`, Buffer.alloc(8192, 1));
    const wal = walSync(db)!;
    try {
      await Promise.all(Array.from({ length: 20 }, () => wal.flush()));
      await wal.flush();
      expect(() => wal.check()).not.toThrow();
    } finally {
      await wal.close();
    }
  });

  it('a WAL file that cannot be opened yet fails that flush only', async () => {
    const db = newDb();
    const wal = walSync(db)!;
    try {
      await expect(wal.flush()).rejects.toMatchObject({ code: 'ENOENT' });
      expect(() => wal.check()).not.toThrow();
      writeFileSync(`${db}-wal`, 'frames');
      await wal.flush();
    } finally {
      await wal.close();
    }
  });

  it('a failed fdatasync is final: later flushes and check() fail with the same storage-unavailable error', async () => {
    const db = newDb();
    execFileSync('mkfifo', [`${db}-wal`]);
    const wal = walSync(db)!;
    try {
      const first = await wal.flush().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(first).toMatchObject({ code: 'storage-unavailable', cause: expect.objectContaining({ code: 'EINVAL' }) });
      await expect(wal.flush()).rejects.toBe(first);
      expect(() => wal.check()).toThrow(first as Error);
    } finally {
      await wal.close();
    }
  });

  it('flushes on the calling thread too, and a failed blocking flush is as final as a failed one off it', async () => {
    const db = newDb();
    writeFileSync(`${db}-wal`, 'frames');
    const good = walSync(db)!;
    try {
      good.flushSync();
      good.flushSync();
      await good.flush();
    } finally {
      await good.close();
    }
    const fifo = newDb();
    execFileSync('mkfifo', [`${fifo}-wal`]);
    const wal = walSync(fifo)!;
    try {
      let first: unknown;
      try {
        wal.flushSync();
      } catch (e) {
        first = e;
      }
      expect(first).toMatchObject({ code: 'storage-unavailable', cause: expect.objectContaining({ code: 'EINVAL' }) });
      expect(() => wal.flushSync()).toThrow(first as Error);
      await expect(wal.flush()).rejects.toBe(first);
      expect(() => wal.check()).toThrow(first as Error);
    } finally {
      await wal.close();
    }
  });
});
