/**
 * `custodia ledger verify-proof` (issue 5 §5): checks a saved `$access-log` Bundle offline
 * — no server, no database — against the log's verifier key:
 *
 *  1. the file is strict JSON of bounded size, a collection Bundle with exactly one proof
 *     Parameters (access-log-proof.ts), AuditEvents and informational OperationOutcomes;
 *  2. the checkpoint is signed by the pinned key (C2SP signed-note) and is that key's log;
 *  3. for the boundary and each proof entry, in increasing index order: the inclusion
 *     proof leads from the leaf hash to the checkpoint's root (RFC 9162 §2.1.3.2), and,
 *     when the entry's bytes are given, they hash to the leaf (SHA-256(0x00 ‖ entry),
 *     §2.1.1), decode as a canonical entry of the patient's chain (RFC 8785; ledger/
 *     patient-chain.ts), and render exactly as the AuditEvent the Bundle shows;
 *  4. every AuditEvent of the Bundle has a proof entry;
 *  5. completeness: the entries are a contiguous run of the patient's chain. Each readable
 *     entry links to the one listed before it (the first: to `after`, to the boundary —
 *     recorded before `since` — or to nothing, the chain's first entry). A link that
 *     points elsewhere means entries were left out: that fails. An entry that cannot be
 *     read (withheld, erased, or appended before chains were kept) cannot show its link:
 *     that is reported as a gap, and the run is not proven complete.
 *  6. the end (v3 proofs): the log's signed chain head (ledger/chain-head.ts) is of this
 *     log, patient and checkpoint size, and agrees with the run — it names the last entry
 *     listed (the run reaches the newest entry the checkpoint covers: nothing is left off
 *     the end), or a later one when the Bundle links a next page, never an earlier one, and,
 *     when nothing is listed, the boundary or nothing. A disagreement fails.
 *
 * `compareWithEarlier` then checks a Bundle against one the patient saved before: an entry
 * of the later run between the earlier head and the earlier checkpoint's size is one the
 * earlier Bundle withheld while the log's key signed that there was none.
 *
 * The first failure is thrown as `ledger-invalid`, naming it. What a success proves, and
 * what it does not, is in docs/operations.md § Access log proofs.
 */
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { chainLinkOf, decodeEntry, ed25519NoteVerifier, encodeBase64, hashLeaf, NoteVerifierSet, openChainHead, openCheckpoint, parseVerifierKey, SIGNATURE_TYPE_ED25519, verifyInclusion, type AuditRecord, type ChainHead, type ChainLink, type Checkpoint } from '../ledger/index.js';
import { ACCESS_LOG_PROOF_ID, parseProofParameters, PROOF_LIMITS, type AccessLogProof, type ProofItem } from './access-log-proof.js';
import { AUDIT_VIEW_SYSTEM, auditEventResource, ledgerEventId } from './audit-event-resource.js';
import { parseStrictJson } from './strict-json.js';

/** The largest Bundle file accepted (10,000 entries of a few kB each fit comfortably). */
export const MAX_PROOF_BUNDLE_BYTES = 64 * 1024 * 1024;

export interface VerifyProofOptions {
  /** The log's verifier key as the auditor knows it (pinned). */
  readonly vkey?: string;
  /** Use the key the Bundle names instead: proves only that the Bundle is self-consistent. */
  readonly trustEmbeddedKey?: boolean;
  readonly maxBytes?: number;
}

export interface AccessLogVerification {
  readonly patient: string;
  readonly since?: number;
  readonly origin: string;
  readonly treeSize: number;
  /** base64 root hash of the checkpoint. */
  readonly rootHash: string;
  /** The key the checkpoint was verified with, and whether it was pinned (given) or taken from the Bundle. */
  readonly verifierKey: string;
  readonly keyPinned: boolean;
  /** Entries whose bytes were checked against their leaf, the root and their AuditEvent. */
  readonly verified: number;
  /** Entries included by leaf hash only (they also name other patients, or their patient was erased). */
  readonly withheld: number;
  /**
   * Whether the run is proven complete: no entry about the patient between its start (the
   * chain's first entry, the boundary before `since`, or `after`) and its last entry is
   * missing. The end is `head`'s and `reachesHead`'s matter.
   */
  readonly complete: boolean;
  /**
   * The log's signed statement of the patient's newest chain entry among the checkpoint's
   * leaves (null: none); undefined for a v2 proof, which has none.
   */
  readonly head?: number | null;
  /**
   * Whether the run reaches that head: nothing about the patient up to the checkpoint is
   * left off the end (with `complete`, the whole run from its start to the checkpoint).
   * False for a page that more pages follow, and for a v2 proof.
   */
  readonly reachesHead: boolean;
  /** Ledger indexes of the entries whose chain link was checked: proven entries of the patient's chain. */
  readonly chained: readonly number[];
  /** Why it is not proven complete: where a link could not be checked. */
  readonly gaps: readonly string[];
  /** Events the vault says it left out because their patient was erased (its claim; not verifiable). */
  readonly erased: number;
  /** Ledger indexes of the entries, in order. */
  readonly indexes: readonly number[];
}

