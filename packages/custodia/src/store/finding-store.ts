/**
 * Detection findings (migration 0019) over the vault's database. The explanation and the
 * analyst's note are sealed together as `detail` (purpose `finding`, subject the finding
 * id, so a detail copied onto another finding does not open): under the data key of the
 * patient whose readings the explanation holds (`Finding.patient`, a vital-sign finding
 * of a Device attached to them), else under the tenant key. Erasing that patient makes
 * the detail unreadable, in the database and every copy of it: the finding stays, with
 * its plain columns, and its explanation reads as `erased` (no features, score or
 * threshold; the note goes with it). Data-key rotation re-seals details under the current
 * key of the same owner (`resealFindings`). Every update is a compare-and-set on
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

interface Detail {
  readonly explanation: FindingExplanation;
  readonly note?: string;
  readonly patient?: string;
}

const damaged = (): CustodiaError => new CustodiaError('decrypt-failed', 'A stored finding is damaged');

function toFinding(at: AtRest, r: Row): StoredFinding {
  // The row is what the database holds: its detail is authenticated (sealed), its plain columns are checked.
  if (!isSeverity(r.severity) || !isFindingStatus(r.status)) throw damaged();
  const detail = openDetail(at, r);
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
    explanation: detail.explanation,
    ...(detail.note === undefined ? {} : { note: detail.note }),
    ...(detail.patient === undefined ? {} : { patient: detail.patient }),
  };
  return { finding, version: Number(r.version) };
}

/** The detail, or what is left of it when its patient was erased (their key is gone). */
function openDetail(at: AtRest, r: Row): Detail {
  try {
    return JSON.parse(at.openSecret(PURPOSE, r.id, r.detail).toString('utf8')) as Detail;
  } catch (e) {
    if (!isCustodiaError(e, 'resource-erased')) throw e;
    return { explanation: { detector: r.detector, score: 0, threshold: 0, features: [], erased: true } };
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

function sealDetail(at: AtRest, f: Finding, owner: string | undefined): Buffer {
  const detail: Detail = { explanation: f.explanation, ...(f.note === undefined ? {} : { note: f.note }), ...(f.patient === undefined ? {} : { patient: f.patient }) };
  const bytes = Buffer.from(JSON.stringify(detail), 'utf8');
  if (owner === undefined) return at.sealSecret(PURPOSE, f.id, bytes);
  return Buffer.from(at.sealFor(owner, PURPOSE, f.id, bytes).content!);
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
        // A finding updated meanwhile (its version moved on) was sealed under the current key by that update.
        return resealSecretRows(at, PURPOSE, keyIds, rows.map((r) => ({ subject: r.id, sealed: r.detail, version: Number(r.version) })), h.transaction, async (db, r, resealed) =>
          Number((await sql`UPDATE detect_findings SET detail = ${resealed} WHERE id = ${r.subject} AND version = ${r.version}`.execute(db)).numAffectedRows ?? 0),
        );
      }),
  };
}
