/**
 * The key store (issue 4): every data key of the vault, wrapped by a KEK of the
 * KeyProvider, in its own SQLite file `<data-dir>/keys/keystore.db` — never in the
 * database it protects, so a database file, dump or backup alone cannot be decrypted,
 * and destroying a patient's key here defeats every copy of their data made before.
 *
 * Owners: `Patient/<id>` (one patient compartment) or `tenant` (everything else). Each
 * owner has one active data key; rotation retires it (it still opens what it sealed until
 * re-encryption has moved everything to the new key, then it is dropped); erasure turns
 * every key of the owner into a tombstone without key material. The blind-index key
 * (crypto/blind-index.ts) is kept here too, wrapped the same way.
 *
 * The file runs with `secure_delete` (SQLite overwrites freed content with zeros) in WAL
 * mode with a full fsync per commit (one fsync: a data key is durable before anything it
 * seals is written), and every destructive change (erasure, rewrap, dropping a retired
 * key) is followed by a TRUNCATE checkpoint, so the zeroed pages reach the file and no old
 * page stays behind in the WAL. What SQLite cannot reach — freed disk blocks, file-system
 * snapshots, copies of this file — is in docs/threat-model.md; retiring the KEK afterwards
 * makes such residue undecryptable.
 *
 * Every call is synchronous (better-sqlite3 and the KeyProvider port are), for SQLite's
 * synchronous read path. Unwrapped keys are cached; another process's change (the CLI
 * erasing a patient while the server runs) is noticed through `PRAGMA data_version`,
 * read at most once per turn of the event loop.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CustodiaError, type Random } from '../kernel/index.js';
import { forgetBlindIndexKey, KEY_BYTES, type DataKey, type KeyProvider } from '../crypto/index.js';
import { walSync, type WalSync } from './wal-sync.js';

export const TENANT_OWNER = 'tenant';
const OWNER = /^(tenant|Patient\/[A-Za-z0-9\-.]{1,64})$/;

export type DataKeyState = 'active' | 'retired' | 'erased';

export interface KeyCount {
  readonly state: DataKeyState;
  readonly kekId: string | null;
  readonly keys: number;
}

/** What a key id stands for: a usable key, or a tombstone (erased), or nothing known. */
export type KeyLookup = { readonly kind: 'key'; readonly key: Buffer } | { readonly kind: 'erased' } | undefined;

interface KeyRow {
  id: string;
  owner: string;
  kek_id: string | null;
  wrapped: Buffer | null;
  state: DataKeyState;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS data_keys (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     kek_id TEXT,
     wrapped BLOB,
     state TEXT NOT NULL CHECK (state IN ('active', 'retired', 'erased')),
     created_at INTEGER NOT NULL,
     erased_at INTEGER,
     CHECK ((state = 'erased') = (wrapped IS NULL))
   )`,
  `CREATE UNIQUE INDEX IF NOT EXISTS data_keys_active ON data_keys (owner) WHERE state = 'active'`,
  'CREATE INDEX IF NOT EXISTS data_keys_owner ON data_keys (owner, state)',
  'CREATE INDEX IF NOT EXISTS data_keys_kek ON data_keys (kek_id)',
  `CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, kek_id TEXT NOT NULL, wrapped BLOB NOT NULL, created_at INTEGER NOT NULL)`,
  // Which kind of KeyProvider wraps the keys: a store made with an HSM is never opened with the keyring file.
  `CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
];

/** The provider kind a key store file was made with, if the file exists and says (read before opening a provider). */
export function keyStoreProviderKind(path: string): string | undefined {
  if (path === ':memory:' || !existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    return table === undefined ? undefined : (db.prepare("SELECT value FROM meta WHERE name = 'provider'").pluck().get() as string | undefined);
  } finally {
    db.close();
  }
}

const INDEX_KEY = 'blind-index';

/**
 * A flush of the key store's WAL failed, now or before: that is final (wal-sync.ts), and no
 * new key of this file may be used as durable again; keys already made stay usable.
 */
const notDurable = (cause: unknown): CustodiaError => new CustodiaError('key-unavailable', 'The key store could not be made durable; restart the server', { cause });

