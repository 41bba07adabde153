/**
 * What the audit ledger commits to (issue 5 §2). Each Merkle leaf is the RFC 8785 (JSON
 * Canonicalization Scheme) serialisation of one entry, so that anyone can recompute a
 * leaf from the entry and a verifier in another language gets the same bytes. Every
 * entry carries a random 32-byte salt: a leaf hash then reveals nothing about an entry
 * an attacker could guess ("did Dr X read patient Y at 10:00?").
 *
 * Two kinds of entry:
 *   - `audit`: one audited interaction (audit-record.ts); `access`, one patient's account
 *     of an audited interaction that named several patients (patient-chain.ts);
 *   - `version`: the commitment to one stored resource version, the SHA-256 of the bytes
 *     as stored (the ciphertext in a sealed vault), so that a silent change to the data
 *     itself is detectable; `reseal` and `erasure` commit to what key rotation and
 *     crypto-shredding legitimately do to those bytes.
 */
import { canonicalJson } from './canonical-json.js';
import { CustodiaError } from '../kernel/index.js';
import { isAuditRecord, type AuditRecord } from './audit-record.js';

export const SALT_BYTES = 32;

export interface AuditEntry {
  readonly kind: 'audit';
  /** base64 of {@link SALT_BYTES} random bytes. */
  readonly salt: string;
  readonly event: AuditRecord;
  /**
   * For an event about exactly one patient: the ledger index of the previous entry of that
   * patient's chain, or null for the first (patient-chain.ts). Absent on events about
   * several patients or none, and on entries appended before chains were kept.
   */
  readonly prev?: number | null;
}

/**
 * One patient's account of an audit event that named several patients (patient-chain.ts):
 * the event as that patient may see it (only them as subject, no query), the index of the
 * full event it accounts for, and the link of the patient's chain.
 */
export interface AccessEntry {
  readonly kind: 'access';
  readonly salt: string;
  /** Ledger index of the full `audit` entry (always lower than this entry's). */
  readonly of: number;
  readonly prev: number | null;
  readonly event: AuditRecord;
}

/** A resource version as stored: its bytes' SHA-256 (null for a deletion, which stores none). */
export interface VersionEntry {
  readonly kind: 'version';
  readonly salt: string;
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  /** base64 SHA-256 of the stored content, or null when the version has none (a deletion). */
  readonly sha256: string | null;
}

/** The same version re-sealed under another data key (key rotation): the new bytes' SHA-256. */
export interface ResealEntry extends Omit<VersionEntry, 'kind'> {
  readonly kind: 'reseal';
}

/** A patient's data keys were destroyed (crypto-shredding): versions sealed under these keys may have lost their content. */
export interface ErasureEntry {
  readonly kind: 'erasure';
  readonly salt: string;
  readonly patient: string;
  readonly keyIds: readonly string[];
  /** Epoch milliseconds. */
  readonly at: number;
}

export type LedgerEntry = AuditEntry | AccessEntry | VersionEntry | ResealEntry | ErasureEntry;

/** The leaf data of an entry: its RFC 8785 canonical JSON, UTF-8. */
export function encodeEntry(entry: LedgerEntry): Buffer {
  const text = canonicalJson(entry);
  if (text === undefined) throw new CustodiaError('internal', 'A ledger entry has no JSON form');
  return Buffer.from(text, 'utf8');
}

const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isSha = (v: unknown): boolean => v === null || (typeof v === 'string' && BASE64_32.test(v));
const hasOnly = (o: Record<string, unknown>, keys: readonly string[]): boolean => Object.keys(o).every((k) => keys.includes(k)) && keys.every((k) => k in o);
const isIndex = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isLink = (v: unknown): boolean => v === null || isIndex(v);

function isAudit(o: Record<string, unknown>): boolean {
  if (!('prev' in o)) return hasOnly(o, ['kind', 'salt', 'event']) && isAuditRecord(o['event']);
  // A chain link only on an event about exactly one patient.
  return hasOnly(o, ['kind', 'salt', 'event', 'prev']) && isAuditRecord(o['event']) && o['event'].patients.length === 1 && isLink(o['prev']);
}

function isAccess(o: Record<string, unknown>): boolean {
  return (
    hasOnly(o, ['kind', 'salt', 'of', 'prev', 'event']) &&
    isIndex(o['of']) &&
    isLink(o['prev']) &&
    isAuditRecord(o['event']) &&
    o['event'].patients.length === 1 &&
    o['event'].query === undefined
  );
}

function isVersionLike(o: Record<string, unknown>): boolean {
  return (
    hasOnly(o, ['kind', 'salt', 'type', 'id', 'versionId', 'sha256']) &&
    isText(o['type'], 64) &&
    isText(o['id'], 64) &&
    Number.isSafeInteger(o['versionId']) &&
    (o['versionId'] as number) >= 1 &&
    isSha(o['sha256'])
  );
}

/**
 * Parses leaf data back into an entry. The bytes are attacker-reachable (a database copy, a
 * proof bundle handed to a patient): the shape is checked field by field, and the bytes
 * must be exactly the canonical form of what they parse to, so one entry has one leaf.
 */
export function decodeEntry(bytes: Uint8Array): LedgerEntry {
  const bad = (why: string): CustodiaError => new CustodiaError('ledger-invalid', `A ledger entry is malformed: ${why}`);
  if (bytes.length > 1_000_000) throw bad('too large');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (!isObject(value) || typeof value['salt'] !== 'string' || !BASE64_32.test(value['salt'])) throw bad('no salt');
  const ok = (() => {
    switch (value['kind']) {
      case 'audit':
        return isAudit(value);
      case 'access':
        return isAccess(value);
      case 'version':
      case 'reseal':
        return isVersionLike(value);
      case 'erasure':
        return (
          hasOnly(value, ['kind', 'salt', 'patient', 'keyIds', 'at']) &&
          isText(value['patient'], 64) &&
          Array.isArray(value['keyIds']) &&
          value['keyIds'].every((k) => isText(k, 64)) &&
          Number.isSafeInteger(value['at'])
        );
      default:
        return false;
    }
  })();
  if (!ok) throw bad(`not a valid ${typeof value['kind'] === 'string' ? value['kind'].slice(0, 20) : 'entry'}`);
  const entry = value as unknown as LedgerEntry;
  if (!encodeEntry(entry).equals(Buffer.from(bytes))) throw bad('not in canonical form (RFC 8785)');
  return entry;
}
