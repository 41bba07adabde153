/**
 * The server's writer takes SQLite's write lock without blocking its event loop
 * (store/sqlite-write-lock.ts): while another connection holds the lock, the event loop
 * goes on, and the transaction goes through once the lock is free.
 */
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { beginImmediate } from '../../src/store/sqlite-write-lock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { create, rows } from './store-fixtures.js';

describe('SQLite write lock on the server’s writer', () => {
  let db: TestDatabase;
  let vault: VaultDatabase;
  let holder: BetterSqlite3.Database;
  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    vault = await openDatabase(db.options);
    holder = new BetterSqlite3(db.options.database);
  });
  afterEach(async () => {
    holder.close();
    await vault.close();
    await db.cleanup();
  });

  it('waits for a lock another connection holds while the event loop goes on', async () => {
    holder.exec('BEGIN IMMEDIATE');
    // Released by a timer on this same event loop: a writer that blocked the loop while it
    // waited (SQLite's busy handler sleeps on the calling thread) would never see it released.
    setTimeout(() => holder.exec('COMMIT'), 50);
    await vault.resources.transaction((tx) => tx.writeVersions([create('Patient', 'after-lock', rows({}))]));
    expect((await vault.resources.readCurrent('Patient', 'after-lock'))?.versionId).toBe(1);
  });

  it('gives up with SQLITE_BUSY once the timeout has passed, and keeps the connection’s busy timeout', async () => {
    holder.exec('BEGIN IMMEDIATE');
    const writer = new BetterSqlite3(db.options.database, { timeout: 25 });
    try {
      await expect(beginImmediate(writer, async () => writer.exec('BEGIN IMMEDIATE'), 25)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      expect(writer.pragma('busy_timeout', { simple: true })).toBe(25);
      holder.exec('COMMIT');
      await beginImmediate(writer, async () => writer.exec('BEGIN IMMEDIATE'), 25);
      expect(writer.inTransaction).toBe(true);
      writer.exec('COMMIT');
    } finally {
      writer.close();
    }
  });
});