/** An owner's active key as a key-store transaction found or made it. */
interface CreatedKey {
  readonly owner: string;
  readonly id: string;
  readonly key: Buffer;
  readonly inserted: boolean;
}
/** Unwrapped data keys kept in memory (32 bytes each, plus the map's overhead). */
const CACHE_KEYS = 200_000;

export class KeyStore {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Buffer | 'erased'>();
  readonly #active = new Map<string, DataKey>();
  readonly #dataVersion: Database.Statement;
  #seenVersion = -1;
  #checkedThisTurn = false;
  #indexKey: Buffer | undefined;

  /** Flushes this file's WAL, fail-stop (undefined for `:memory:`). */
  readonly #wal: WalSync | undefined;
  /** Owners whose new key is committed and being flushed by {@link prepareDurably}. */
  readonly #flushing = new Set<string>();

  /** `path` is a file (`<data-dir>/keys/keystore.db`) or `:memory:` (tests). */
  constructor(
    path: string,
    readonly provider: KeyProvider,
    private readonly random: Random,
    private readonly now: () => number,
  ) {
    if (path !== ':memory:') {
      const dir = dirname(path);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
    const existed = path !== ':memory:' && existsSync(path);
    this.#db = new Database(path);
    if (path !== ':memory:' && !existed) chmodSync(path, 0o600);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('secure_delete = ON');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    for (const s of SCHEMA) this.#db.exec(s);
    this.#db.prepare("INSERT OR IGNORE INTO meta (name, value) VALUES ('provider', ?)").run(provider.kind);
    const kind = this.#db.prepare("SELECT value FROM meta WHERE name = 'provider'").pluck().get() as string;
    if (kind !== provider.kind) {
      this.#db.close();
      throw new CustodiaError('config-invalid', `This key store's keys are wrapped by a ${kind} key provider, not ${provider.kind}: set --key-provider / CUSTODIA_KEY_PROVIDER`);
    }
    this.#dataVersion = this.#db.prepare('PRAGMA data_version').pluck();
    this.#wal = walSync(path);
  }

  readonly #statements = new Map<string, Database.Statement>();

  /** A prepared statement, compiled once per SQL text (all of them constants of this file). */
  #stmt(sqlText: string): Database.Statement {
    let s = this.#statements.get(sqlText);
    if (s === undefined) this.#statements.set(sqlText, (s = this.#db.prepare(sqlText)));
    return s;
  }

  /** Forgets cached keys if another connection changed the file (read once per event-loop turn). */
  #validate(): void {
    if (this.#checkedThisTurn) return;
    this.#checkedThisTurn = true;
    setImmediate(() => (this.#checkedThisTurn = false));
    const v = Number(this.#dataVersion.get());
    if (v !== this.#seenVersion) {
      this.#seenVersion = v;
      this.#cache.clear();
      this.#active.clear();
    }
  }

  /** After a destructive change: the zeroed pages into the file, the WAL emptied (see the header). */
  #scrub(): void {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** This process changed the file: the next lookup must not trust a check made earlier in this turn. */
  #changed(): void {
    this.#checkedThisTurn = false;
    this.#cache.clear();
    this.#active.clear();
  }

  #unwrap(row: { kek_id: string | null; wrapped: Buffer | null }): Buffer {
    if (row.kek_id === null || row.wrapped === null) throw new CustodiaError('internal', 'An erased key has no material');
    const key = this.provider.unwrap({ kekId: row.kek_id, wrapped: row.wrapped });
    if (key.length !== KEY_BYTES) throw new CustodiaError('decrypt-failed', 'A wrapped data key has the wrong length');
    return key;
  }

  #remember(id: string, value: Buffer | 'erased'): void {
    if (this.#cache.size >= CACHE_KEYS) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(id, value);
  }

  /** The key a stored envelope names (`openEnvelope`'s lookup): its material, a tombstone, or undefined. */
  lookup(id: string): KeyLookup {
    this.#validate();
    const hit = this.#cache.get(id);
    if (hit !== undefined) return hit === 'erased' ? { kind: 'erased' } : { kind: 'key', key: hit };
    const row = this.#stmt('SELECT id, owner, kek_id, wrapped, state FROM data_keys WHERE id = ?').get(id) as KeyRow | undefined;
    if (row === undefined) return undefined;
    if (row.state === 'erased') {
      this.#remember(id, 'erased');
      return { kind: 'erased' };
    }
    const key = this.#unwrap(row);
    this.#remember(id, key);
    return { kind: 'key', key };
  }

  /**
   * A new data key's id: `dk-` + milliseconds (12 hex digits) + 8 random bytes. Ids then
   * grow with time, so the versions of newly created keys are appended at the end of the
   * `resource_versions.key_id` index instead of at random places in it (an import creates
   * a key per new patient). What the time prefix tells someone with the database — when a
   * patient's key was made — their first version's `last_updated` tells already.
   */
  #newKeyId(): string {
    return `dk-${Math.max(0, Math.floor(this.now())).toString(16).padStart(12, '0')}${this.random.bytes(8).toString('hex')}`;
  }

