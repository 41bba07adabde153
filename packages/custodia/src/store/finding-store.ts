/**
 * Detection findings (migration 0019) over the vault's database. The explanation and the
 * analyst's note are sealed together as `detail` under the tenant key (purpose `finding`,
 * subject the finding id, so a detail copied onto another finding does not open). When
 * the explanation holds a patient's readings (`Finding.patient`, a vital-sign finding of
 * a Device attached to them), it is sealed once more, inside, under that patient's data
 * key (purpose `finding-readings`): erasing the patient makes the readings unreadable in
 * the database and every copy of it, while the finding, its status and the analyst's
 * note stay — security-incident records are kept (HIPAA 45 CFR 164.316(b)(2): six years);
 * its explanation then reads as `erased` (no features, score or threshold). Data-key
 * rotation re-seals both layers, each under the current key of its own owner
 * (`resealFindings`). Every update is a compare-and-set on
 * `version`: two analysts, or an analyst and a detector merging a repeat, cannot undo
 * each other silently (`storage-conflict`, retry).
 */
import { sql, type Kysely } from 'kysely';
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { isFindingStatus, isSeverity, type Finding, type FindingExplanation, type FindingStatus, type Severity } from '../detect/index.js';
import type { AtRest } from './at-rest.js';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';
import { resealSecretRows, type ResealOutcome } from './reseal-secrets.js';
import { envelopeKeyId } from '../crypto/index.js';

const PURPOSE = 'finding';

/** A finding as stored, with the version its next update must name. */
export interface StoredFinding {
  readonly finding: Finding;
  readonly version: number;
}

export interface FindingQuery {
  readonly status?: FindingStatus;
  readonly severity?: Severity;
  readonly device?: string;
  /** Only findings last seen at or after (epoch ms). */
  readonly since?: number;
  /** Paging: only findings after this one in the list's order (last seen, then id, both descending). */
  readonly after?: { readonly lastSeen: number; readonly id: string };
  readonly limit: number;
}

export interface FindingStore {
  /** The most recently seen finding under a dedup key (detect/finding.ts). */
  latestByKey(key: string): Promise<StoredFinding | undefined>;
  get(id: string): Promise<StoredFinding | undefined>;
  /** Inserts a new finding (`version` undefined) or replaces one still at `version`; `storage-conflict` otherwise. */
  save(f: Finding, key: string, version: number | undefined): Promise<void>;
  /** Newest first. */
  list(q: FindingQuery): Promise<Finding[]>;
  /** Re-seals details sealed by `keyIds` under the current key of the same owner (the tenant, or a patient); which of them still seal one. */
  resealFindings(keyIds: readonly string[]): Promise<ResealOutcome>;
}

interface Row {
  id: string;
  detector: string;
  device: string;
  severity: string;
  status: string;
  count: number | string;
  start_at: number | string;
  end_at: number | string;
  first_seen: number | string;
  last_seen: number | string;
  updated_at: number | string;
  updated_by: string | null;
  summary: string;
  detail: Buffer;
  version: number | string;
}

/** What the tenant key seals. The explanation is in clear inside it, or sealed again under the patient's key (base64). */
interface Detail {
  readonly explanation?: FindingExplanation;
  readonly readings?: string;
  readonly note?: string;
  readonly patient?: string;
}

const READINGS = 'finding-readings';
const erasedExplanation = (detector: string): FindingExplanation => ({ detector, score: 0, threshold: 0, features: [], erased: true });

const damaged = (): CustodiaError => new CustodiaError('decrypt-failed', 'A stored finding is damaged');

function toFinding(at: AtRest, r: Row): StoredFinding {
  // The row is what the database holds: its detail is authenticated (sealed), its plain columns are checked.
  if (!isSeverity(r.severity) || !isFindingStatus(r.status)) throw damaged();
  const detail = openDetail(at, r.id, r.detail);
  const readings = openReadings(at, r.id, detail, r.detector);
  const finding: Finding = {
    id: r.id,
    device: r.device,
    severity: r.severity,
    status: r.status,
    count: Number(r.count),
    start: Number(r.start_at),
    end: Number(r.end_at),
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    updatedAt: Number(r.updated_at),
    ...(r.updated_by === null ? {} : { updatedBy: r.updated_by }),
    summary: r.summary,
    explanation: readings.explanation,
    ...(detail.note === undefined ? {} : { note: detail.note }),
    ...(readings.patient === undefined ? {} : { patient: readings.patient }),
  };
  return { finding, version: Number(r.version) };
}

