/**
 * The key store (store/key-store.ts) over a real keys/keystore.db and a real local keyring:
 * active keys are stable and durable; erasure destroys an owner's keys and nobody else's,
 * and another process sees it on its next event-loop turn; KEK rotation rewraps every key
 * and destroys the old KEK; and an erased key's wrapped bytes are gone from the file
 * (secure_delete), not merely unlinked from the table.
 */
import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyStore, keyringPath, openKeyringProvider, TENANT_OWNER } from '../../src/store/index.js';
import { seededRandom, type Random } from '../../src/kernel/index.js';

const dirs: string[] = [];
const open: KeyStore[] = [];
afterAll(() => {
  for (const ks of open) {
    try {
      ks.close();
    } catch {
      // already closed by the test
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const newDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'custodia-keystore-'));
  dirs.push(d);
  return d;
};
const storePath = (dir: string): string => join(dir, 'keys', 'keystore.db');

/** A key store on `dir`'s keys/ with the local keyring there; seeded randomness, a fixed clock. */
function openKeys(dir: string, random: Random = seededRandom(`key-store-${dir}-${open.length}`)): KeyStore {
  const now = (): number => 1_700_000_000_000;
  const ks = new KeyStore(storePath(dir), openKeyringProvider({ dataDir: dir, random, now }), random, now);
  open.push(ks);
  return ks;
}

const copy = (b: Uint8Array): Buffer => Buffer.from(b);
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
/** The wrapped bytes of a key, read around the key store (as someone holding the file would). */
function wrappedOf(dir: string, id: string): Buffer | null {
  const raw = new BetterSqlite3(storePath(dir), { readonly: true });
  try {
    return (raw.prepare('SELECT wrapped FROM data_keys WHERE id = ?').pluck().get(id) as Buffer | null | undefined) ?? null;
  } finally {
    raw.close();
  }
}
/** The key store's bytes on disk: the file and, if there is one, its rollback journal. */
function fileBytes(dir: string): Buffer {
  const p = storePath(dir);
  return Buffer.concat([readFileSync(p), ...(existsSync(`${p}-journal`) ? [readFileSync(`${p}-journal`)] : []), ...(existsSync(`${p}-wal`) ? [readFileSync(`${p}-wal`)] : [])]);
}

describe('KeyStore', () => {
  it('gives each owner one active key, stable, and the same after close and reopen', () => {
    const dir = newDir();
    const ks = openKeys(dir);
    const a = ks.activeKey('Patient/a');
    const aKey = copy(a.key);
    const b = ks.activeKey('Patient/b');
    const t = ks.activeKey(TENANT_OWNER);
    expect(new Set([a.id, b.id, t.id]).size).toBe(3);
    expect(new Set([aKey.toString('hex'), copy(b.key).toString('hex'), copy(t.key).toString('hex')]).size).toBe(3);
    expect(ks.activeKey('Patient/a').id).toBe(a.id);
    expect(copy(ks.activeKey('Patient/a').key).equals(aKey)).toBe(true);
    const index = copy(ks.indexKey());
    ks.close();

    const again = openKeys(dir);
    const a2 = again.activeKey('Patient/a');
    expect(a2.id).toBe(a.id);
    expect(copy(a2.key).equals(aKey)).toBe(true);
    expect(again.activeKey('Patient/b').id).toBe(b.id);
    expect(again.activeKey(TENANT_OWNER).id).toBe(t.id);
    expect(copy(again.indexKey()).equals(index)).toBe(true);
    const lookedUp = again.lookup(a.id);
    expect(lookedUp?.kind).toBe('key');
    expect(lookedUp?.kind === 'key' && copy(lookedUp.key).equals(aKey)).toBe(true);
    expect(again.lookup('dk-unknown')).toBeUndefined();
    // The file holds the key wrapped, never the key itself.
    expect(fileBytes(dir).includes(aKey)).toBe(false);
    expect(wrappedOf(dir, a.id)?.length).toBe(40);
  });

  it('refuses owners that are neither the tenant nor a patient', () => {
    const ks = openKeys(newDir());
    for (const bad of ['Observation/x', 'Patient/', 'Patient/a b', "Patient/x'--", 'tenant2', '']) {
      expect(() => ks.activeKey(bad), bad).toThrow(expect.objectContaining({ code: 'internal' }));
    }
  });

  it('erase(owner): its keys become tombstones, no new key is made for it, other owners are untouched', () => {
    const ks = openKeys(newDir());
    const a = ks.activeKey('Patient/a');
    const b = ks.activeKey('Patient/b');
    const bKey = copy(b.key);
    const t = ks.activeKey(TENANT_OWNER);
    expect(ks.erase('Patient/a')).toEqual([a.id]);
    expect(ks.lookup(a.id)).toEqual({ kind: 'erased' });
    expect(() => ks.activeKey('Patient/a')).toThrow(expect.objectContaining({ code: 'resource-erased' }));
    expect(ks.isErased('Patient/a')).toBe(true);
    expect(ks.erasedKeyIds()).toEqual([a.id]);
    const lb = ks.lookup(b.id);
    expect(lb?.kind === 'key' && copy(lb.key).equals(bKey)).toBe(true);
    expect(ks.activeKey('Patient/b').id).toBe(b.id);
    expect(ks.activeKey(TENANT_OWNER).id).toBe(t.id);
    expect(ks.isErased('Patient/b')).toBe(false);
    // Erasing again destroys nothing more; a patient who never had a key is still marked.
    expect(ks.erase('Patient/a')).toEqual([]);
    expect(ks.erase('Patient/never')).toEqual([]);
    expect(() => ks.activeKey('Patient/never')).toThrow(expect.objectContaining({ code: 'resource-erased' }));
  });

  it('prepareDurably: the keys are made, flushed off the event loop, then used; another instance reads the same ones', async () => {
    const dir = newDir();
    const ks = openKeys(dir);
    await ks.prepareDurably(['Patient/a', 'Patient/b', 'Patient/a']);
    const a = ks.activeKey('Patient/a');
    const b = ks.activeKey('Patient/b');
    expect(a.id).not.toBe(b.id);
    // Nothing more to make: resolved without a new key.
    await ks.prepareDurably(['Patient/a']);
    expect(ks.activeKey('Patient/a').id).toBe(a.id);
    const other = openKeys(dir);
    expect(other.activeKey('Patient/a').id).toBe(a.id);
    expect(copy(other.activeKey('Patient/b').key)).toEqual(copy(b.key));
  });

  it('prepareDurably: a synchronous caller for a key still being flushed gets that key, not a second one', async () => {
    const dir = newDir();
    const ks = openKeys(dir);
    const flushing = ks.prepareDurably(['Patient/c']);
    const meanwhile = ks.activeKey('Patient/c');
    await flushing;
    expect(ks.activeKey('Patient/c').id).toBe(meanwhile.id);
    const raw = new BetterSqlite3(storePath(dir), { readonly: true });
    try {
      expect(raw.prepare("SELECT COUNT(*) FROM data_keys WHERE owner = 'Patient/c'").pluck().get()).toBe(1);
    } finally {
      raw.close();
    }
  });

  it('prepareDurably: refused for an erased owner and for an owner that is not one', async () => {
    const ks = openKeys(newDir());
    ks.erase('Patient/gone');
    await expect(ks.prepareDurably(['Patient/ok', 'Patient/gone'])).rejects.toMatchObject({ code: 'resource-erased' });
    await expect(ks.prepareDurably(['Practitioner/x'])).rejects.toMatchObject({ code: 'internal' });
    // Nothing of the refused batch was kept.
    expect(ks.hasActiveKey('Patient/ok')).toBe(false);
  });

  it('a second instance on the same file sees an erasure on its next event-loop turn', async () => {
    const dir = newDir();
    const first = openKeys(dir);
    const second = openKeys(dir);
    const a = first.activeKey('Patient/a');
    const b = first.activeKey('Patient/b');
    await nextTurn();
    // The second instance has the key (and caches it).
    expect(second.lookup(a.id)?.kind).toBe('key');
    expect(second.activeKey('Patient/a').id).toBe(a.id);
    first.erase('Patient/a');
    await nextTurn();
    expect(second.lookup(a.id)).toEqual({ kind: 'erased' });
    expect(() => second.activeKey('Patient/a')).toThrow(expect.objectContaining({ code: 'resource-erased' }));
    expect(second.lookup(b.id)?.kind).toBe('key');
  });

  it('KEK rotation: every key rewrapped under the new KEK, the old KEK destroyed, every key still opens', () => {
    const dir = newDir();
    const ks = openKeys(dir);
    const owners = [TENANT_OWNER, ...Array.from({ length: 25 }, (_, i) => `Patient/p${i}`)];
    const before = new Map(owners.map((o) => {
      const k = ks.activeKey(o);
      return [k.id, copy(k.key)] as const;
    }));
    const index = copy(ks.indexKey());
    const erased = ks.activeKey('Patient/gone').id;
    ks.erase('Patient/gone');
    const [oldKek] = ks.provider.keks();
    expect(ks.counts()).toEqual([
      { state: 'active', kekId: oldKek!.id, keys: owners.length },
      { state: 'erased', kekId: null, keys: 1 },
    ]);
    const oldWrapped = [...before.keys()].map((id) => wrappedOf(dir, id)!);
    const oldKeyring = readFileSync(keyringPath(dir), 'utf8');
    const oldKekB64 = (JSON.parse(oldKeyring).keys.keks as { id: string; key: string }[]).find((k) => k.id === oldKek!.id)!.key;

    const newKek = ks.provider.rotate();
    expect(newKek).not.toBe(oldKek!.id);
    // A key made between rotate and rewrap is wrapped under the new KEK already.
    const late = ks.activeKey('Patient/late');
    before.set(late.id, copy(late.key));
    expect(ks.rewrapAll()).toBe(owners.length + 1 /* the blind-index key */);
    expect(ks.counts()).toEqual([
      { state: 'active', kekId: newKek, keys: owners.length + 1 },
      { state: 'erased', kekId: null, keys: 1 },
    ]);
    expect(ks.provider.keks()).toEqual([expect.objectContaining({ id: newKek, current: true })]);
    expect(readFileSync(keyringPath(dir), 'utf8')).not.toContain(oldKekB64);
    for (const [i, id] of [...before.keys()].slice(0, oldWrapped.length).entries()) expect(wrappedOf(dir, id)!.equals(oldWrapped[i]!)).toBe(false);
    // Nothing is left to do; a second rewrap is a no-op.
    expect(ks.rewrapAll()).toBe(0);
    ks.close();

    // A fresh process (no cached keys) opens every key under the new KEK.
    const again = openKeys(dir);
    for (const [id, key] of before) {
      const l = again.lookup(id);
      expect(l?.kind === 'key' && copy(l.key).equals(key), id).toBe(true);
    }
    expect(copy(again.indexKey()).equals(index)).toBe(true);
    expect(again.lookup(erased)).toEqual({ kind: 'erased' });
  });

  it('after erase, the erased key\'s wrapped bytes are nowhere in the file or its journal (secure_delete)', () => {
    const dir = newDir();
    const ks = openKeys(dir);
    const victims = Array.from({ length: 5 }, (_, i) => ks.activeKey(`Patient/v${i}`).id);
    const keep = ks.activeKey('Patient/keep').id;
    ks.activeKey(TENANT_OWNER);
    const wrapped = victims.map((id) => wrappedOf(dir, id)!);
    const kept = wrappedOf(dir, keep)!;
    // Control: before the erasure the file does hold them, so the check below can fail.
    for (const w of wrapped) expect(fileBytes(dir).includes(w)).toBe(true);
    for (let i = 0; i < victims.length; i++) expect(ks.erase(`Patient/v${i}`)).toEqual([victims[i]]);
    const after = fileBytes(dir);
    for (const [i, w] of wrapped.entries()) expect(after.includes(w), `wrapped key of Patient/v${i}`).toBe(false);
    expect(after.includes(kept)).toBe(true);
    // Nothing left behind in a WAL either: destructive changes end with a TRUNCATE checkpoint.
    expect(existsSync(`${storePath(dir)}-wal`) ? readFileSync(`${storePath(dir)}-wal`).length : 0).toBe(0);
  });

  it('after KEK rotation, the old wrappings are gone from the file too', () => {
    const dir = newDir();
    const ks = openKeys(dir);
    const ids = Array.from({ length: 5 }, (_, i) => ks.activeKey(`Patient/r${i}`).id);
    const old = ids.map((id) => wrappedOf(dir, id)!);
    for (const w of old) expect(fileBytes(dir).includes(w)).toBe(true);
    ks.provider.rotate();
    ks.rewrapAll();
    const after = fileBytes(dir);
    for (const w of old) expect(after.includes(w)).toBe(false);
    for (const id of ids) expect(after.includes(wrappedOf(dir, id)!)).toBe(true);
  });

  it('a key store file under another keyring: key-unavailable, never a wrong key', () => {
    const dir = newDir();
    const a = openKeys(dir);
    const k = a.activeKey('Patient/x');
    a.close();
    const other = newDir();
    mkdirSync(join(other, 'keys'), { recursive: true, mode: 0o700 });
    copyFileSync(storePath(dir), storePath(other));
    const b = openKeys(other);
    expect(() => b.lookup(k.id)).toThrow(expect.objectContaining({ code: 'key-unavailable' }));
    expect(openKeys(newDir()).lookup(k.id)).toBeUndefined();
  });
});
