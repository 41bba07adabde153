/**
 * What every KeyProvider (src/crypto/key-provider.ts) promises, as one suite that each
 * implementation runs against its real backing store, as the store suites run against
 * every dialect:
 *
 *   keyProviderContract('PKCS#11 (SoftHSM2)', (dir) => openPkcs11KeyProvider(...));
 *   keyProviderContract('keyring file', (dir) => openKeyringProvider({ dataDir: dir, ... }));
 *
 * `open(dir)` opens a provider on the store kept in `dir`, a fresh empty temp directory per
 * test: a keyring's data directory, or a directory holding a SoftHSM2 token. Calling it
 * again with the same `dir` after close() must reopen the same KEKs. At most one provider
 * is open at a time (a PKCS#11 module is per process). The contract closes what it opened
 * and removes `dir`.
 *
 * The error codes are part of the contract: `key-unavailable` for a KEK the provider does
 * not have, `decrypt-failed` for wrapped bytes that are not intact under the named KEK, and
 * `request-malformed` for destroying the current KEK.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyProvider } from '../../src/crypto/index.js';
import { secureRandom } from '../../src/kernel/index.js';

export type OpenKeyProvider = (dir: string) => KeyProvider | Promise<KeyProvider>;

export interface KeyProviderContractOptions {
  /** Skips the suite, with the reason in its name (e.g. "CUSTODIA_TEST_SOFTHSM is not set"). */
  readonly skip?: string | undefined;
}

const code = (c: string): unknown => expect.objectContaining({ name: 'CustodiaError', code: c });
const dataKey = (): Buffer => secureRandom.bytes(32);

