/**
 * The port for whatever holds the vault's key-encryption keys (KEKs): the local keyring
 * file (store/keyring-provider.ts) or a PKCS#11 HSM (store/pkcs11-key-provider.ts). A
 * KEK never leaves it in a form the database could hold; it only wraps and unwraps the
 * 32-byte data keys kept in the key store (store/key-store.ts).
 *
 * Every call is synchronous: reads decrypt on SQLite's synchronous fast path, and both
 * providers answer synchronously (node:crypto AES key wrap; PKCS#11 C_WrapKey /
 * C_UnwrapKey are blocking calls). Callers cache unwrapped data keys, so an HSM round
 * trip is paid once per data key, not per read.
 */
export interface WrappedKey {
  /** The KEK that wrapped it. */
  readonly kekId: string;
  readonly wrapped: Buffer;
}

export interface KekInfo {
  readonly id: string;
  /** Epoch ms, when the provider knows it. */
  readonly createdAt?: number;
  readonly current: boolean;
}

export interface KeyProvider {
  /** `keyring` or `pkcs11`, for `custodia keys status`. */
  readonly kind: string;
  /** Every KEK the provider holds, the current one marked. */
  keks(): readonly KekInfo[];
  /** Wraps a 32-byte data key under the current KEK. */
  wrap(dataKey: Uint8Array): WrappedKey;
  /**
   * Unwraps with the named KEK. `key-unavailable` when the provider has no such KEK
   * (destroyed, another HSM token); `decrypt-failed` when the wrapped bytes are not intact.
   */
  unwrap(key: WrappedKey): Buffer;
  /** Makes a fresh KEK current and returns its id; older KEKs still unwrap until destroyed. */
  rotate(): string;
  /** Destroys a KEK that nothing is wrapped under any more. The current KEK cannot be destroyed. */
  destroy(kekId: string): void;
  close(): void;
}
