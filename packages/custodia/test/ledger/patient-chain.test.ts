/**
 * The chain links and accounts of ledger/patient-chain.ts as leaf data: what decodeEntry
 * accepts (a link only on an event about one patient; an account about one patient, with
 * no query) and that an account never carries another patient's id, whatever the event.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { runs } from './seeded.js';
import { chainLinkOf, decodeEntry, encodeEntry, patientAccount, type AuditRecord } from '../../src/ledger/index.js';

const SALT = Buffer.alloc(32, 9).toString('base64');
const record = (patients: string[], extra: Partial<AuditRecord> = {}): AuditRecord => ({
  at: 1_800_000_000_000,
  type: 'rest',
  subtype: 'search-type',
  action: 'E',
  outcome: '0',
  agent: { who: 'Practitioner/dr-a' },
  patients,
  entities: patients.map((p) => `Patient/${p}`),
  ...extra,
});
const bytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

describe('patient chain entries', () => {
  it('round-trips a linked event and an account, and reads their links', () => {
    const audit = { kind: 'audit', salt: SALT, event: record(['p1']), prev: 41 } as const;
    expect(chainLinkOf(decodeEntry(encodeEntry(audit)))).toEqual({ patient: 'p1', prev: 41 });
    const access = { kind: 'access', salt: SALT, of: 50, prev: null, event: patientAccount(record(['p1', 'p2'], { query: '_id=p1,p2' }), 'p2') } as const;
    expect(chainLinkOf(decodeEntry(encodeEntry(access)))).toEqual({ patient: 'p2', prev: null });
    // An event about several patients (or none) carries no link: its accounts do.
    expect(chainLinkOf(decodeEntry(encodeEntry({ kind: 'audit', salt: SALT, event: record(['p1', 'p2']) })))).toBeUndefined();
  });

  it('refuses a link on an event about several patients, an account with a query or of several, and bad indexes', () => {
    const refused = [
      { kind: 'audit', salt: SALT, event: record(['p1', 'p2']), prev: 3 },
      { kind: 'audit', salt: SALT, event: record([]), prev: null },
      { kind: 'audit', salt: SALT, event: record(['p1']), prev: -1 },
      { kind: 'audit', salt: SALT, event: record(['p1']), prev: 1.5 },
      { kind: 'audit', salt: SALT, event: record(['p1']), prev: '3' },
      { kind: 'access', salt: SALT, of: 3, prev: null, event: record(['p1'], { query: 'name=Doe' }) },
      { kind: 'access', salt: SALT, of: 3, prev: null, event: record(['p1', 'p2']) },
      { kind: 'access', salt: SALT, of: -3, prev: null, event: record(['p1']) },
      { kind: 'access', salt: SALT, prev: null, event: record(['p1']) },
      { kind: 'access', salt: SALT, of: 3, event: record(['p1']) },
      { kind: 'access', salt: SALT, of: 3, prev: null, event: record(['p1']), extra: true },
    ];
    for (const entry of refused) expect(() => decodeEntry(bytes(Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : 1))))), JSON.stringify(entry)).toThrow(/malformed/);
  });

  const id = fc.stringMatching(/^[a-z][a-z0-9]{3,11}$/);
  test.prop([fc.uniqueArray(id, { minLength: 2, maxLength: 8 }), fc.nat(), fc.boolean()], runs(300))('an account names only its own patient', (patients, pick, truncated) => {
    const mine = patients[pick % patients.length]!;
    const full = record(patients, {
      query: `_id=${patients.join(',')}`,
      entities: patients.flatMap((p) => [`Patient/${p}`, `Patient/${p}/_history/2`, `Observation/${p}-bp`]),
      ...(truncated ? { entitiesTruncated: true } : {}),
    });
    const account = patientAccount(full, mine);
    const text = encodeEntry({ kind: 'access', salt: SALT, of: 0, prev: null, event: account }).toString('utf8');
    for (const other of patients) if (other !== mine && !mine.includes(other)) expect(text).not.toContain(other);
    expect(account.patients).toEqual([mine]);
    expect(account.entities).toEqual([`Patient/${mine}`, `Patient/${mine}/_history/2`]);
  });
});