  /** Whether the owner has an active data key (without creating one). */
  hasActiveKey(owner: string): boolean {
    this.#validate();
    return this.#active.has(owner) || this.#stmt("SELECT 1 FROM data_keys WHERE owner = ? AND state = 'active' LIMIT 1").get(owner) !== undefined;
  }

  /** Whether the owner was erased (writes into an erased compartment are refused). */
  isErased(owner: string): boolean {
    return this.#stmt("SELECT 1 FROM data_keys WHERE owner = ? AND state = 'erased' LIMIT 1").get(owner) !== undefined;
  }

  /**
   * The owner's active data key, created (and made durable) on first use. Refused for
   * an erased owner: their records are gone and must not come back under a new key.
   */
  activeKey(owner: string): DataKey {
    this.#validate();
    const cached = this.#active.get(owner);
    if (cached !== undefined) return cached;
    this.prepare([owner]);
    return this.#active.get(owner)!;
  }

  /**
   * Makes sure every owner has an active key, creating the missing ones in one durable
   * transaction (one fsync for a whole batch of new patients, not one each). The fsync
   * blocks the caller's thread: writers on the event loop call {@link prepareDurably} first.
   */
  prepare(owners: Iterable<string>): void {
    const missing = this.#missing(owners);
    if (missing.length === 0) return;
    // A key another caller committed and is still flushing is not durable yet: flush it here.
    if (missing.some((o) => this.#flushing.has(o))) {
      try {
        this.#wal!.flushSync();
      } catch (e) {
        throw notDurable(e);
      }
    }
    this.#activate(this.#createKeys(missing, 'FULL'));
  }

  /**
   * {@link prepare} without blocking the event loop: the keys are committed without an
   * fsync and the key store's WAL is then flushed on libuv's thread pool (wal-sync.ts);
   * the keys are used only once that has returned, so a data key is durable before
   * anything it seals is written, as with `prepare`.
   */
  async prepareDurably(owners: Iterable<string>): Promise<void> {
    const missing = this.#missing(owners);
    if (missing.length === 0) return;
    if (this.#wal === undefined) return this.prepare(missing);
    const waitFor = missing.filter((o) => this.#flushing.has(o));
    const created = this.#createKeys(missing, 'NORMAL');
    // Keys that were already there, durable (written by this process before, or by another with FULL), need no flush.
    if (waitFor.length === 0 && created.every((c) => !c.inserted)) return this.#activate(created);
    for (const c of created) this.#flushing.add(c.owner);
    try {
      await this.#wal.flush();
    } catch (e) {
      throw notDurable(e);
    } finally {
      for (const c of created) this.#flushing.delete(c.owner);
    }
    this.#activate(created);
  }

  /** The owners without a key in memory; refused once a flush has failed, when any is missing (keys already made stay usable). */
  #missing(owners: Iterable<string>): string[] {
    this.#validate();
    const missing = [...new Set(owners)].filter((o) => !this.#active.has(o));
    for (const o of missing) if (!OWNER.test(o)) throw new CustodiaError('internal', 'A data-key owner is `tenant` or `Patient/<id>`');
    if (missing.length > 0) {
      try {
        this.#wal?.check();
      } catch (e) {
        throw notDurable(e);
      }
    }
    return missing;
  }

  /** Each owner's active key, inserted where missing, in one transaction committed with the given `synchronous` mode. */
  #createKeys(owners: readonly string[], synchronous: 'FULL' | 'NORMAL'): CreatedKey[] {
    const existing = this.#stmt("SELECT id, owner, kek_id, wrapped, state FROM data_keys WHERE owner = ? AND state = 'active'");
    const insert = this.#stmt("INSERT INTO data_keys (id, owner, kek_id, wrapped, state, created_at) VALUES (?, ?, ?, ?, 'active', ?)");
    const create = this.#db.transaction((): CreatedKey[] =>
      owners.map((owner) => {
        const row = existing.get(owner) as KeyRow | undefined;
        if (row !== undefined) return { owner, id: row.id, key: this.#unwrap(row), inserted: false };
        if (this.isErased(owner)) throw new CustodiaError('resource-erased', 'This patient’s record was erased; nothing can be added to it');
        const key = this.random.bytes(KEY_BYTES);
        const w = this.provider.wrap(key);
        const id = this.#newKeyId();
        insert.run(id, owner, w.kekId, w.wrapped, this.now());
        return { owner, id, key, inserted: true };
      }),
    );
    if (synchronous === 'FULL') return create.immediate();
    // Synchronous code on one connection: nothing else runs on it until FULL is back.
    this.#db.pragma('synchronous = NORMAL');
    try {
      return create.immediate();
    } finally {
      this.#db.pragma('synchronous = FULL');
    }
  }

  /** Keys are remembered only once their transaction is committed and durable. */
  #activate(created: readonly CreatedKey[]): void {
    for (const { owner, id, key } of created) {
      this.#remember(id, key);
      this.#active.set(owner, { id, key });
    }
  }

  /** The blind-index key, created on first use. */
  indexKey(): Buffer {
    if (this.#indexKey !== undefined) return this.#indexKey;
    const get = (): { kek_id: string; wrapped: Buffer } | undefined => this.#stmt('SELECT kek_id, wrapped FROM secrets WHERE name = ?').get(INDEX_KEY) as { kek_id: string; wrapped: Buffer } | undefined;
    let row = get();
    if (row === undefined) {
      this.#db.transaction(() => {
        if (get() !== undefined) return;
        const w = this.provider.wrap(this.random.bytes(KEY_BYTES));
        this.#stmt('INSERT INTO secrets (name, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?)').run(INDEX_KEY, w.kekId, w.wrapped, this.now());
      }).immediate();
      row = get()!;
    }
    this.#indexKey = this.#unwrap(row);
    return this.#indexKey;
  }

