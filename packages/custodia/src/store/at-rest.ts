/**
 * How resource versions and their search values look at rest (issue 4): the one place
 * both write paths (write-versions.ts, sqlite-fast-path.ts) and every read path turn a
 * version into stored bytes and back.
 *
 * Sealed: each version is an envelope (crypto/envelope.ts) under its owner's data key —
 * the patient whose compartment it is in, or the tenant key for everything else — with
 * AES-256-GCM and the AAD `type ‖ id ‖ versionId` (crypto/aad.ts), so a row moved to
 * another record or version fails to open. Identifying search values are blinded
 * (blind-search.ts). Clear: the JSON as UTF-8, for stores opened without a key store
 * (tools and tests that do not care, and benchmarks). A sealed store reads no clear row:
 * a vault is sealed from its first write, so JSON in place of an envelope is a forgery.
 *
 * Secrets the vault must read back — TOTP shared secrets, pending or confirmed — are
 * sealed too, under the tenant key, with the AAD `custodia/secret/v1 ‖ purpose ‖ subject`
 * (secretAad), so a secret copied onto another user's row fails to open. RFC 6238 §5.1
 * recommends exactly this: keys encrypted at rest, decrypted only when needed to verify.
 */
import { CustodiaError, type Random } from '../kernel/index.js';
import { ENVELOPE_VERSION, envelopeKeyId, openEnvelope, resourceVersionAad, sealEnvelope } from '../crypto/index.js';
import type { IndexRows, SearchQuery, VersionWrite } from '../fhir/index.js';
import { blindIndexRows, blindQuery, type BlindPartMemo } from './blind-search.js';
import { TENANT_OWNER, type KeyStore } from './key-store.js';

/** The stored columns of a version (`resource_versions.content`, `.key_id`). */
export interface SealedContent {
  readonly content: Buffer | null;
  readonly keyId: string | null;
}

/** The columns a version is opened from. */
export interface StoredContent {
  readonly res_type: string;
  readonly res_id: string;
  readonly version_id: number | string;
  readonly content: Uint8Array | null;
  readonly key_id?: string | null;
  /** The version is a deletion (no content by design); absent where only content rows are read. */
  readonly deleted?: number | string;
}

export interface AtRest {
  /** Whether versions are sealed and identifiers blinded. */
  readonly sealed: boolean;
  /** The key store, when sealed (erasure, rotation, status). */
  readonly keys?: KeyStore;
  /** Creates the data keys a batch of writes will need, in one key-store commit, before the writes seal. */
  prepare(writes: readonly VersionWrite[]): void;
  /**
   * The same, flushing the key store off the event loop (KeyStore.prepareDurably); resolves
   * once the keys are durable. Writers await it before `prepare`, which then finds them.
   */
  prepareDurably(writes: readonly VersionWrite[]): Promise<void>;
  sealVersion(w: VersionWrite): SealedContent;
  /** The JSON of a stored version; null for a deletion. `resource-erased` for a version whose key was destroyed. */
  openVersion(row: StoredContent): string | null;
  /**
   * Data-key rotation: the version opened and sealed again under the current key of the
   * owner of the key that sealed it (same AAD). `resource-erased` if that owner was erased.
   */
  resealVersion(row: StoredContent & { readonly key_id: string; readonly content: Uint8Array }): SealedContent;
  /** Index rows as stored. */
  indexRows(type: string, rows: IndexRows): IndexRows;
  /** A query over the index rows as stored. */
  query(q: SearchQuery): SearchQuery;
  /**
   * A secret the vault must read back (a TOTP shared secret), as stored: an envelope under
   * the tenant key bound to `purpose` (e.g. `totp`) and `subject` (the user id); the bytes
   * as they are when clear.
   */
  sealSecret(purpose: string, subject: string, plaintext: Buffer): Buffer;
  /**
   * The secret `sealSecret` stored for this purpose and subject. Sealed: `decrypt-failed`
   * for anything that is not its envelope (clear bytes, another subject's or purpose's
   * envelope, a changed byte); `key-unavailable` if the key is gone.
   */
  openSecret(purpose: string, subject: string, stored: Uint8Array): Buffer;
  /**
   * Data that belongs to one owner (`Patient/<id>` or the tenant) and must be read back:
   * ledger entries about a patient (issue 5), sealed under that patient's data key so that
   * erasing the patient makes them unreadable. Opened with {@link openSecret}. Clear: the
   * bytes as they are, no key id.
   */
  sealFor(owner: string, purpose: string, subject: string, plaintext: Buffer): SealedContent;
  /** Whether `owner` has a data key now (never creates one); always true in clear. */
  hasLiveKey(owner: string): boolean;
}

