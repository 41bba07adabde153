/**
 * The audit trail (issue 5 §1) over real HTTP, on every database: each FHIR interaction
 * becomes exactly one audit entry in the ledger with the IHE BALP fields (who, what, which
 * patients, why, how it ended); a write and its record commit together, a failed write
 * leaves only its failure record; failed sign-ins and not-found reads are recorded, 429s
 * are not; when no record can be written the request fails closed (503, nothing
 * disclosed, nothing written); records about one patient are sealed under that patient's
 * data key, and erasing the patient makes them unreadable while the log stays provable.
 */
import { decodeJwt } from 'jose';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { startListeningVault, type ListeningVault } from '../helpers/listening-vault.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { decodeEntry, ed25519NoteVerifier, encodeEntry, hashLeaf, merkleRoot, NoteVerifierSet, openCheckpoint, verifyInclusion, type AuditEntry, type AccessEntry, type AuditRecord, type LedgerEntry, type VersionEntry } from '../../src/ledger/index.js';
import type { LedgerLog } from '../../src/store/index.js';
import { verifyLedger, type Vault } from '../../src/app/index.js';
import { isCustodiaError } from '../../src/kernel/index.js';

const NO_LIMIT = { perSecond: 1_000_000, burst: 1_000_000 };
/** Users are unlimited; the SMART app `flood-app` gets three requests and then (practically) none. */
const RATE_LIMITS = { user: NO_LIMIT, client: { perSecond: 0.001, burst: 3 }, token: NO_LIMIT, unauthenticated: { perSecond: 0.001, burst: 4 } };
const PASSWORD = 'a long enough passphrase 42';
const REASON = { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Art. 17 request, ticket 4711' }] };

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: any;
}

interface Opened {
  readonly idx: number;
  readonly keyId: string | null;
  readonly entry: LedgerEntry;
}

/** The vault's ledger tables (the LedgerService's storage port). */
const ledgerLog = (vault: Vault): LedgerLog => (vault.ledger as unknown as { log: LedgerLog }).log;