const fail = (why: string, cause?: unknown): CustodiaError => new CustodiaError('ledger-invalid', why, cause === undefined ? undefined : { cause });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const BUNDLE_KEYS = ['resourceType', 'id', 'meta', 'type', 'timestamp', 'link', 'entry'];

/**
 * JSON equality, member order aside. The recursion follows `expected` (the vault's own
 * rendering, a few levels deep), so a deeply nested `actual` costs nothing.
 */
function sameJson(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => sameJson(v, actual[i]));
  if (isObject(expected)) {
    if (!isObject(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) => Object.hasOwn(actual, k) && sameJson(expected[k], actual[k]));
  }
  return expected === actual;
}

/** Whether the Bundle offers a next page (`link` with relation `next`). */
function hasNextPage(links: unknown): boolean {
  if (links === undefined) return false;
  if (!Array.isArray(links) || links.length > 8) throw fail('The Bundle links are not a short list');
  return links.some((l) => isObject(l) && l['relation'] === 'next');
}

/** The Bundle's proof Parameters, its AuditEvents by id, and whether it has a next page. */
function readBundle(value: unknown): { proof: AccessLogProof; events: Map<string, Record<string, unknown>>; paged: boolean } {
  if (!isObject(value) || value['resourceType'] !== 'Bundle' || value['type'] !== 'collection') throw fail('The file is not a collection Bundle');
  if (Object.keys(value).some((k) => !BUNDLE_KEYS.includes(k))) throw fail('The Bundle has unexpected elements');
  const entries = value['entry'];
  if (!Array.isArray(entries) || entries.length > PROOF_LIMITS.items + 16) throw fail('The Bundle has no entry list, or too many entries');
  let proof: unknown;
  const events = new Map<string, Record<string, unknown>>();
  for (const e of entries as unknown[]) {
    if (!isObject(e) || Object.keys(e).some((k) => k !== 'fullUrl' && k !== 'resource') || !isObject(e['resource'])) throw fail('A Bundle entry is not { fullUrl, resource }');
    const r = e['resource'];
    if (r['resourceType'] === 'Parameters') {
      if (r['id'] !== ACCESS_LOG_PROOF_ID || proof !== undefined) throw fail(`The Bundle must hold exactly one Parameters, with id ${ACCESS_LOG_PROOF_ID}`);
      proof = r;
    } else if (r['resourceType'] === 'AuditEvent') {
      const id = r['id'];
      if (typeof id !== 'string' || events.has(id)) throw fail('An AuditEvent has no id, or the id is repeated');
      events.set(id, r);
    } else if (r['resourceType'] !== 'OperationOutcome') {
      throw fail('The Bundle holds a resource that is not an AuditEvent, the proof or an OperationOutcome');
    }
  }
  if (proof === undefined) throw fail(`The Bundle has no proof (Parameters ${ACCESS_LOG_PROOF_ID})`);
  return { proof: parseProofParameters(proof), events, paged: hasNextPage(value['link']) };
}

/** The log's key, as the notes of a proof (its checkpoint, its chain head) are verified under it. */
interface LogKey {
  readonly name: string;
  readonly verifiers: NoteVerifierSet;
}

function logKey(vkey: string): LogKey {
  const key = parseVerifierKey(vkey);
  if (key.type !== SIGNATURE_TYPE_ED25519) throw new CustodiaError('config-invalid', 'The verifier key is not a log key (signature type 0x01)');
  return { name: key.name, verifiers: new NoteVerifierSet([ed25519NoteVerifier(key)]) };
}