const openDetail = (at: AtRest, id: string, sealed: Uint8Array): Detail => JSON.parse(at.openSecret(PURPOSE, id, sealed).toString('utf8')) as Detail;

/** The explanation and whose readings it holds; `erased` when that patient was (their key is gone, and with it the readings). */
function openReadings(at: AtRest, id: string, d: Detail, detector: string): { explanation: FindingExplanation; patient?: string } {
  if (d.readings === undefined) {
    if (d.explanation === undefined) throw damaged();
    return { explanation: d.explanation, ...(d.patient === undefined ? {} : { patient: d.patient }) };
  }
  try {
    const explanation = JSON.parse(at.openSecret(READINGS, id, Buffer.from(d.readings, 'base64')).toString('utf8')) as FindingExplanation;
    return { explanation, ...(d.patient === undefined ? {} : { patient: d.patient }) };
  } catch (e) {
    if (!isCustodiaError(e, 'resource-erased')) throw e;
    return { explanation: erasedExplanation(detector) };
  }
}

/**
 * Whose key seals a finding's detail: its patient's while they are not erased (readings
 * that arrive for an erased patient's Device are someone else's: the tenant's); else the
 * tenant's. A patient's key is made durable before anything is sealed under it.
 */
async function detailOwner(at: AtRest, f: Finding): Promise<string | undefined> {
  if (f.patient === undefined || at.keys === undefined || at.keys.isErased(f.patient)) return undefined;
  await at.keys.prepareDurably([f.patient]);
  return f.patient;
}

/** The readings sealed under `owner`'s key, as a detail carries them. */
const sealReadings = (at: AtRest, owner: string, id: string, explanation: FindingExplanation): string => Buffer.from(at.sealFor(owner, READINGS, id, Buffer.from(JSON.stringify(explanation), 'utf8')).content!).toString('base64');

function sealDetail(at: AtRest, f: Finding, owner: string | undefined): Buffer {
  // A patient's readings are sealed under their key; an explanation already erased has none.
  const readings = owner === undefined || f.explanation.erased === true ? { explanation: f.explanation } : { readings: sealReadings(at, owner, f.id, f.explanation), patient: owner };
  const detail: Detail = { ...readings, ...(f.note === undefined ? {} : { note: f.note }) };
  return at.sealSecret(PURPOSE, f.id, Buffer.from(JSON.stringify(detail), 'utf8'));
}

