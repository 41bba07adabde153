/**
 * The proof part of a `$access-log` Bundle: a FHIR Parameters resource (id
 * `access-log-proof`) that lets anyone check, offline, that the AuditEvents beside it are
 * entries of the vault's audit ledger (docs/operations.md § Access log proofs):
 *
 *   format        valueUri           {@link ACCESS_LOG_PROOF_FORMAT}
 *   patient       valueReference     Patient/<id>
 *   since         valueInstant       (when `_since` was given)
 *   checkpoint    valueString        the signed C2SP checkpoint (note text and signatures)
 *   head          valueString        the log's signed statement of the patient's newest chain
 *                                    entry among the checkpoint's leaves (ledger/chain-head.ts);
 *                                    in format v3, absent from v2 proofs
 *   verifierKey   valueString        the log's vkey, for information only: pin your own
 *   erased        valueInteger       entries of the run that can no longer be read (their patient was erased)
 *   after         valueString        the index this page follows (`_after`), when paged
 *   boundary      parts as an entry   the chain entry just before the first one (or the
 *                                     patient's newest, when there is none), when the run
 *                                     does not start the chain and no `after` is given
 *   entry (one per chain entry, oldest first: each readable one is an AuditEvent of the Bundle), parts:
 *     index           valueString       the ledger index, decimal (may exceed 32 bits)
 *     event           valueReference    AuditEvent/ledger-<index>
 *     leafHash        valueBase64Binary SHA-256(0x00 ‖ data), RFC 9162 §2.1.1
 *     data            valueBase64Binary the entry's bytes (RFC 8785 canonical JSON), or instead
 *     withheld        valueString       why the bytes are not given (the event also names other
 *                                       patients, or its patient was erased)
 *     inclusionProof  valueBase64Binary × n, the RFC 9162 §2.1.3 audit path, leaf's sibling first
 *
 * The entries are a contiguous run of the patient's chain (ledger/patient-chain.ts): each
 * links to the one before, so the verifier can tell that none is missing; the head says
 * where the chain ends at the checkpoint, so that none can be left off the end unnoticed.
 *
 * Parsing is strict: the Bundle comes back from whoever holds it (the verifier's input
 * is attacker-controlled), so every name, count, type and length is checked.
 */
import { CustodiaError } from '../kernel/index.js';
import { decodeBase64, encodeBase64 } from '../ledger/index.js';
import { isFhirId } from '../fhir/index.js';
import { ledgerEventId } from './audit-event-resource.js';

export const ACCESS_LOG_PROOF_ID = 'access-log-proof';
export const ACCESS_LOG_PROOF_FORMAT = 'https://custodia.dev/fhir/access-log-proof/v3';
/** Proofs made before the signed head (2026-12-01): still verified, without the head's guarantee. */
export const ACCESS_LOG_PROOF_FORMAT_V2 = 'https://custodia.dev/fhir/access-log-proof/v2';
/** Why an event's bytes are not in a patient's proof. */
export const WITHHELD_SHARED = 'the event also names other patients: its entry is not disclosed, only its leaf hash and its inclusion';
export const WITHHELD_ERASED = 'the patient was erased: the entry can no longer be read, only its leaf hash and its inclusion are shown';

export interface ProofItem {
  readonly index: number;
  readonly leafHash: Buffer;
  /** The leaf data; absent when withheld. */
  readonly data?: Buffer;
  readonly withheld?: string;
  readonly inclusionProof: readonly Buffer[];
}

export interface AccessLogProof {
  readonly patient: string;
  /** Epoch ms of `_since`, if given. */
  readonly since?: number;
  readonly checkpoint: string;
  /** The signed chain head (signed-note text); absent only in v2 proofs. */
  readonly head?: string;
  readonly verifierKey: string;
  readonly erased: number;
  /** The index the page follows, when paged. */
  readonly after?: number;
  readonly boundary?: ProofItem;
  readonly items: readonly ProofItem[];
}

/** Limits on what the parser accepts (the server never produces more). */
export const PROOF_LIMITS = Object.freeze({ items: 10_000, pathLength: 63, noteBytes: 1024 * 1024, dataBytes: 1_000_000, keyLength: 512 });

type Json = Record<string, unknown>;

/**
 * The Parameters resource of a proof.
 *
 * @example
 *   proofParameters({ patient: 'p1', checkpoint, verifierKey, erased: 0, items });
 */