/** The signed checkpoint under the key: signature (signed-note), then origin = key name. */
function openPinnedCheckpoint(note: string, key: LogKey): Checkpoint {
  let checkpoint: Checkpoint;
  try {
    checkpoint = openCheckpoint(note, key.verifiers).checkpoint;
  } catch (e) {
    throw fail(isCustodiaError(e, 'forbidden') ? `The checkpoint is not signed by the log key ${key.name}` : 'The checkpoint is not a well-formed signed note', e);
  }
  if (checkpoint.origin !== key.name) throw fail(`The checkpoint is of the log ${JSON.stringify(checkpoint.origin.slice(0, 128))}, not of ${key.name}`);
  return checkpoint;
}

/** What step 3 learnt of one entry: its record and chain link, when its bytes were given. */
interface ItemView {
  readonly record?: AuditRecord;
  readonly link?: ChainLink;
}

/** Step 3 for one entry (`shownAs`: whether a readable entry must be an AuditEvent of the Bundle). */
function verifyItem(item: ProofItem, where: string, checkpoint: Checkpoint, proof: AccessLogProof, events: ReadonlyMap<string, Record<string, unknown>>, shownAs: boolean): ItemView {
  if (item.index >= checkpoint.size) throw fail(`${where} is beyond the checkpoint's ${checkpoint.size} entries`);
  try {
    verifyInclusion(item.index, checkpoint.size, item.leafHash, item.inclusionProof, checkpoint.rootHash);
  } catch (e) {
    throw fail(`${where}: its inclusion proof does not lead to the checkpoint's root`, e);
  }
  const shown = events.get(ledgerEventId(item.index));
  if (item.data === undefined) {
    // Withheld: proven in the log by hash; an AuditEvent shown for it must say it is a partial view.
    const tags = isObject(shown?.['meta']) ? shown['meta']['tag'] : undefined;
    if (shown !== undefined && (!Array.isArray(tags) || !tags.some((t) => isObject(t) && t['system'] === AUDIT_VIEW_SYSTEM && t['code'] === 'redacted'))) throw fail(`${where}: its entry is withheld but its AuditEvent is not marked as a partial view`);
    return {};
  }
  if (!hashLeaf(item.data).equals(item.leafHash)) throw fail(`${where}: the entry's bytes do not hash to its leaf hash`);
  let entry;
  try {
    entry = decodeEntry(item.data);
  } catch (e) {
    throw fail(`${where}: the entry is not a canonical ledger entry`, e);
  }
  if (entry.kind !== 'audit' && entry.kind !== 'access') throw fail(`${where}: the entry is not an audit event`);
  if (!entry.event.patients.includes(proof.patient)) throw fail(`${where}: the event is not about Patient/${proof.patient}`);
  if (entry.kind === 'access' && entry.of >= item.index) throw fail(`${where}: it is an account of an event that comes after it`);
  const link = chainLinkOf(entry);
  if (link !== undefined && link.patient !== proof.patient) throw fail(`${where}: the entry is of another patient's chain`);
  if (link !== undefined && link.prev !== null && link.prev >= item.index) throw fail(`${where}: it links forward`);
  if (!shownAs) return { record: entry.event, ...(link === undefined ? {} : { link }) };
  if (shown === undefined) throw fail(`${where}: the Bundle has no AuditEvent/${ledgerEventId(item.index)}`);
  let expected: unknown;
  try {
    expected = auditEventResource(item.index, entry.event, { origin: checkpoint.origin, ...(entry.kind === 'access' ? { accountOf: entry.of } : {}) });
  } catch (e) {
    throw fail(`${where}: the entry cannot be shown as an AuditEvent`, e);
  }
  if (!sameJson(expected, shown)) throw fail(`${where}: AuditEvent/${ledgerEventId(item.index)} does not match its entry`);
  return { record: entry.event, ...(link === undefined ? {} : { link }) };
}

/**
 * Step 5: whether the entries join up into one run of the patient's chain. Throws when a
 * link shows that entries were left out; returns the gaps it could not check.
 */
