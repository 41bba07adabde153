/**
 * Detection findings over HTTP (/detect/findings, issue 6 §4), on every database: only the
 * security staff (administrator, privacy officer, with an administration token) see and
 * decide them; repeats merge and a flood folds into one visible finding; the lifecycle
 * is enforced (409 otherwise); the explanation and the analyst's note are not stored in
 * clear, and are sealed under the patient's data key when they hold a patient's readings
 * (erasure makes them unreadable, the finding stays); and every read and decision is on
 * the audit ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail, FindingService, openVaultDatabase, type FindingDraft, type Vault } from '../../src/app/index.js';
import { seededRandom, systemClock } from '../../src/kernel/index.js';
import { decodeEntry, type AuditEntry } from '../../src/ledger/index.js';
import { envelopeKeyId } from '../../src/crypto/index.js';
import type { LedgerLog } from '../../src/store/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { openRawDatabase } from '../helpers/raw-database.js';
import { type TestVault } from '../helpers/test-vault.js';
import { bearer, type Users, seededVault } from './access-fixtures.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const ledgerLog = (vault: Vault): LedgerLog => (vault.ledger as unknown as { log: LedgerLog }).log;

const spoof = (device: string, at: number, over: Partial<FindingDraft> = {}): FindingDraft => ({
  device,
  severity: 'high',
  start: at,
  end: at + 1_000,
  summary: 'Vital signs inconsistent with this monitor’s baseline (possible alteration in transit)',
  explanation: {
    detector: 'baseline',
    score: 8.4,
    threshold: 3.5,
    features: [
      { feature: 'SpO2', value: 71.5, baseline: 97, z: -8.4 },
      { feature: 'Pulse_Rate', value: 141, baseline: 78, z: 6.1 },
    ],
  },
  ...over,
});

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`detection findings on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    let admin: Record<string, string>;
    let po: Record<string, string>;
    const call = (method: string, url: string, headers: Record<string, string>, body?: unknown) => t.request(method, url, body, { ...headers, ...(body === undefined ? {} : JSON_TYPE) });

    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      admin = bearer(await users.token('admin'));
      po = bearer(await users.token('privacy-officer'));
    }, 120_000);
    afterAll(async () => t?.close());

    it('keeps everyone but the security staff out, before saying whether a finding exists', async () => {
      const f = await t.vault.findings.raise(spoof('Device/monitor-1', 1_000));
      for (const role of ['clinician', 'nurse', 'patient'] as const) {
        const who = bearer(await users.token(role, { scope: 'user/*.cruds custodia/admin' }).catch(() => users.token(role)));
        expect((await call('GET', '/detect/findings', who)).status, role).toBe(403);
        expect((await call('GET', `/detect/findings/${f.id}`, who)).status, role).toBe(403);
        expect((await call('GET', '/detect/findings/no-such-finding', who)).status, role).toBe(403);
        expect((await call('PATCH', `/detect/findings/${f.id}`, who, { status: 'false-positive' })).status, role).toBe(403);
      }
      expect((await call('GET', '/detect/findings', bearer('garbage'))).status).toBe(401);
      // An administrator signed in for an app (no administration scope) is not let in either.
      expect((await call('GET', '/detect/findings', bearer(await users.token('admin', { scope: 'openid fhirUser user/*.cruds' })))).status).toBe(403);
      // The operator token (custodia token) is let in, as for every administration route.
      expect((await call('GET', `/detect/findings/${f.id}`, bearer(t.token))).body.status).toBe('new');
    });

    it('says that no device is scored here when the detection stream is off', async () => {
      const r = await call('GET', '/detect/devices', admin);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ detecting: false, devices: [] });
      expect((await call('GET', '/detect/devices', bearer(await users.token('nurse')))).status).toBe(403);
    });

    it('holds a device to one budget across processes: a second raiser on its own connection shares it', async () => {
      const db = await openVaultDatabase(t.vault.config);
      try {
        const other = new FindingService(db.findings, new AuditTrail(db.ledger, systemClock, t.vault.config.ledger.audit), systemClock, seededRandom('other-process'), undefined, { buckets: db.sharedBuckets, clock: systemClock });
        const base = 30_000_000;
        for (let i = 0; i < 60; i++) {
          await (i % 2 === 0 ? t.vault.findings : other).raise(spoof('Device/pump-shared', base + i, { explanation: { detector: 'isolation-forest', score: 0.7, threshold: 0.6, features: [{ feature: `f${i}`, value: i }] } }));
        }
        const list = await call('GET', '/detect/findings?device=Device/pump-shared&_count=1000', admin);
        // 20 findings (the burst, once for both), the other 40 folded into one; each process alone would have raised 20.
        expect(list.body.findings).toHaveLength(21);
        expect(list.body.findings.find((f: { explanation: { detector: string } }) => f.explanation.detector === 'rate-limit').count).toBe(40);
      } finally {
        await db.close();
      }
    });

    it('merges repeats, folds a flood into one visible finding, and lists newest first with filters and paging', async () => {
      const base = 10_000_000;
      const first = await t.vault.findings.raise(spoof('Device/monitor-2', base));
      const again = await t.vault.findings.raise(spoof('Device/monitor-2', base + 5_000, { severity: 'critical' }));
      expect(again.id).toBe(first.id);
      expect(again).toMatchObject({ count: 2, severity: 'critical' });
      // 300 distinct detections on one pump: 20 findings (the default burst), the rest in one.
      for (let i = 0; i < 300; i++) {
        await t.vault.findings.raise(spoof('Device/pump-9', base + i, { severity: 'low', explanation: { detector: 'isolation-forest', model: 'iforest-v1', score: 0.7, threshold: 0.6, features: [{ feature: `f${i}`, value: i }] } }));
      }
      const pump = await call('GET', '/detect/findings?device=Device/pump-9&_count=1000', admin);
      expect(pump.status).toBe(200);
      expect(pump.body.findings).toHaveLength(21);
      const folded = pump.body.findings.find((f: { explanation: { detector: string } }) => f.explanation.detector === 'rate-limit');
      expect(folded.count).toBe(280);
      expect(pump.body.findings.reduce((n: number, f: { count: number }) => n + f.count, 0)).toBe(300);
      const seen = pump.body.findings.map((f: { lastSeen: number }) => f.lastSeen);
      expect(seen).toEqual([...seen].sort((a: number, b: number) => b - a));
      // Paging: `next` is the `after` of the next page; the pages cover the list without overlap.
      const ids: string[] = [];
      let next: string | undefined;
      do {
        const page = await call('GET', `/detect/findings?device=Device/pump-9&_count=4${next === undefined ? '' : `&after=${encodeURIComponent(next)}`}`, po);
        expect(page.status).toBe(200);
        ids.push(...page.body.findings.map((f: { id: string }) => f.id));
        next = page.body.next;
      } while (next !== undefined);
      expect(ids).toEqual(pump.body.findings.map((f: { id: string }) => f.id));
      expect((await call('GET', '/detect/findings?severity=critical', po)).body.findings.map((f: { id: string }) => f.id)).toEqual([first.id]);
      for (const bad of ['status=open', 'severity=urgent', '_count=0', '_count=5000', 'since=yesterday', 'after=12', 'colour=red', `device=${'x'.repeat(300)}`]) {
        const r = await call('GET', `/detect/findings?${bad}`, admin);
        expect(r.status, bad).toBe(400);
        expect(r.body.resourceType).toBe('OperationOutcome');
      }
    });

    it('follows the lifecycle: triage, close, reopen; anything else is refused with 409', async () => {
      const f = await t.vault.findings.raise(spoof('Device/monitor-3', 20_000_000));
      const triaged = await call('PATCH', `/detect/findings/${f.id}`, admin, { status: 'triaged', note: 'Asked biomed to check the monitor on ward 4' });
      expect(triaged.status).toBe(200);
      expect(triaged.body).toMatchObject({ status: 'triaged', note: 'Asked biomed to check the monitor on ward 4' });
      expect((await call('PATCH', `/detect/findings/${f.id}`, po, { status: 'confirmed' })).body.status).toBe('confirmed');
      const again = await call('PATCH', `/detect/findings/${f.id}`, po, { status: 'false-positive' });
      expect(again.status).toBe(409);
      expect(again.body.issue[0].code).toBe('business-rule');
      expect((await call('PATCH', `/detect/findings/${f.id}`, po, { status: 'new' })).status).toBe(409);
      expect((await call('PATCH', `/detect/findings/${f.id}`, po, { status: 'triaged' })).body.status).toBe('triaged');
      // A repeat of a closed finding is news; of a triaged one, part of it.
      for (const body of [{ status: 'done' }, { status: 'confirmed', note: 7 }, { status: 'confirmed', colour: 'red' }, [1], 'x']) {
        expect((await call('PATCH', `/detect/findings/${f.id}`, admin, body)).status, JSON.stringify(body)).toBe(400);
      }
      expect((await call('PATCH', '/detect/findings/no-such-finding', admin, { status: 'triaged' })).status).toBe(404);
      expect((await call('GET', '/detect/findings/no-such-finding', admin)).status).toBe(404);
    });

    it('stores neither the explanation nor the note in clear, and records every read and decision', async () => {
      const f = await t.vault.findings.raise(spoof('Device/monitor-4', 30_000_000, { explanation: { detector: 'baseline', score: 9, threshold: 3.5, features: [{ feature: 'Resp_Rate_marker_7731', value: 123.456 }] } }));
      const from = await ledgerLog(t.vault).appendedSize();
      await call('PATCH', `/detect/findings/${f.id}`, admin, { status: 'triaged', note: 'note-marker-5512' });
      await call('GET', `/detect/findings/${f.id}`, po);
      await call('GET', '/detect/findings', bearer(await users.token('clinician')));
      const raw = await openRawDatabase(t.db);
      try {
        const rows = await raw.query<{ detail: Uint8Array; summary: string }>('SELECT detail, summary FROM detect_findings WHERE id = ?', [f.id]);
        const stored = Buffer.from(rows[0]!.detail).toString('latin1');
        expect(stored).not.toContain('Resp_Rate_marker_7731');
        expect(stored).not.toContain('note-marker-5512');
      } finally {
        await raw.close();
      }
      const leaves = await ledgerLog(t.vault).scanLeaves(from, 10_000);
      const events = leaves
        .map((l) => decodeEntry(ledgerLog(t.vault).openLeaf(l)))
        .filter((e): e is AuditEntry => e.kind === 'audit' && e.event.type === 'admin')
        .map((e) => e.event);
      expect(events.map((e) => [e.subtype, e.outcome])).toEqual(
        expect.arrayContaining([
          ['finding-decision', '0'],
          ['findings-read', '0'],
          ['findings-read', '4'],
        ]),
      );
      expect(events.find((e) => e.subtype === 'finding-decision')?.entities).toEqual([`detect/findings/${f.id}`]);
    });

    it('re-seals findings under the new tenant key when data keys rotate, and still reads them', async () => {
      const f = await t.vault.findings.raise(spoof('Device/monitor-5', 40_000_000));
      const raw = await openRawDatabase(t.db);
      const sealedBy = async (): Promise<string> => {
        const [row] = await raw.query<{ detail: Uint8Array }>('SELECT detail FROM detect_findings WHERE id = ?', [f.id]);
        return envelopeKeyId(Buffer.from(row!.detail));
      };
      try {
        const before = await sealedBy();
        const rotation = t.vault.keyRotation!;
        expect(await rotation.retireDataKeys('test')).toBeGreaterThan(0);
        await rotation.resealAll();
        // Moved off the retired key, which rotation could then drop.
        expect(await sealedBy()).not.toBe(before);
        expect((await rotation.status()).dataKeys.filter((k) => k.state === 'retired').reduce((n, k) => n + k.keys, 0)).toBe(0);
      } finally {
        await raw.close();
      }
      expect((await call('GET', `/detect/findings/${f.id}`, admin)).body.explanation.features[0].feature).toBe('SpO2');
    });

    it('seals a finding’s readings of a patient under their data key: rotation keeps them theirs, erasure makes them unreadable, and the finding and its note stay', async () => {
      const f = await t.vault.findings.raise(spoof('Device/bedside-2', 50_000_000, { patient: 'Patient/p2' }));
      const tenantSealed = await t.vault.findings.raise(spoof('Device/monitor-7', 50_000_000));
      const raw = await openRawDatabase(t.db);
      const stored = async (id: string): Promise<Buffer> => Buffer.from((await raw.query<{ detail: Uint8Array }>('SELECT detail FROM detect_findings WHERE id = ?', [id]))[0]!.detail);
      try {
        // The whole detail under the tenant key, the readings inside it under the patient's.
        expect(envelopeKeyId(await stored(f.id))).toBe(envelopeKeyId(await stored(tenantSealed.id)));
        expect((await call('GET', `/detect/findings/${f.id}`, admin)).body).toMatchObject({ patient: 'Patient/p2', explanation: { features: [{ feature: 'SpO2', value: 71.5 }, { feature: 'Pulse_Rate' }] } });
        expect((await call('PATCH', `/detect/findings/${f.id}`, admin, { status: 'triaged', note: 'biomed checks the bedside monitor' })).status).toBe(200);
        // Rotation moves both layers, each under its owner's new key: the readings still open, and every retired key goes.
        const rotation = t.vault.keyRotation!;
        await rotation.retireDataKeys('test');
        await rotation.resealAll();
        expect((await rotation.status()).dataKeys.filter((k) => k.state === 'retired').reduce((n, k) => n + k.keys, 0)).toBe(0);
        expect((await call('GET', `/detect/findings/${f.id}`, admin)).body).toMatchObject({ patient: 'Patient/p2', explanation: { features: [{ feature: 'SpO2', value: 71.5 }, { feature: 'Pulse_Rate' }] } });

        expect((await call('POST', '/fhir/Patient/p2/$erase', po, { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Art. 17 request, ticket 4713' }] })).status).toBe(200);
        const after = await call('GET', `/detect/findings/${f.id}`, admin);
        expect(after.status).toBe(200);
        // Still under the patient's key after rotation, so gone with it; the finding and the analyst's note stay.
        expect(after.body).toMatchObject({ id: f.id, device: 'Device/bedside-2', severity: 'high', status: 'triaged', note: 'biomed checks the bedside monitor', count: 1, summary: f.summary, explanation: { detector: 'baseline', score: 0, threshold: 0, features: [], erased: true } });
        expect(after.body.patient).toBeUndefined();
        expect(JSON.stringify(after.body)).not.toContain('71.5');
        expect((await call('GET', '/detect/findings?device=Device%2Fbedside-2', admin)).body.findings).toHaveLength(1);
        // A repeat for the erased patient is someone else's readings: kept under the tenant key, readable.
        const again = await t.vault.findings.raise(spoof('Device/bedside-2', 50_010_000, { patient: 'Patient/p2' }));
        expect(again.id).toBe(f.id);
        expect((await call('GET', `/detect/findings/${f.id}`, admin)).body).toMatchObject({ count: 2, status: 'triaged', note: 'biomed checks the bedside monitor', explanation: { features: [{ feature: 'SpO2' }, { feature: 'Pulse_Rate' }] } });
      } finally {
        await raw.close();
      }
    });
  });
}