const SECRET_PURPOSE = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The AAD of a sealed secret: `custodia/secret/v1 \0 purpose \0 subject`. The purpose
 * cannot contain NUL and the subject is refused if it does, so two different pairs never
 * give the same bytes (and never those of a resource version, crypto/aad.ts).
 */
export function secretAad(purpose: string, subject: string): Buffer {
  if (!SECRET_PURPOSE.test(purpose) || subject.length === 0 || subject.length > 256 || subject.includes('\u0000')) {
    throw new CustodiaError('internal', 'A sealed secret is named by a purpose (lower-case word) and a subject (1–256 characters, no NUL)');
  }
  return Buffer.from(`custodia/secret/v1\u0000${purpose}\u0000${subject}`, 'utf8');
}

const tampered = (why: string): CustodiaError => new CustodiaError('decrypt-failed', `${why}: the stored data was changed outside Custodia`);
const erased = (): CustodiaError => new CustodiaError('resource-erased', 'This record was erased at the patient’s request');

/** A stored version whose key was destroyed by an erasure (its content is gone too, or unreadable). */
export const isErasedRow = (row: StoredContent): boolean => row.content === null && row.key_id !== null && row.key_id !== undefined;

function asText(content: Uint8Array): string {
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
}

/** Stores everything in clear (no key store). A sealed row cannot be opened: `key-unavailable`. */
export const CLEAR_AT_REST: AtRest = Object.freeze({
  sealed: false,
  prepare: (): void => undefined,
  prepareDurably: async (): Promise<void> => undefined,
  sealVersion: (w: VersionWrite): SealedContent => ({ content: w.json === null ? null : Buffer.from(w.json, 'utf8'), keyId: null }),
  openVersion(row: StoredContent): string | null {
    if (isErasedRow(row)) throw erased();
    if (row.content === null) return null;
    if (row.key_id !== null && row.key_id !== undefined) throw new CustodiaError('key-unavailable', 'This data is encrypted and the store was opened without its key store');
    return asText(row.content);
  },
  resealVersion(): SealedContent {
    throw new CustodiaError('key-unavailable', 'The store was opened without its key store');
  },
  indexRows: (_type: string, rows: IndexRows): IndexRows => rows,
  query: (q: SearchQuery): SearchQuery => q,
  // The bytes as they are; the names are still checked, so a caller's mistake shows in clear tests too.
  sealSecret(purpose: string, subject: string, plaintext: Buffer): Buffer {
    secretAad(purpose, subject);
    return Buffer.from(plaintext);
  },
  openSecret(purpose: string, subject: string, stored: Uint8Array): Buffer {
    secretAad(purpose, subject);
    return Buffer.from(stored);
  },
  sealFor(_owner: string, purpose: string, subject: string, plaintext: Buffer): SealedContent {
    secretAad(purpose, subject);
    return { content: Buffer.from(plaintext), keyId: null };
  },
  hasLiveKey: (): boolean => true,
});

/**
 * Whose data key seals a version: a Patient its own; anything in exactly one patient's
 * compartment that patient's; everything else (shared by several patients, or in none)
 * the tenant's. Erasing a patient therefore destroys what is theirs alone.
 */
export function ownerOf(w: VersionWrite): string {
  if (w.type === 'Patient') return `Patient/${w.id}`;
  let owner: string | undefined;
  for (const c of w.compartments ?? []) {
    if (c.compartment !== 'Patient') continue;
    const o = `Patient/${c.id}`;
    if (owner !== undefined && owner !== o) return TENANT_OWNER;
    owner = o;
  }
  return owner ?? TENANT_OWNER;
}

