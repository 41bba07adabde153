/**
 * The default KeyProvider: KEKs in the local keyring file `<data-dir>/keys/keyring.json`
 * (keyring-file.ts; mode 0600, optionally sealed by a passphrase), data keys wrapped with
 * AES key wrap (RFC 3394, crypto/key-wrap.ts).
 *
 * The server and the CLI may hold the same keyring at once (`custodia keys rotate` while
 * the server runs). Before wrapping, and when asked for a KEK it does not know, the
 * provider re-reads the file if it changed, so a process never wraps under a KEK another
 * process has already retired and never fails to unwrap under one it has just added.
 */
import { statSync } from 'node:fs';
import { CustodiaError, type Random } from '../kernel/index.js';
import { currentKek, rotateKek, unwrapKey, wrapKey, type KekInfo, type KeyProvider, type Keyring, type KeyringProtection, type WrappedKey } from '../crypto/index.js';
import { keyringPath, loadKeyring, saveKeyring } from './keyring-file.js';

export interface KeyringProviderOptions {
  readonly dataDir: string;
  /** Opens (and protects, when creating) a passphrase-sealed keyring. */
  readonly passphrase?: string;
  readonly random: Random;
  readonly now: () => number;
}

const stamp = (path: string): string => {
  const s = statSync(path, { bigint: true });
  return `${s.ino}:${s.mtimeNs}:${s.size}`;
};

export function openKeyringProvider(o: KeyringProviderOptions): KeyProvider {
  const path = keyringPath(o.dataDir);
  let ring: Keyring = loadKeyring(o.dataDir, { create: true, random: o.random, now: o.now(), ...(o.passphrase === undefined ? {} : { passphrase: o.passphrase }) });
  let seen = stamp(path);
  const protection: KeyringProtection = o.passphrase === undefined ? { kind: 'none' } : { kind: 'passphrase', passphrase: o.passphrase };
  const refresh = (): void => {
    const now = stamp(path);
    if (now === seen) return;
    ring = loadKeyring(o.dataDir, { create: false, random: o.random, now: o.now(), ...(o.passphrase === undefined ? {} : { passphrase: o.passphrase }) });
    seen = now;
  };
  const save = (next: Keyring): void => {
    saveKeyring(o.dataDir, next, protection, o.random);
    ring = next;
    seen = stamp(path);
  };
  const kekOf = (id: string): Buffer | undefined => ring.keks.find((k) => k.id === id)?.key;
  return {
    kind: 'keyring',
    keks(): KekInfo[] {
      refresh();
      return ring.keks.map((k) => ({ id: k.id, createdAt: k.createdAt, current: k.id === ring.current }));
    },
    wrap(dataKey: Uint8Array): WrappedKey {
      refresh();
      const kek = currentKek(ring);
      return { kekId: kek.id, wrapped: wrapKey(kek.key, dataKey) };
    },
    unwrap(w: WrappedKey): Buffer {
      let kek = kekOf(w.kekId);
      if (kek === undefined) {
        refresh();
        kek = kekOf(w.kekId);
      }
      if (kek === undefined) throw new CustodiaError('key-unavailable', `The keyring has no KEK ${w.kekId} (destroyed, or another vault's keyring)`);
      return unwrapKey(kek, w.wrapped);
    },
    rotate(): string {
      refresh();
      const next = rotateKek(ring, o.random, o.now());
      save(next);
      return next.current;
    },
    destroy(kekId: string): void {
      refresh();
      if (kekId === ring.current) throw new CustodiaError('request-malformed', 'The current KEK cannot be destroyed; rotate first');
      if (kekOf(kekId) === undefined) throw new CustodiaError('key-unavailable', `The keyring has no KEK ${kekId}`);
      const dropped = ring.keks.find((k) => k.id === kekId);
      save({ keks: ring.keks.filter((k) => k.id !== kekId), current: ring.current });
      dropped?.key.fill(0);
    },
    close(): void {
      for (const k of ring.keks) k.key.fill(0);
    },
  };
}
