/**
 * The inventory of unknown talkers (migration 0020): one row per endpoint that sent
 * telemetry and matched no Device, keyed by `mac:<eui-48>` when its MAC is known, else
 * `ip:<address>`. Sightings are upserted in batches: first seen stays, last seen and the
 * flow count grow.
 */
import { sql, type Kysely } from 'kysely';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';

export interface Talker {
  readonly talker: string;
  readonly mac?: string;
  readonly address?: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly flows: number;
}

export interface TalkerQuery {
  /** Paging: only talkers after this key. */
  readonly after?: string;
  readonly limit: number;
}

export interface TalkerStore {
  /** Adds or updates these sightings (each a talker's flows since the last write) in one transaction. */
  record(sightings: readonly Talker[]): Promise<void>;
  /** In key order. */
  list(q: TalkerQuery): Promise<Talker[]>;
  count(): Promise<number>;
}

interface Row {
  talker: string;
  mac: string | null;
  address: string | null;
  first_seen: number | string;
  last_seen: number | string;
  flows: number | string;
}

const toTalker = (r: Row): Talker => ({
  talker: r.talker,
  ...(r.mac === null ? {} : { mac: r.mac }),
  ...(r.address === null ? {} : { address: r.address }),
  firstSeen: Number(r.first_seen),
  lastSeen: Number(r.last_seen),
  flows: Number(r.flows),
});

export function talkerStore(h: Pick<DatabaseHandle, 'read' | 'transaction'>): TalkerStore {
  return {
    record: (sightings) =>
      guarded(() =>
        h.transaction(async (db: Kysely<unknown>) => {
          for (const s of sightings) {
            await sql`INSERT INTO detect_talkers (talker, mac, address, first_seen, last_seen, flows)
              VALUES (${s.talker}, ${s.mac ?? null}, ${s.address ?? null}, ${s.firstSeen}, ${s.lastSeen}, ${s.flows})
              ON CONFLICT (talker) DO UPDATE SET
                mac = COALESCE(detect_talkers.mac, excluded.mac),
                address = COALESCE(excluded.address, detect_talkers.address),
                first_seen = CASE WHEN excluded.first_seen < detect_talkers.first_seen THEN excluded.first_seen ELSE detect_talkers.first_seen END,
                last_seen = CASE WHEN excluded.last_seen > detect_talkers.last_seen THEN excluded.last_seen ELSE detect_talkers.last_seen END,
                flows = detect_talkers.flows + excluded.flows`.execute(db);
          }
        }),
      ),
    list: (q) =>
      guarded(async () => {
        const rows = q.after === undefined
          ? await sql<Row>`SELECT * FROM detect_talkers ORDER BY talker LIMIT ${q.limit}`.execute(h.read)
          : await sql<Row>`SELECT * FROM detect_talkers WHERE talker > ${q.after} ORDER BY talker LIMIT ${q.limit}`.execute(h.read);
        return rows.rows.map(toTalker);
      }),
    count: () => guarded(async () => Number((await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM detect_talkers`.execute(h.read)).rows[0]?.n ?? 0)),
  };
}