  /**
   * Crypto-shredding (GDPR Art. 17): every key of `owner` becomes a tombstone. From the
   * commit on, nothing they sealed can be opened, in this database or any copy of it.
   * Returns the ids of the destroyed keys.
   */
  erase(owner: string): string[] {
    const ids = this.#db.transaction((): string[] => {
      const rows = this.#stmt("SELECT id FROM data_keys WHERE owner = ? AND state <> 'erased'").pluck().all(owner) as string[];
      this.#stmt("UPDATE data_keys SET kek_id = NULL, wrapped = NULL, state = 'erased', erased_at = ? WHERE owner = ? AND state <> 'erased'").run(this.now(), owner);
      if (rows.length === 0 && !this.isErased(owner)) {
        // A patient with no data key yet is still marked, so that nothing is added later.
        this.#stmt("INSERT INTO data_keys (id, owner, state, created_at, erased_at) VALUES (?, ?, 'erased', ?, ?)").run(`dk-${this.random.bytes(12).toString('hex')}`, owner, this.now(), this.now());
      }
      return rows;
    }).immediate();
    this.#scrub();
    this.#changed();
    return ids;
  }

  /** Every erased key id (replayed against a database restored from an older backup). */
  erasedKeyIds(): string[] {
    return this.#stmt("SELECT id FROM data_keys WHERE state = 'erased'").pluck().all() as string[];
  }

  /** Retires every active key (data-key rotation); new writes get fresh keys, re-encryption moves the rest. */
  retireActiveKeys(): number {
    const n = this.#stmt("UPDATE data_keys SET state = 'retired' WHERE state = 'active'").run().changes;
    this.#changed();
    return n;
  }

  /** Retired keys, with their owners (the re-encryption worker's to-do list). */
  retiredKeys(): { id: string; owner: string }[] {
    return this.#stmt("SELECT id, owner FROM data_keys WHERE state = 'retired' ORDER BY created_at").all() as { id: string; owner: string }[];
  }

  /** The owner of a key id, if known. */
  ownerOf(id: string): string | undefined {
    return this.#stmt('SELECT owner FROM data_keys WHERE id = ?').pluck().get(id) as string | undefined;
  }

  /** Drops a retired key once nothing is sealed under it any more (the caller checked). */
  dropRetired(id: string): void {
    this.#stmt("DELETE FROM data_keys WHERE id = ? AND state = 'retired'").run(id);
    this.#scrub();
    this.#changed();
  }

  /**
   * KEK rotation: rewraps every data key and secret under the provider's current KEK —
   * no data is rewritten — then destroys KEKs that wrap nothing any more. Returns how
   * many keys were rewrapped.
   */
  rewrapAll(): number {
    const current = this.provider.keks().find((k) => k.current)?.id;
    if (current === undefined) throw new CustodiaError('key-unavailable', 'The key provider has no current KEK');
    let n = 0;
    for (;;) {
      const batch = this.#stmt("SELECT id, kek_id, wrapped FROM data_keys WHERE state <> 'erased' AND kek_id <> ? LIMIT 1000").all(current) as KeyRow[];
      const secrets = this.#stmt('SELECT name AS id, kek_id, wrapped FROM secrets WHERE kek_id <> ?').all(current) as KeyRow[];
      if (batch.length === 0 && secrets.length === 0) break;
      this.#db.transaction(() => {
        for (const row of batch) {
          const w = this.provider.wrap(this.#unwrap(row));
          this.#stmt('UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE id = ? AND kek_id = ?').run(w.kekId, w.wrapped, row.id, row.kek_id);
        }
        for (const row of secrets) {
          const w = this.provider.wrap(this.#unwrap(row));
          this.#stmt('UPDATE secrets SET kek_id = ?, wrapped = ? WHERE name = ? AND kek_id = ?').run(w.kekId, w.wrapped, row.id, row.kek_id);
        }
      }).immediate();
      n += batch.length + secrets.length;
    }
    this.#scrub();
    this.#changed();
    for (const kek of this.provider.keks()) {
      if (kek.current) continue;
      const used = this.#stmt('SELECT 1 FROM data_keys WHERE kek_id = ? UNION ALL SELECT 1 FROM secrets WHERE kek_id = ? LIMIT 1').get(kek.id, kek.id);
      if (used === undefined) this.provider.destroy(kek.id);
    }
    return n;
  }

  /** Key counts by state and KEK (`custodia keys status`). */
  counts(): KeyCount[] {
    const rows = this.#stmt('SELECT state, kek_id, COUNT(*) AS n FROM data_keys GROUP BY state, kek_id ORDER BY state, kek_id').all() as { state: DataKeyState; kek_id: string | null; n: number }[];
    return rows.map((r) => ({ state: r.state, kekId: r.kek_id, keys: Number(r.n) }));
  }

  /** States of the given key ids (`custodia keys status` joins them with version counts). */
  statesOf(ids: readonly string[]): Map<string, DataKeyState> {
    const out = new Map<string, DataKeyState>();
    const stmt = this.#stmt('SELECT state FROM data_keys WHERE id = ?').pluck();
    for (const id of ids) {
      const s = stmt.get(id) as DataKeyState | undefined;
      if (s !== undefined) out.set(id, s);
    }
    return out;
  }

  close(): void {
    for (const k of this.#cache.values()) if (k !== 'erased') k.fill(0);
    this.#cache.clear();
    this.#active.clear();
    if (this.#indexKey !== undefined) {
      forgetBlindIndexKey(this.#indexKey);
      this.#indexKey.fill(0);
    }
    void this.#wal?.close();
    this.#db.close();
    this.provider.close();
  }
}