function checkRun(proof: AccessLogProof, boundary: ItemView | undefined, views: readonly ItemView[]): string[] {
  const gaps: string[] = [];
  const items = proof.items;
  const since = proof.since;
  // Where the run must start: after the previous page, after the boundary, or at the chain's first entry.
  let start: number | null;
  if (proof.after !== undefined) {
    if (proof.boundary !== undefined) throw fail('The proof gives both a boundary and an after index');
    start = proof.after;
  } else if (proof.boundary !== undefined) {
    if (since === undefined) throw fail('The proof gives a boundary but no since: the run should start at the chain\'s first entry');
    if (items.length > 0 && proof.boundary.index >= items[0]!.index) throw fail('The boundary is not before the first entry');
    if (boundary?.record === undefined) gaps.push(`the boundary (ledger index ${proof.boundary.index}) cannot be read, so where the run starts is not proven`);
    else if (boundary.link === undefined) gaps.push(`the boundary (ledger index ${proof.boundary.index}) was appended before chains were kept`);
    else if (since !== undefined && boundary.record.at >= since) throw fail(`The boundary (ledger index ${proof.boundary.index}) is an event at or after since, yet it is not listed`);
    start = proof.boundary.index;
  } else {
    start = null;
  }
  const first = views[0]?.record;
  if (proof.after === undefined && since !== undefined && first !== undefined && first.at < since) throw fail('The first entry is an event before since');
  items.forEach((item, n) => {
    const expected = n === 0 ? start : items[n - 1]!.index;
    const link = views[n]!.link;
    if (link === undefined) {
      gaps.push(`entry ${n} (ledger index ${item.index}) ${views[n]!.record === undefined ? 'cannot be read' : 'was appended before chains were kept'}, so its link is not proven`);
    } else if (link.prev !== expected) {
      throw fail(`Entry ${n} (ledger index ${item.index}) follows ledger index ${link.prev ?? 'nothing (it is the first of the chain)'} in the patient's chain, but the list has ${expected ?? 'nothing'} before it: entries were left out`);
    }
  });
  return gaps;
}

/**
 * Step 6: the signed head against the run; whether the run reaches it. Throws when they
 * disagree: a head before an entry listed, or a newer head than an empty run admits.
 */
function checkHead(proof: AccessLogProof, note: string, key: LogKey, checkpoint: Checkpoint, paged: boolean): { head: number | null; reachesHead: boolean } {
  let head: ChainHead;
  try {
    head = openChainHead(note, key.verifiers);
  } catch (e) {
    throw fail(isCustodiaError(e, 'forbidden') ? 'The chain head is not signed by the log key' : 'The chain head is not a well-formed signed note', e);
  }
  if (head.origin !== checkpoint.origin) throw fail('The chain head is of another log than the checkpoint');
  if (head.patient !== proof.patient) throw fail(`The chain head is of Patient/${head.patient}, not of Patient/${proof.patient}`);
  if (head.size !== checkpoint.size) throw fail(`The chain head is at size ${head.size}, the checkpoint at ${checkpoint.size}`);
  const last = proof.items[proof.items.length - 1]?.index;
  if (last !== undefined) {
    if (head.head === null || head.head < last) throw fail(`The log signed that the patient's newest entry is ${head.head ?? 'none'}, yet it lists ledger index ${last}`);
    // Short of the head, the Bundle must be a page with more to follow: else it left the end off.
    if (head.head > last && !paged) throw fail(`The log signed that the patient's newest entry is ${head.head}, yet the list ends at ${last} and offers no next page: entries were left off the end`);
    return { head: head.head, reachesHead: head.head === last };
  }
  // Nothing listed: nothing may follow where the run starts.
  if (proof.after !== undefined) {
    if (head.head !== null && head.head > proof.after) throw fail(`The log signed that the patient's newest entry is ${head.head}, yet lists none after ${proof.after}`);
  } else if (proof.boundary !== undefined) {
    if (head.head !== proof.boundary.index) throw fail(`The log signed that the patient's newest entry is ${head.head ?? 'none'}, yet lists none after the boundary ${proof.boundary.index}`);
  } else if (head.head !== null) {
    throw fail(`The log signed that the patient's newest entry is ${head.head}, yet lists none`);
  }
  return { head: head.head, reachesHead: true };
}