export function proofParameters(p: AccessLogProof): Json {
  const entry = (i: ProofItem, name = 'entry'): Json => ({
    name,
    part: [
      { name: 'index', valueString: String(i.index) },
      { name: 'event', valueReference: { reference: `AuditEvent/${ledgerEventId(i.index)}` } },
      { name: 'leafHash', valueBase64Binary: encodeBase64(i.leafHash) },
      i.data !== undefined ? { name: 'data', valueBase64Binary: encodeBase64(i.data) } : { name: 'withheld', valueString: i.withheld ?? WITHHELD_SHARED },
      ...i.inclusionProof.map((h) => ({ name: 'inclusionProof', valueBase64Binary: encodeBase64(h) })),
    ],
  });
  return {
    resourceType: 'Parameters',
    id: ACCESS_LOG_PROOF_ID,
    parameter: [
      { name: 'format', valueUri: p.head === undefined ? ACCESS_LOG_PROOF_FORMAT_V2 : ACCESS_LOG_PROOF_FORMAT },
      { name: 'patient', valueReference: { reference: `Patient/${p.patient}` } },
      ...(p.since === undefined ? [] : [{ name: 'since', valueInstant: new Date(p.since).toISOString() }]),
      { name: 'checkpoint', valueString: p.checkpoint },
      ...(p.head === undefined ? [] : [{ name: 'head', valueString: p.head }]),
      { name: 'verifierKey', valueString: p.verifierKey },
      { name: 'erased', valueInteger: p.erased },
      ...(p.after === undefined ? [] : [{ name: 'after', valueString: String(p.after) }]),
      ...(p.boundary === undefined ? [] : [entry(p.boundary, 'boundary')]),
      ...p.items.map((i) => entry(i)),
    ],
  };
}

const bad = (why: string): CustodiaError => new CustodiaError('ledger-invalid', `The access-log proof is malformed: ${why}`);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const INDEX = /^(?:0|[1-9][0-9]{0,15})$/;

/** One `{ name, value[x] }` parameter with exactly the expected value type; its value. */
function valueOf(p: Json, valueKey: string, where: string): unknown {
  const keys = Object.keys(p);
  if (keys.length !== 2 || !keys.includes('name') || !keys.includes(valueKey)) throw bad(`${where} must have exactly a name and ${valueKey}`);
  return p[valueKey];
}

function text(v: unknown, max: number, where: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw bad(`${where} is not a string of at most ${max} characters`);
  return v;
}

function base64(v: unknown, maxBytes: number, where: string): Buffer {
  const s = text(v, Math.ceil(maxBytes / 3) * 4, where);
  const bytes = decodeBase64(s);
  if (bytes === undefined) throw bad(`${where} is not canonical base64`);
  return bytes;
}

function reference(v: unknown, pattern: RegExp, where: string): string {
  if (!isObject(v) || Object.keys(v).length !== 1 || typeof v['reference'] !== 'string') throw bad(`${where} must be a reference`);
  const m = pattern.exec(v['reference']);
  if (m === null) throw bad(`${where} does not name what it should`);
  return m[1]!;
}

function indexOf(v: unknown, where: string): number {
  if (typeof v !== 'string' || !INDEX.test(v) || !Number.isSafeInteger(Number(v))) throw bad(`${where} has no valid index`);
  return Number(v);
}

function parseItem(p: Json, where: string): ProofItem {
  const keys = Object.keys(p);
  if (keys.length !== 2 || !keys.includes('name') || !Array.isArray(p['part'])) throw bad(`${where} must have exactly a name and parts`);
  const parts = p['part'] as unknown[];
  if (parts.length > 5 + PROOF_LIMITS.pathLength) throw bad(`${where} has too many parts`);
  const seen = new Map<string, unknown>();
  const path: Buffer[] = [];
  for (const part of parts) {
    if (!isObject(part) || typeof part['name'] !== 'string') throw bad(`${where}: a part has no name`);
    const name = part['name'];
    switch (name) {
      case 'index':
      case 'withheld':
        if (seen.has(name)) throw bad(`${where} repeats ${name}`);
        seen.set(name, text(valueOf(part, 'valueString', `${where} ${name}`), 256, `${where} ${name}`));
        break;
      case 'event':
        if (seen.has(name)) throw bad(`${where} repeats ${name}`);
        seen.set(name, valueOf(part, 'valueReference', `${where} event`));
        break;
      case 'leafHash':
      case 'data':
        if (seen.has(name)) throw bad(`${where} repeats ${name}`);
        seen.set(name, base64(valueOf(part, 'valueBase64Binary', `${where} ${name}`), name === 'data' ? PROOF_LIMITS.dataBytes : 32, `${where} ${name}`));
        break;
      case 'inclusionProof': {
        const h = base64(valueOf(part, 'valueBase64Binary', `${where} inclusionProof`), 32, `${where} inclusionProof`);
        if (h.length !== 32) throw bad(`${where}: an inclusion proof hash is 32 bytes`);
        path.push(h);
        break;
      }
      default:
        throw bad(`${where} has an unknown part`);
    }
  }
  const index = indexOf(seen.get('index'), where);
  if (reference(seen.get('event'), /^AuditEvent\/(.+)$/, `${where} event`) !== ledgerEventId(index)) throw bad(`${where}: its event is not AuditEvent/${ledgerEventId(index)}`);
  const leafHash = seen.get('leafHash');
  if (!Buffer.isBuffer(leafHash) || leafHash.length !== 32) throw bad(`${where} has no 32-byte leaf hash`);
  const data = seen.get('data') as Buffer | undefined;
  const withheld = seen.get('withheld') as string | undefined;
  if ((data === undefined) === (withheld === undefined)) throw bad(`${where} must have either data or withheld`);
  return { index, leafHash, ...(data === undefined ? {} : { data }), ...(withheld === undefined ? {} : { withheld }), inclusionProof: path };
}