const audits = (entries: readonly Opened[]): AuditRecord[] => entries.filter((e) => e.entry.kind === 'audit').map((e) => (e.entry as AuditEntry).event);
const versions = (entries: readonly Opened[]): VersionEntry[] => entries.filter((e) => e.entry.kind === 'version').map((e) => e.entry as VersionEntry);
const errorCode = (a: Answer): string | undefined => a.body?.issue?.[0]?.details?.coding?.[0]?.code;

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`audit trail on ${dialect}`, () => {
    let lv: ListeningVault;
    let raw: RawDatabase;
    let operator: string;
    let clinician: string;
    let clinicianId: string;
    let flood: string;
    let privacyOfficer: string;

    const log = (): LedgerLog => ledgerLog(lv.vault);
    const call = async (method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
      const res = await fetch(`${lv.origin}${path}`, {
        method,
        headers: {
          accept: 'application/fhir+json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, text, body: parsed };
    };
    /** Runs `fn` and returns, opened and decoded, the ledger entries it appended. */
    const appendedBy = async (fn: () => Promise<unknown>): Promise<Opened[]> => {
      const from = await log().appendedSize();
      await fn();
      const leaves = await log().scanLeaves(from, 10_000);
      return leaves.map((l) => ({ idx: l.idx, keyId: l.keyId, entry: decodeEntry(log().openLeaf(l)) }));
    };
    /** The one audit record `fn` appended (and that it appended nothing else but version commitments). */
    const oneAudit = async (fn: () => Promise<unknown>): Promise<{ record: AuditRecord; entries: Opened[] }> => {
      const entries = await appendedBy(fn);
      const records = audits(entries);
      expect(records, JSON.stringify(records)).toHaveLength(1);
      return { record: records[0]!, entries };
    };
    const storedContent = async (type: string, id: string, versionId: number): Promise<{ content: Buffer | null; key_id: string | null }> => {
      const rows = await raw.query<{ content: Buffer | null; key_id: string | null }>('SELECT content, key_id FROM resource_versions WHERE res_type = ? AND res_id = ? AND version_id = ?', [type, id, versionId]);
      expect(rows).toHaveLength(1);
      return rows[0]!;
    };
    // With the id of the token the request carried (never the token), IHE BALP's agent.policy.
    const clinicianAgent = () => ({ who: 'Practitioner/dr1', onBehalfOf: `user:${clinicianId}`, roles: ['clinician'], address: '127.0.0.1', token: decodeJwt(clinician).jti });

    beforeAll(async () => {
      lv = await startListeningVault(dialect, { rateLimits: RATE_LIMITS });
      raw = await openRawDatabase({ name: dialect, options: { database: lv.config.database, ...(lv.config.postgresSchema === undefined ? {} : { schema: lv.config.postgresSchema }) } } as TestDatabase);
      const v = lv.vault;
      operator = await v.tokens.issue({ subject: 'audit-operator', scope: 'system/*.cruds', ttlSeconds: 3600 });
      const dr1 = await v.identity.addUser({ username: 'u-clinician', role: 'clinician', password: PASSWORD, fhirUser: 'Practitioner/dr1' });
      clinicianId = dr1.user.id;
      clinician = await v.tokens.issue({ subject: clinicianId, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/dr1', scope: 'user/*.cruds', ttlSeconds: 3600 });
      flood = await v.tokens.issue({ subject: clinicianId, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/dr1', clientId: 'flood-app', scope: 'user/*.cruds', ttlSeconds: 3600 });
      const po = await v.identity.addUser({ username: 'u-privacy', role: 'privacy-officer', password: PASSWORD });
      privacyOfficer = await v.tokens.issue({ subject: po.user.id, kind: 'user', role: 'privacy-officer', scope: 'user/*.cruds custodia/admin', ttlSeconds: 3600 });
      const put = async (r: { resourceType: string; id: string } & Record<string, unknown>): Promise<void> => {
        const res = await call('PUT', `/fhir/${r.resourceType}/${r.id}`, operator, r);
        if (res.status >= 300) throw new Error(`seed ${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
      };
      await put({ resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Doctor' }] });
      for (const id of ['pa', 'pb', 'pz']) await put({ resourceType: 'Patient', id, name: [{ family: `Family-${id}` }], gender: 'female' });
      await put({ resourceType: 'Observation', id: 'o-pa', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/pa' } });
      await put({ resourceType: 'Observation', id: 'o-pb', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/pb' } });
      await put({ resourceType: 'Observation', id: 'o-del', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/pb' } });
    }, 120_000);
    afterAll(async () => {
      await raw?.close();
      await lv?.close();
    });

    it('records a create once, in the same commit as its version commitment', async () => {
      const before = Date.now();
      let created!: Answer;
      const entries = await appendedBy(async () => {
        created = await call('POST', '/fhir/Patient', clinician, { resourceType: 'Patient', name: [{ family: 'Audit-Create' }] });
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect(entries.map((e) => e.entry.kind)).toEqual(['version', 'audit']);
      const [version] = versions(entries);
      const stored = await storedContent('Patient', id, 1);
      expect(version).toMatchObject({ kind: 'version', type: 'Patient', id, versionId: 1, sha256: createHash('sha256').update(stored.content!).digest('base64') });
      const [record] = audits(entries);
      expect(record).toEqual({
        at: expect.any(Number),
        type: 'rest',
        subtype: 'create',
        action: 'C',
        outcome: '0',
        agent: clinicianAgent(),
        purposeOfUse: 'TREAT',
        patients: [id],
        entities: [`Patient/${id}/_history/1`],
      });
      expect(record!.at).toBeGreaterThanOrEqual(before - 1000);
      expect(record!.at).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('records a read and a vread once each, with the version and the patient disclosed', async () => {
      const read = await oneAudit(async () => expect((await call('GET', '/fhir/Patient/pa', clinician)).status).toBe(200));
      expect(read.entries).toHaveLength(1);
      expect(read.record).toEqual({
        at: expect.any(Number),
        type: 'rest',
        subtype: 'read',
        action: 'R',
        outcome: '0',
        agent: clinicianAgent(),
        purposeOfUse: 'TREAT',
        patients: ['pa'],
        entities: ['Patient/pa/_history/1'],
      });
      const vread = await oneAudit(async () => expect((await call('GET', '/fhir/Observation/o-pa/_history/1', clinician)).status).toBe(200));
      expect(vread.entries).toHaveLength(1);
      expect(vread.record).toMatchObject({ type: 'rest', subtype: 'vread', action: 'R', outcome: '0', patients: ['pa'], entities: ['Observation/o-pa/_history/1'] });
      expect(vread.record.outcomeCode).toBeUndefined();
    });

    it('records an update and a history-instance read of every version returned', async () => {
      const update = await oneAudit(async () => expect((await call('PUT', '/fhir/Patient/pa', clinician, { resourceType: 'Patient', id: 'pa', name: [{ family: 'Family-pa' }], gender: 'other' })).status).toBe(200));
      expect(update.entries.map((e) => e.entry.kind)).toEqual(['version', 'audit']);
      expect(versions(update.entries)[0]).toMatchObject({ type: 'Patient', id: 'pa', versionId: 2 });
      expect(update.record).toMatchObject({ type: 'rest', subtype: 'update', action: 'U', outcome: '0', agent: clinicianAgent(), patients: ['pa'], entities: ['Patient/pa/_history/2'] });

      let history!: Answer;
      const h = await oneAudit(async () => {
        history = await call('GET', '/fhir/Patient/pa/_history', clinician);
      });
      expect(history.status).toBe(200);
      expect(history.body.total ?? history.body.entry.length).toBe(2);
      expect(h.entries).toHaveLength(1);
      expect(h.record).toMatchObject({ type: 'rest', subtype: 'history-instance', action: 'R', outcome: '0', agent: clinicianAgent(), purposeOfUse: 'TREAT', patients: ['pa'] });
      expect([...h.record.entities].sort()).toEqual(['Patient/pa/_history/1', 'Patient/pa/_history/2']);
    });

    it("records a search with every returned patient's id and the query as sent", async () => {
      let res!: Answer;
      const s = await oneAudit(async () => {
        res = await call('GET', '/fhir/Observation?_id=o-pa,o-pb', clinician);
      });
      expect(res.status).toBe(200);
      expect(res.body.entry).toHaveLength(2);
      // The event in full, then each patient's account of it (ledger/patient-chain.ts): theirs alone, without the query.
      expect(s.entries.map((e) => e.entry.kind)).toEqual(['audit', 'access', 'access']);
      expect(s.record).toMatchObject({ type: 'rest', subtype: 'search-type', action: 'R', outcome: '0', agent: clinicianAgent(), purposeOfUse: 'TREAT', patients: ['pa', 'pb'] });
      const accounts = s.entries.slice(1).map((e) => e.entry as AccessEntry);
      expect(accounts.map((a) => [a.of, a.event.patients, a.event.query])).toEqual([[s.entries[0]!.idx, ['pa'], undefined], [s.entries[0]!.idx, ['pb'], undefined]]);
      expect([...s.record.entities].sort()).toEqual(['Observation/o-pa/_history/1', 'Observation/o-pb/_history/1']);
      expect(new URLSearchParams(s.record.query).get('_id')).toBe('o-pa,o-pb');

      // Included resources are disclosed too: their patients are named.
      const inc = await oneAudit(async () => expect((await call('GET', '/fhir/Observation?_id=o-pa&_include=Observation:subject', clinician)).status).toBe(200));
      expect(inc.record.patients).toEqual(['pa']);
      expect([...inc.record.entities].sort()).toEqual(['Observation/o-pa/_history/1', 'Patient/pa/_history/2']);
    });

    it('records a delete once, with its (empty) version commitment', async () => {
      let res!: Answer;
      const d = await oneAudit(async () => {
        res = await call('DELETE', '/fhir/Observation/o-del', operator);
      });
      expect([200, 204]).toContain(res.status);
      expect(d.entries.map((e) => e.entry.kind)).toEqual(['version', 'audit']);
      expect(versions(d.entries)[0]).toMatchObject({ type: 'Observation', id: 'o-del', versionId: 2, sha256: null });
      expect(d.record).toMatchObject({ type: 'rest', subtype: 'delete', action: 'D', outcome: '0', entities: ['Observation/o-del/_history/2'] });
      expect(d.record.agent.who).toBe('operator');
      expect(d.record.agent.onBehalfOf).toBeUndefined();
    });

    it("names the patient whose record a delete changed (the deleted Observation was Patient/pb's)", async () => {
      await call('PUT', '/fhir/Observation/o-del2', operator, { resourceType: 'Observation', id: 'o-del2', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/pb' } });
      const d = await oneAudit(async () => expect([200, 204]).toContain((await call('DELETE', '/fhir/Observation/o-del2', operator)).status));
      expect(d.record.patients).toEqual(['pb']);
    });

    it('leaves no version commitment for a failed write, only one failure record with the error code', async () => {
      // A stale If-Match: Patient/pa is at version 2.
      let stale!: Answer;
      const conflict = await oneAudit(async () => {
        stale = await call('PUT', '/fhir/Patient/pa', clinician, { resourceType: 'Patient', id: 'pa', gender: 'male' }, { 'if-match': 'W/"1"' });
      });
      expect(stale.status).toBe(412);
      expect(conflict.entries).toHaveLength(1);
      expect(versions(conflict.entries)).toEqual([]);
      expect(conflict.record).toEqual({
        at: expect.any(Number),
        type: 'rest',
        subtype: 'update',
        action: 'U',
        outcome: '4',
        outcomeCode: 'precondition-failed',
        agent: clinicianAgent(),
        purposeOfUse: 'TREAT',
        patients: ['pa'],
        entities: ['Patient/pa'],
      });
      expect(errorCode(stale)).toBe('precondition-failed');
      expect((await call('GET', '/fhir/Patient/pa', operator)).body.meta.versionId).toBe('2');

      // A resource that breaks R4: nothing stored, the refusal recorded with its code.
      let invalid!: Answer;
      const bad = await oneAudit(async () => {
        invalid = await call('POST', '/fhir/Patient', clinician, { resourceType: 'Patient', gender: 'banana', name: [{ family: 'Never-Stored' }] });
      });
      expect(invalid.status).toBeGreaterThanOrEqual(400);
      expect(invalid.status).toBeLessThan(500);
      expect(bad.entries).toHaveLength(1);
      expect(bad.record).toMatchObject({ type: 'rest', subtype: 'create', action: 'C', outcome: '4', outcomeCode: errorCode(invalid), patients: [], entities: [] });
      expect(['resource-invalid', 'resource-structure']).toContain(bad.record.outcomeCode);
      expect(JSON.stringify(bad.record)).not.toContain('Never-Stored');
    });

    it('records a failed authentication as authn-failure, and a read of nothing as resource-not-found', async () => {
      const bad = await oneAudit(async () => expect((await call('GET', '/fhir/Patient/pa', 'not.a.token')).status).toBe(401));
      expect(bad.entries).toHaveLength(1);
      expect(bad.record).toEqual({
        at: expect.any(Number),
        type: 'authn-failure',
        subtype: 'bearer-token',
        action: 'E',
        outcome: '4',
        outcomeCode: 'token-invalid',
        agent: { who: 'anonymous', address: '127.0.0.1' },
        patients: [],
        entities: [],
      });
      const none = await oneAudit(async () => expect((await call('GET', '/fhir/Patient/pa', undefined)).status).toBe(401));
      expect(none.record).toMatchObject({ type: 'authn-failure', outcome: '4', outcomeCode: 'unauthenticated' });

      const missing = await oneAudit(async () => expect((await call('GET', '/fhir/Patient/nobody', clinician)).status).toBe(404));
      expect(missing.entries).toHaveLength(1);
      expect(missing.record).toMatchObject({ type: 'rest', subtype: 'read', action: 'R', outcome: '4', outcomeCode: 'resource-not-found', agent: clinicianAgent(), patients: ['nobody'], entities: ['Patient/nobody'] });
    });

    it('does not record rate-limited requests (429)', async () => {
      const admitted = await appendedBy(async () => {
        for (let i = 0; i < 3; i++) expect((await call('GET', '/fhir/Patient/pb', flood)).status).toBe(200);
      });
      expect(audits(admitted)).toHaveLength(3);
      expect(audits(admitted).every((r) => r.agent.client === 'flood-app' && r.subtype === 'read')).toBe(true);
      const refused = await appendedBy(async () => {
        for (let i = 0; i < 5; i++) expect((await call('GET', '/fhir/Patient/pb', flood)).status).toBe(429);
      });
      expect(refused).toEqual([]);
      // Refused tokens are recorded up to the address's limit (4 here, the test before spent some); then 429, recorded by no one, while a good token from the same address goes on.
      let recorded = 0;
      const flooded = await appendedBy(async () => {
        for (let i = 0; i < 6; i++) {
          const status = (await call('GET', '/fhir/Patient/pb', `bad.token.${i}`)).status;
          if (status === 401) recorded++;
          else expect(status).toBe(429);
        }
      });
      expect(recorded).toBeLessThanOrEqual(4);
      expect(audits(flooded)).toHaveLength(recorded);
      expect(audits(flooded).every((r) => r.type === 'authn-failure')).toBe(true);
      expect((await call('GET', '/fhir/Patient/pb', clinician)).status).toBe(200);
    });

    it('gives concurrent requests one record each, at dense indexes', async () => {
      const from = await log().appendedSize();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call('GET', `/fhir/${i % 2 === 0 ? 'Patient/pa' : 'Observation/o-pb'}`, clinician)));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 200));
      const leaves = await log().scanLeaves(from, 1000);
      expect(leaves.map((l) => l.idx)).toEqual(Array.from({ length: 20 }, (_, i) => from + i));
      const records = leaves.map((l) => (decodeEntry(log().openLeaf(l)) as AuditEntry).event);
      expect(records.filter((r) => r.entities[0] === 'Patient/pa/_history/2')).toHaveLength(10);
      expect(records.filter((r) => r.entities[0] === 'Observation/o-pb/_history/1')).toHaveLength(10);
    });

    it('creates no data key for a patient that does not exist when it records a read of them', async () => {
      const keystore = new BetterSqlite3(join(lv.dataDir, 'keys', 'keystore.db'), { readonly: true });
      try {
        const keysOf = (owner: string): number => (keystore.prepare('SELECT COUNT(*) AS n FROM data_keys WHERE owner = ?').get(owner) as { n: number }).n;
        const r = await oneAudit(async () => expect((await call('GET', '/fhir/Patient/ghost-1', clinician)).status).toBe(404));
        expect(r.record.patients).toEqual(['ghost-1']);
        // A GET of an id nobody has must not leave durable state behind (one key per guessed id, unbounded).
        expect(keysOf('Patient/ghost-1')).toBe(0);
      } finally {
        keystore.close();
      }
    });

    describe('when no audit record can be written', () => {
      const block = async (): Promise<void> => {
        if (dialect === 'sqlite') {
          await raw.query(`CREATE TRIGGER test_block_ledger BEFORE INSERT ON ledger_leaves BEGIN SELECT RAISE(ABORT, 'ledger blocked by test'); END`);
        } else {
          await raw.query(`CREATE FUNCTION test_block_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger blocked by test'; END $$`);
          await raw.query('CREATE TRIGGER test_block_ledger BEFORE INSERT ON ledger_leaves FOR EACH ROW EXECUTE FUNCTION test_block_ledger()');
        }
      };
      const unblock = async (): Promise<void> => {
        if (dialect === 'sqlite') {
          await raw.query('DROP TRIGGER IF EXISTS test_block_ledger');
        } else {
          await raw.query('DROP TRIGGER IF EXISTS test_block_ledger ON ledger_leaves');
          await raw.query('DROP FUNCTION IF EXISTS test_block_ledger()');
        }
      };
      afterAll(async () => unblock());

      it('fails closed: a read answers 503 transient without the data, a write stores nothing', async () => {
        expect((await call('GET', '/fhir/Patient/pb', clinician)).status).toBe(200);
        const versionsBefore = (await raw.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM resource_versions'))[0]!.n;
        const sizeBefore = await log().appendedSize();
        await block();
        try {
          const read = await call('GET', '/fhir/Patient/pb', clinician);
          expect(read.status).toBe(503);
          expect(read.body.resourceType).toBe('OperationOutcome');
          expect(read.body.issue[0].code).toBe('transient');
          expect(errorCode(read)).toBe('audit-unavailable');
          expect(read.text).not.toContain('Family-pb');
          expect(read.text).not.toContain('"resourceType":"Patient"');

          const search = await call('GET', '/fhir/Observation?_id=o-pa,o-pb', clinician);
          expect(search.status).toBe(503);
          expect(search.text).not.toContain('pulse');

          const create = await call('POST', '/fhir/Patient', clinician, { resourceType: 'Patient', name: [{ family: 'Fail-Closed' }] });
          expect(create.status).toBeGreaterThanOrEqual(500);
          expect(create.body.resourceType).toBe('OperationOutcome');
          expect(create.text).not.toContain('Fail-Closed');
          const upsert = await call('PUT', '/fhir/Patient/fail-closed', operator, { resourceType: 'Patient', id: 'fail-closed', name: [{ family: 'Fail-Closed' }] });
          expect(upsert.status).toBeGreaterThanOrEqual(500);
          const update = await call('PUT', '/fhir/Patient/pb', operator, { resourceType: 'Patient', id: 'pb', name: [{ family: 'Family-pb' }], gender: 'male' });
          expect(update.status).toBeGreaterThanOrEqual(500);
          expect(await log().appendedSize()).toBe(sizeBefore);
        } finally {
          await unblock();
        }
        expect((await raw.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM resource_versions'))[0]!.n).toEqual(versionsBefore);
        expect((await call('GET', '/fhir/Patient/fail-closed', operator)).status).toBe(404);
        expect((await call('GET', '/fhir/Patient/pb', operator)).body.gender).toBe('female');
        expect((await call('GET', '/fhir/Patient?family=Fail-Closed&_summary=count', operator)).body.total).toBe(0);
        // And once the ledger takes records again, so does the vault.
        expect((await call('GET', '/fhir/Patient/pb', clinician)).status).toBe(200);
      });

      it('answers a write whose record cannot be written as a read is answered: 503 audit-unavailable', async () => {
        await block();
        try {
          const create = await call('POST', '/fhir/Patient', clinician, { resourceType: 'Patient', name: [{ family: 'Fail-Closed-2' }] });
          expect(create.status).toBe(503);
          expect(create.body.issue[0].code).toBe('transient');
          expect(errorCode(create)).toBe('audit-unavailable');
        } finally {
          await unblock();
        }
      });
    });

    describe("records about one patient, and that patient's erasure", () => {
      let single: Opened[];
      let multi: Opened;
      let patientKey: string;

      it("are sealed under the patient's data key, never stored as plain JSON", async () => {
        // Two records about pz alone: a read and an update (the update also commits a version, in clear).
        const read = await appendedBy(async () => expect((await call('GET', '/fhir/Patient/pz', clinician)).status).toBe(200));
        const write = await appendedBy(async () => expect((await call('PUT', '/fhir/Patient/pz', clinician, { resourceType: 'Patient', id: 'pz', name: [{ family: 'Family-pz' }], gender: 'male' })).status).toBe(200));
        single = [...read, ...write].filter((e) => e.entry.kind === 'audit');
        expect(single.map((e) => (e.entry as AuditEntry).event.patients)).toEqual([['pz'], ['pz']]);
        patientKey = (await storedContent('Patient', 'pz', 2)).key_id!;
        expect(patientKey).toEqual(expect.any(String));
        for (const e of single) {
          const row = (await raw.query<{ key_id: string | null; entry: Buffer; kind: string }>('SELECT key_id, entry, kind FROM ledger_leaves WHERE idx = ?', [e.idx]))[0]!;
          expect(row.kind).toBe('audit');
          expect(row.key_id).toBe(patientKey);
          const bytes = Buffer.from(row.entry);
          expect(bytes.includes(Buffer.from('"kind"'))).toBe(false);
          expect(bytes.includes(Buffer.from('Practitioner/dr1'))).toBe(false);
          expect(() => JSON.parse(bytes.toString('utf8'))).toThrow();
        }
        // The version commitment says nothing the version row does not: stored in clear.
        const commit = write.find((e) => e.entry.kind === 'version')!;
        const row = (await raw.query<{ key_id: string | null; entry: Buffer }>('SELECT key_id, entry FROM ledger_leaves WHERE idx = ?', [commit.idx]))[0]!;
        expect(row.key_id).toBeNull();
        expect(decodeEntry(Buffer.from(row.entry))).toMatchObject({ kind: 'version', type: 'Patient', id: 'pz', versionId: 2 });
        // A record about two patients is sealed under the tenant key, not pz's.
        const both = await appendedBy(async () => expect((await call('GET', '/fhir/Patient?_id=pz,pb', clinician)).status).toBe(200));
        multi = both[0]!;
        expect((multi.entry as AuditEntry).event.patients).toEqual(['pb', 'pz']);
        expect(multi.keyId).not.toBeNull();
        expect(multi.keyId).not.toBe(patientKey);
      });

      it('cannot be opened once the patient is erased, yet their leaves stay provable in the log', async () => {
        const erase = await fetch(`${lv.origin}/fhir/Patient/pz/$erase`, {
          method: 'POST',
          headers: { authorization: `Bearer ${privacyOfficer}`, 'content-type': 'application/json' },
          body: JSON.stringify(REASON),
        });
        expect(erase.status).toBe(200);
        for (const e of single) {
          let thrown: unknown;
          try {
            await log().entry(e.idx);
          } catch (err) {
            thrown = err;
          }
          expect(isCustodiaError(thrown, 'resource-erased'), String(thrown)).toBe(true);
          const overHttp = await call('GET', `/ledger/entry/${e.idx}`, operator);
          expect(overHttp.status).toBe(410);
          expect(overHttp.text).not.toContain('Practitioner/dr1');
        }
        // The record about two patients is not the erased patient's alone: still readable.
        expect(decodeEntry((await log().entry(multi.idx))!.bytes)).toEqual(multi.entry);
        // An attempt to read the erased record is recorded, under the tenant key (no new key for pz).
        const attempt = await oneAudit(async () => expect((await call('GET', '/fhir/Patient/pz', clinician)).status).toBe(410));
        expect(attempt.record).toMatchObject({ type: 'rest', subtype: 'read', outcome: '4', outcomeCode: 'resource-erased', patients: ['pz'], entities: ['Patient/pz'] });
        expect(attempt.entries[0]!.keyId).not.toBeNull();
        expect(attempt.entries[0]!.keyId).toBe(multi.keyId);
        expect(decodeEntry((await log().entry(attempt.entries[0]!.idx))!.bytes)).toEqual(attempt.entries[0]!.entry);

        const cp = await lv.vault.ledger.catchUp();
        const vkey = lv.vault.ledger.verifierKey;
        const { checkpoint } = openCheckpoint(cp.note, new NoteVerifierSet([ed25519NoteVerifier(vkey)]));
        expect(checkpoint.size).toBe(await log().appendedSize());
        const leafHashes = await log().leafHashes(0, checkpoint.size);
        expect(merkleRoot(leafHashes).equals(checkpoint.rootHash)).toBe(true);
        for (const e of single) {
          const row = (await raw.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM ledger_leaves WHERE idx = ?', [e.idx]))[0]!;
          // The leaf is what the entry hashed to before the erasure.
          expect(Buffer.from(row.leaf_hash).equals(hashLeaf(encodeEntry(e.entry)))).toBe(true);
          const res = await fetch(`${lv.origin}/ledger/proof/inclusion?index=${e.idx}&size=${checkpoint.size}`);
          expect(res.status).toBe(200);
          const proof = ((await res.json()) as { hashes: string[] }).hashes.map((h) => Buffer.from(h, 'base64'));
          expect(() => verifyInclusion(e.idx, checkpoint.size, row.leaf_hash, proof, checkpoint.rootHash)).not.toThrow();
          expect(() => verifyInclusion(e.idx, checkpoint.size, hashLeaf(Buffer.from('forged')), proof, checkpoint.rootHash)).toThrow();
        }
      });
    });

    it('leaves a log that `custodia ledger verify` finds sound, erased entries counted as such', async () => {
      await lv.vault.ledger.catchUp();
      const v = await verifyLedger(log(), lv.vault.ledger.verifierKey);
      expect(v.problems).toEqual([]);
      expect(v.ok).toBe(true);
      expect(v.leaves).toBe(await log().appendedSize());
      expect(v.checkpointedSize).toBe(v.leaves);
      expect(v.erasedEntries).toBeGreaterThanOrEqual(2);
    });

    it('keeps every record well formed whatever the caller puts in X-Purpose-Of-Use', async () => {
      for (const purpose of ['P'.repeat(100), '']) {
        const from = await log().appendedSize();
        const res = await call('GET', '/fhir/Patient/pa', clinician, undefined, { 'x-purpose-of-use': purpose });
        const leaves = await log().scanLeaves(from, 1000);
        expect(leaves.length, `status ${res.status}`).toBeGreaterThanOrEqual(1);
        await lv.vault.ledger.catchUp();
        // What `custodia ledger verify` (and an auditor's own tool, through decodeEntry) makes of the log now.
        expect((await verifyLedger(log(), lv.vault.ledger.verifierKey)).problems, `purpose of ${purpose.length} characters, answered ${res.status}`).toEqual([]);
        for (const leaf of leaves) expect(() => decodeEntry(log().openLeaf(leaf))).not.toThrow();
      }
    });
  });
}
