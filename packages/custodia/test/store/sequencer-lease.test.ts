/**
 * One sequencer per log when servers share a PostgreSQL database (issue 5 §2): the first
 * to ask holds the lease, the others do not until it lets go (or its connection dies);
 * SQLite always grants it (one host, one server).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';

describe.skipIf(!isAvailable('postgres'))('sequencer lease on postgres', () => {
  let db: TestDatabase;
  const open: VaultDatabase[] = [];
  afterAll(async () => {
    for (const d of open) await d.close().catch(() => undefined);
    await db?.cleanup();
  });

  it('is held by one server at a time, and passes on when the holder closes', async () => {
    db = await createTestDatabase('postgres');
    const a = await openDatabase(db.options);
    const b = await openDatabase(db.options);
    open.push(a, b);
    expect(await a.ledger.holdsSequencerLease()).toBe(true);
    expect(await a.ledger.holdsSequencerLease()).toBe(true);
    expect(await b.ledger.holdsSequencerLease()).toBe(false);
    await a.close();
    open.splice(open.indexOf(a), 1);
    expect(await b.ledger.holdsSequencerLease()).toBe(true);
  });
});

describe.skipIf(!isAvailable('sqlite'))('sequencer lease on sqlite', () => {
  it('is always granted', async () => {
    const db = await createTestDatabase('sqlite');
    const a = await openDatabase(db.options);
    try {
      expect(await a.ledger.holdsSequencerLease()).toBe(true);
    } finally {
      await a.close();
      await db.cleanup();
    }
  });
});