/**
 * Parses the proof Parameters (attacker-controlled); `ledger-invalid` naming the first
 * problem. Signatures and hashes are checked by the verifier, not here.
 */
export function parseProofParameters(resource: unknown): AccessLogProof {
  if (!isObject(resource) || resource['resourceType'] !== 'Parameters') throw bad('not a Parameters resource');
  if (Object.keys(resource).some((k) => !['resourceType', 'id', 'parameter'].includes(k))) throw bad('the Parameters has unexpected elements');
  const params = resource['parameter'];
  if (!Array.isArray(params) || params.length > PROOF_LIMITS.items + 10) throw bad('parameter must be a list of at most the allowed size');
  const single = new Map<string, unknown>();
  const items: ProofItem[] = [];
  let boundary: ProofItem | undefined;
  for (const p of params as unknown[]) {
    if (!isObject(p) || typeof p['name'] !== 'string') throw bad('a parameter has no name');
    const name = p['name'];
    const once = (key: string): void => {
      if (single.has(name)) throw bad(`${name} is given twice`);
      single.set(name, valueOf(p, key, name));
    };
    switch (name) {
      case 'format':
        once('valueUri');
        break;
      case 'patient':
        once('valueReference');
        break;
      case 'since':
        once('valueInstant');
        break;
      case 'checkpoint':
      case 'head':
      case 'verifierKey':
      case 'after':
        once('valueString');
        break;
      case 'boundary':
        if (boundary !== undefined) throw bad('boundary is given twice');
        boundary = parseItem(p, 'the boundary');
        break;
      case 'erased':
        once('valueInteger');
        break;
      case 'entry':
        items.push(parseItem(p, `entry ${items.length}`));
        break;
      default:
        throw bad('an unknown parameter');
    }
  }
  const format = single.get('format');
  if (format !== ACCESS_LOG_PROOF_FORMAT && format !== ACCESS_LOG_PROOF_FORMAT_V2) throw bad(`format is not ${ACCESS_LOG_PROOF_FORMAT} (or v2)`);
  if ((format === ACCESS_LOG_PROOF_FORMAT) !== single.has('head')) throw bad(format === ACCESS_LOG_PROOF_FORMAT ? 'a v3 proof has no head' : 'a v2 proof has no head parameter');
  const patient = reference(single.get('patient'), /^Patient\/(.+)$/, 'patient');
  if (!isFhirId(patient)) throw bad('patient is not a Patient id');
  const sinceText = single.get('since');
  const since = sinceText === undefined ? undefined : Date.parse(text(sinceText, 40, 'since'));
  if (since !== undefined && (!Number.isSafeInteger(since) || new Date(since).toISOString() !== sinceText)) throw bad('since is not an instant as the vault writes it');
  const erased = single.get('erased');
  if (!Number.isSafeInteger(erased) || (erased as number) < 0) throw bad('erased is not a count');
  return {
    patient,
    ...(since === undefined ? {} : { since }),
    checkpoint: text(single.get('checkpoint'), PROOF_LIMITS.noteBytes, 'checkpoint'),
    ...(single.has('head') ? { head: text(single.get('head'), PROOF_LIMITS.noteBytes, 'head') } : {}),
    verifierKey: text(single.get('verifierKey'), PROOF_LIMITS.keyLength, 'verifierKey'),
    erased: erased as number,
    ...(single.has('after') ? { after: indexOf(single.get('after'), 'after') } : {}),
    ...(boundary === undefined ? {} : { boundary }),
    items,
  };
}