/**
 * Checks a Bundle against one of the same patient and log saved before it (both already
 * verified): the earlier one's signed head says that no entry of the patient's chain lies
 * between it and the earlier checkpoint's size. A proven entry of the later run there is
 * evidence, under the log's key, that the earlier Bundle withheld it: `ledger-invalid`.
 *
 * @example
 *   compareWithEarlier(verifyAccessLogBundle(today, o), verifyAccessLogBundle(lastMonth, o));
 */
export function compareWithEarlier(later: AccessLogVerification, earlier: AccessLogVerification): void {
  if (later.origin !== earlier.origin || later.patient !== earlier.patient) throw new CustodiaError('config-invalid', 'The two Bundles are not of the same log and patient');
  if (earlier.head === undefined) throw new CustodiaError('config-invalid', 'The earlier Bundle has no signed chain head (a v2 proof): there is nothing to hold the log to');
  if (later.treeSize < earlier.treeSize) throw new CustodiaError('config-invalid', 'The "earlier" Bundle has the larger checkpoint: give the Bundles the other way round');
  const newest = earlier.head ?? -1;
  const withheld = later.chained.find((i) => i > newest && i < earlier.treeSize);
  if (withheld !== undefined)
    throw fail(
      `Ledger index ${withheld} is in Patient/${later.patient}'s chain and within the earlier checkpoint's ${earlier.treeSize} entries, yet the log signed then that the newest was ${earlier.head ?? 'none'}: the earlier Bundle withheld it`,
    );
}

/**
 * Verifies a saved `$access-log` Bundle; throws `ledger-invalid` naming the first failure
 * (`config-invalid` for a bad key or options, which are the caller's, not the file's).
 *
 * @example
 *   const r = verifyAccessLogBundle(readFileSync('log.json'), { vkey: 'hospital.example/ledger+1a2b3c4d+AX…' });
 *   console.log(`${r.verified} events proven in ${r.origin} at size ${r.treeSize}`);
 */
export function verifyAccessLogBundle(bytes: Uint8Array, options: VerifyProofOptions): AccessLogVerification {
  if (options.vkey === undefined && options.trustEmbeddedKey !== true) throw new CustodiaError('config-invalid', "Give the log's verifier key (--vkey), or explicitly trust the one in the Bundle");
  if (options.vkey !== undefined) parseVerifierKey(options.vkey); // the caller's input: config-invalid when malformed
  const { proof, events, paged } = readBundle(parseStrictJson(bytes, options.maxBytes ?? MAX_PROOF_BUNDLE_BYTES));
  let vkey = options.vkey;
  if (vkey === undefined) {
    try {
      parseVerifierKey(proof.verifierKey);
    } catch (e) {
      throw fail('The verifier key in the Bundle is malformed', e);
    }
    vkey = proof.verifierKey;
  }
  const key = logKey(vkey);
  const checkpoint = openPinnedCheckpoint(proof.checkpoint, key);
  const boundary = proof.boundary === undefined ? undefined : verifyItem(proof.boundary, `The boundary (ledger index ${proof.boundary.index})`, checkpoint, proof, events, false);
  let previous = -1;
  const views = proof.items.map((item, n) => {
    if (item.index <= previous) throw fail(`Entry ${n} (ledger index ${item.index}) is out of order or repeated`);
    previous = item.index;
    return verifyItem(item, `Entry ${n} (ledger index ${item.index})`, checkpoint, proof, events, true);
  });
  const withheld = views.filter((v) => v.record === undefined).length;
  const gaps = checkRun(proof, boundary, views);
  const end = proof.head === undefined ? { reachesHead: false } : checkHead(proof, proof.head, key, checkpoint, paged);
  const proven = new Set(proof.items.map((i) => ledgerEventId(i.index)));
  for (const id of events.keys()) if (!proven.has(id)) throw fail(`AuditEvent/${id.slice(0, 64)} has no proof`);
  return {
    patient: proof.patient,
    ...(proof.since === undefined ? {} : { since: proof.since }),
    origin: checkpoint.origin,
    treeSize: checkpoint.size,
    rootHash: encodeBase64(checkpoint.rootHash),
    verifierKey: vkey,
    keyPinned: options.vkey !== undefined,
    verified: proof.items.length - withheld,
    withheld,
    complete: gaps.length === 0,
    ...end,
    chained: proof.items.flatMap((item, n) => (views[n]!.link === undefined ? [] : [item.index])),
    gaps,
    erased: proof.erased,
    indexes: proof.items.map((i) => i.index),
  };
}