export function keyProviderContract(name: string, open: OpenKeyProvider, options: KeyProviderContractOptions = {}): void {
  const title = options.skip === undefined ? `KeyProvider contract: ${name}` : `KeyProvider contract: ${name} (skipped: ${options.skip})`;
  describe.skipIf(options.skip !== undefined)(title, () => {
    const dirs: string[] = [];
    const opened: KeyProvider[] = [];
    /** A fresh store directory and a provider opened on it; `reopen` closes it and opens the same store again. */
    const fresh = async (): Promise<{ dir: string; keys: KeyProvider; reopen(): Promise<KeyProvider> }> => {
      const dir = mkdtempSync(join(tmpdir(), 'custodia-kp-'));
      dirs.push(dir);
      const state = { dir, keys: await track(open(dir)) } as { dir: string; keys: KeyProvider; reopen(): Promise<KeyProvider> };
      state.reopen = async () => {
        state.keys.close();
        state.keys = await track(open(dir));
        return state.keys;
      };
      return state;
    };
    const track = async (p: KeyProvider | Promise<KeyProvider>): Promise<KeyProvider> => {
      const k = await p;
      opened.push(k);
      return k;
    };
    afterEach(() => {
      for (const k of opened.splice(0)) k.close();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    });

    it('starts with exactly one KEK, which is current', async () => {
      const { keys } = await fresh();
      const keks = keys.keks();
      expect(keks).toHaveLength(1);
      expect(keks[0]!.current).toBe(true);
      expect(typeof keys.kind).toBe('string');
    });

    it('unwraps what it wraps, under the current KEK, and the wrapped bytes are not the key', async () => {
      const { keys } = await fresh();
      const current = keys.keks().find((k) => k.current)!.id;
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (raw) => {
          const key = Buffer.from(raw);
          const w = keys.wrap(key);
          expect(w.kekId).toBe(current);
          expect(w.wrapped.includes(key)).toBe(false);
          expect(keys.unwrap(w).equals(key)).toBe(true);
        }),
        { numRuns: 64 },
      );
    });

    it('fails every flipped bit, a shorter or longer wrap and an empty one with decrypt-failed', async () => {
      const { keys } = await fresh();
      const w = keys.wrap(dataKey());
      for (let bit = 0; bit < w.wrapped.length * 8; bit++) {
        const bad = Buffer.from(w.wrapped);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expect(() => keys.unwrap({ kekId: w.kekId, wrapped: bad }), `bit ${bit}`).toThrow(code('decrypt-failed'));
      }
      for (const wrapped of [w.wrapped.subarray(0, w.wrapped.length - 8), Buffer.concat([w.wrapped, Buffer.alloc(8)]), w.wrapped.subarray(0, 1), Buffer.alloc(0)]) {
        expect(() => keys.unwrap({ kekId: w.kekId, wrapped })).toThrow(code('decrypt-failed'));
      }
      expect(keys.unwrap(w).length).toBe(32);
    });

    it('says key-unavailable for a KEK it does not have, whatever the id looks like', async () => {
      const { keys } = await fresh();
      const w = keys.wrap(dataKey());
      for (const kekId of ['kek-0000000000000000', 'custodia-kek-0000000000000000', '', '../../etc/passwd', `${w.kekId}x`]) {
        expect(() => keys.unwrap({ kekId, wrapped: w.wrapped })).toThrow(code('key-unavailable'));
      }
    });

    it('rotates: a new current KEK wraps from then on, and the old one still unwraps', async () => {
      const { keys } = await fresh();
      const first = keys.keks()[0]!.id;
      const key = dataKey();
      const before = keys.wrap(key);
      const second = keys.rotate();
      expect(second).not.toBe(first);
      expect(keys.keks().map((k) => [k.id, k.current])).toEqual([
        [first, false],
        [second, true],
      ]);
      const after = keys.wrap(key);
      expect(after.kekId).toBe(second);
      expect(keys.unwrap(before).equals(key)).toBe(true);
      expect(keys.unwrap(after).equals(key)).toBe(true);
    });

    it('unwraps only with the KEK that wrapped: the same bytes named as another KEK fail', async () => {
      const { keys } = await fresh();
      const old = keys.wrap(dataKey());
      const fresher = keys.wrap(dataKey());
      keys.rotate();
      const now = keys.wrap(dataKey());
      expect(() => keys.unwrap({ kekId: now.kekId, wrapped: old.wrapped })).toThrow(code('decrypt-failed'));
      expect(() => keys.unwrap({ kekId: old.kekId, wrapped: now.wrapped })).toThrow(code('decrypt-failed'));
      expect(keys.unwrap(fresher).length).toBe(32);
    });

    it('destroys an old KEK (what it wrapped is then key-unavailable) but never the current one', async () => {
      const { keys } = await fresh();
      const old = keys.wrap(dataKey());
      const current = keys.rotate();
      const fresh2 = keys.wrap(dataKey());
      expect(() => keys.destroy(current)).toThrow(code('request-malformed'));
      keys.destroy(old.kekId);
      expect(keys.keks().map((k) => k.id)).toEqual([current]);
      expect(() => keys.unwrap(old)).toThrow(code('key-unavailable'));
      expect(() => keys.destroy(old.kekId)).toThrow(code('key-unavailable'));
      expect(keys.unwrap(fresh2).length).toBe(32);
      expect(keys.wrap(dataKey()).kekId).toBe(current);
    });

    it('keeps its KEKs across close and reopen: same ids, same current, old wraps still unwrap', async () => {
      const store = await fresh();
      const key = dataKey();
      const a = store.keys.wrap(key);
      const second = store.keys.rotate();
      const b = store.keys.wrap(key);
      const third = store.keys.rotate();
      store.keys.destroy(second);
      const before = store.keys.keks();
      const again = await store.reopen();
      expect(again.keks()).toEqual(before);
      expect(again.keks().find((k) => k.current)!.id).toBe(third);
      expect(again.unwrap(a).equals(key)).toBe(true);
      expect(() => again.unwrap(b)).toThrow(code('key-unavailable'));
      expect(again.wrap(key).kekId).toBe(third);
    });

    it('lists KEKs oldest first, each with its creation time when known', async () => {
      const { keys } = await fresh();
      keys.rotate();
      keys.rotate();
      const keks = keys.keks();
      expect(keks.map((k) => k.current)).toEqual([false, false, true]);
      const times = keks.map((k) => k.createdAt).filter((t): t is number => t !== undefined);
      expect([...times].sort((x, y) => x - y)).toEqual(times);
      expect(new Set(keks.map((k) => k.id)).size).toBe(3);
    });
  });
}