export function findingStore(h: Pick<DatabaseHandle, 'read' | 'transaction'>, at: AtRest): FindingStore {
  const one = async (q: ReturnType<typeof sql<Row>>): Promise<StoredFinding | undefined> => {
    const row = (await q.execute(h.read)).rows[0];
    return row === undefined ? undefined : toFinding(at, row);
  };
  return {
    latestByKey: (key) => guarded(() => one(sql<Row>`SELECT * FROM detect_findings WHERE dedup_key = ${key} ORDER BY last_seen DESC, id DESC LIMIT 1`)),
    get: (id) => guarded(() => one(sql<Row>`SELECT * FROM detect_findings WHERE id = ${id}`)),
    save: (f, key, version) =>
      guarded(async () => {
        const owner = await detailOwner(at, f);
        return h.transaction(async (db: Kysely<unknown>) => {
          const detail = sealDetail(at, f, owner);
          if (version === undefined) {
            await sql`INSERT INTO detect_findings (id, dedup_key, device, detector, severity, status, count, start_at, end_at, first_seen, last_seen, updated_at, updated_by, summary, detail, version)
              VALUES (${f.id}, ${key}, ${f.device}, ${f.explanation.detector}, ${f.severity}, ${f.status}, ${f.count}, ${f.start}, ${f.end}, ${f.firstSeen}, ${f.lastSeen}, ${f.updatedAt}, ${f.updatedBy ?? null}, ${f.summary}, ${detail}, 1)`.execute(db);
            return;
          }
          const r = await sql`UPDATE detect_findings SET severity = ${f.severity}, status = ${f.status}, count = ${f.count}, start_at = ${f.start}, end_at = ${f.end},
              last_seen = ${f.lastSeen}, updated_at = ${f.updatedAt}, updated_by = ${f.updatedBy ?? null}, detail = ${detail}, version = ${version + 1}
            WHERE id = ${f.id} AND version = ${version}`.execute(db);
          if (Number(r.numAffectedRows ?? 0) !== 1) throw new CustodiaError('storage-conflict', 'The finding changed meanwhile; read it again and retry');
        });
      }),
    list: (q) =>
      guarded(async () => {
        const where = [sql`1 = 1`];
        if (q.status !== undefined) where.push(sql`status = ${q.status}`);
        if (q.severity !== undefined) where.push(sql`severity = ${q.severity}`);
        if (q.device !== undefined) where.push(sql`device = ${q.device}`);
        if (q.since !== undefined) where.push(sql`last_seen >= ${q.since}`);
        if (q.after !== undefined) where.push(sql`(last_seen < ${q.after.lastSeen} OR (last_seen = ${q.after.lastSeen} AND id < ${q.after.id}))`);
        const rows = (await sql<Row>`SELECT * FROM detect_findings WHERE ${sql.join(where, sql` AND `)} ORDER BY last_seen DESC, id DESC LIMIT ${q.limit}`.execute(h.read)).rows;
        return rows.map((r) => toFinding(at, r).finding);
      }),
    resealFindings: (keyIds) =>
      guarded(async () => {
        const rows = (await sql<{ id: string; detail: Uint8Array; version: number | string }>`SELECT id, detail, version FROM detect_findings`.execute(h.read)).rows;
        // First the readings inside (under a patient's retired key), each finding's detail then sealed again whole under the tenant's current key.
        const inner = new Set<string>();
        const resealedInside = new Map<string, Buffer>();
        const stillSealing = new Set<string>();
        const wanted = new Set(keyIds);
        for (const r of rows) {
          let d: Detail;
          try {
            d = openDetail(at, r.id, r.detail);
          } catch (e) {
            if (isCustodiaError(e, 'decrypt-failed')) continue; // the outer pass below counts it
            throw e;
          }
          if (d.readings === undefined) continue;
          const sealed = Buffer.from(d.readings, 'base64');
          let keyId: string;
          try {
            keyId = envelopeKeyId(sealed);
          } catch {
            continue;
          }
          if (!wanted.has(keyId)) continue;
          const owner = at.keys?.ownerOf(keyId);
          try {
            if (owner === undefined) throw new CustodiaError('decrypt-failed', 'the key of a finding’s readings is unknown');
            const explanation = JSON.parse(at.openSecret(READINGS, r.id, sealed).toString('utf8')) as FindingExplanation;
            resealedInside.set(r.id, at.sealSecret(PURPOSE, r.id, Buffer.from(JSON.stringify({ ...d, readings: sealReadings(at, owner, r.id, explanation) }), 'utf8')));
            inner.add(r.id);
          } catch (e) {
            if (isCustodiaError(e, 'resource-erased')) continue; // its patient was erased meanwhile: it stays unreadable
            if (!isCustodiaError(e, 'decrypt-failed')) throw e;
            stillSealing.add(keyId);
          }
        }
        const write = async (db: Kysely<unknown>, r: { subject: string; version: number }, detail: Buffer): Promise<number> =>
          Number((await sql`UPDATE detect_findings SET detail = ${detail} WHERE id = ${r.subject} AND version = ${r.version}`.execute(db)).numAffectedRows ?? 0);
        let resealed = 0;
        if (resealedInside.size > 0) {
          resealed += await h.transaction(async (db: Kysely<unknown>) => {
            let n = 0;
            for (const r of rows) if (resealedInside.has(r.id)) n += await write(db, { subject: r.id, version: Number(r.version) }, resealedInside.get(r.id)!);
            return n;
          });
        }
        // A finding updated meanwhile (its version moved on) was sealed under the current keys by that update.
        const outer = await resealSecretRows(at, PURPOSE, keyIds, rows.filter((r) => !inner.has(r.id)).map((r) => ({ subject: r.id, sealed: r.detail, version: Number(r.version) })), h.transaction, write);
        for (const k of outer.stillSealing) stillSealing.add(k);
        return { resealed: resealed + outer.resealed, stillSealing };
      }),
  };
}