/** The data-key owners of the versions a batch of writes seals (deletions seal nothing). */
const ownersOf = (writes: readonly VersionWrite[]): string[] => writes.filter((w) => w.json !== null).map(ownerOf);

export function sealedAtRest(keys: KeyStore, random: Random): AtRest {
  const lookup = (id: string): Uint8Array | undefined => {
    const k = keys.lookup(id);
    if (k?.kind === 'erased') throw erased();
    return k?.key;
  };
  const sealUnder = (owner: string, json: string, type: string, id: string, versionId: number): SealedContent => {
    const dk = keys.activeKey(owner);
    return { content: sealEnvelope(dk, Buffer.from(json, 'utf8'), resourceVersionAad(type, id, versionId), random), keyId: dk.id };
  };
  const memo: BlindPartMemo = new Map();
  const at: AtRest = {
    sealed: true,
    keys,
    prepare(writes: readonly VersionWrite[]): void {
      memo.clear();
      keys.prepare(ownersOf(writes));
    },
    prepareDurably: (writes: readonly VersionWrite[]): Promise<void> => keys.prepareDurably(ownersOf(writes)),
    sealVersion(w: VersionWrite): SealedContent {
      if (w.json === null) return { content: null, keyId: null };
      return sealUnder(ownerOf(w), w.json, w.type, w.id, w.versionId);
    },
    resealVersion(row): SealedContent {
      const owner = keys.ownerOf(row.key_id);
      if (owner === undefined) throw new CustodiaError('key-unavailable', 'The key that sealed this data is not in the key store');
      const json = at.openVersion(row);
      if (json === null) throw new CustodiaError('internal', 'A sealed version has no content');
      return sealUnder(owner, json, row.res_type, row.res_id, Number(row.version_id));
    },
    openVersion(row: StoredContent): string | null {
      if (isErasedRow(row)) throw erased();
      // Rows are attacker-reachable (a database copy, or write access to it): nothing is taken on trust.
      if (row.content === null) {
        if (row.deleted !== undefined && Number(row.deleted) !== 1) throw tampered('A live version has no content');
        return null;
      }
      // A sealed vault stores nothing in clear: JSON put in place of an envelope is a forgery, not data.
      if (row.content[0] !== ENVELOPE_VERSION) throw tampered('A version is stored in clear in a sealed vault');
      if (row.key_id !== envelopeKeyId(row.content)) throw tampered('A version names another key than the one that sealed it');
      return openEnvelope(lookup, row.content, resourceVersionAad(row.res_type, row.res_id, Number(row.version_id))).toString('utf8');
    },
    indexRows: (type: string, rows: IndexRows): IndexRows => blindIndexRows(keys.indexKey(), type, rows, memo),
    query: (q: SearchQuery): SearchQuery => blindQuery(keys.indexKey(), q),
    sealSecret: (purpose: string, subject: string, plaintext: Buffer): Buffer => sealEnvelope(keys.activeKey(TENANT_OWNER), plaintext, secretAad(purpose, subject), random),
    hasLiveKey: (owner: string): boolean => keys.hasActiveKey(owner),
    sealFor(owner: string, purpose: string, subject: string, plaintext: Buffer): SealedContent {
      const dk = keys.activeKey(owner);
      return { content: sealEnvelope(dk, plaintext, secretAad(purpose, subject), random), keyId: dk.id };
    },
    openSecret(purpose: string, subject: string, stored: Uint8Array): Buffer {
      const aad = secretAad(purpose, subject);
      // As for versions: a sealed vault stores no secret in clear, so clear bytes are a forgery (or a row from before secrets were sealed: identity-secrets.ts).
      if (stored[0] !== ENVELOPE_VERSION) throw tampered('A secret is stored in clear in a sealed vault');
      return openEnvelope(lookup, stored, aad);
    },
  };
  return Object.freeze(at);
}
