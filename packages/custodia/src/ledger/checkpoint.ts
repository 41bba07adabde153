/**
 * C2SP tlog-checkpoint v1.0.0 (https://c2sp.org/tlog-checkpoint): the note text of a
 * log's signed tree head.
 *
 *     <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n]*
 *
 * Checkpoints arrive from other parties (a log asking the witness to cosign, a witness's
 * view served to auditors), so parsing is strict and the input attacker-controlled.
 * Tree sizes are JavaScript numbers: a size above 2^53 − 1 is refused, not rounded.
 */
import { createHash } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { openNote, type NoteVerification, type NoteVerifierSet } from './note-verifier.js';
import { signNote, type NoteSigner } from './note-signer.js';
import { checkNoteText, type NoteLimits, type SignedNote } from './signed-note.js';

/** An RFC 6962 (SHA-256) Merkle tree hash is 32 bytes. */
export const ROOT_HASH_BYTES = 32;

/** RFC 6962 §2.1: the hash of an empty list is the hash of the empty string. */
export const EMPTY_TREE_ROOT: Buffer = createHash('sha256').digest();

export interface Checkpoint {
  /** tlog-checkpoint §Note text 1: the log's identity, non-empty; no format may be assumed. */
  readonly origin: string;
  /** §Note text 2: the number of leaves. */
  readonly size: number;
  /** §Note text 3: the RFC 6962 root hash at that size. */
  readonly rootHash: Buffer;
  /** §Note text 4: opaque, non-empty extension lines (NOT RECOMMENDED). */
  readonly extensions: readonly string[];
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

const malformed = (why: string): CustodiaError => new CustodiaError('request-malformed', `Malformed checkpoint: ${why}`);

/**
 * An ASCII decimal with no leading zeroes (tlog-checkpoint §Note text 2, tlog-witness
 * `old` line), as a safe integer; `undefined` otherwise. Attacker-controlled.
 */
export function parseTreeSize(text: string): number | undefined {
  if (text.length > 16 || !DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Parses checkpoint note text (signature lines excluded). Attacker-controlled.
 *
 * @example
 *   parseCheckpoint('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
 *   // { origin: 'example.com/behind-the-sofa', size: 20852163, rootHash: <32 bytes>, extensions: [] }
 */
export function parseCheckpoint(text: string): Checkpoint {
  checkNoteText(text);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('fewer than three lines');
  if (lines.some((l) => l.length === 0)) throw malformed('an empty line');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  const size = parseTreeSize(sizeLine);
  if (size === undefined) throw malformed('the tree size is not a decimal without leading zeroes below 2^53');
  const rootHash = decodeBase64(rootLine);
  if (rootHash?.length !== ROOT_HASH_BYTES) throw malformed('the root hash is not 32 bytes of canonical base64');
  return { origin, size, rootHash, extensions };
}

/**
 * The checkpoint's note text. Refuses (`internal`) what `parseCheckpoint` would not give back.
 *
 * @example
 *   formatCheckpoint({ origin: 'example.com/log', size: 0, rootHash: EMPTY_TREE_ROOT, extensions: [] });
 *   // 'example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n'
 */
export function formatCheckpoint(cp: Checkpoint): string {
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new CustodiaError('internal', 'A tree size is a non-negative safe integer');
  if (cp.rootHash.length !== ROOT_HASH_BYTES) throw new CustodiaError('internal', 'A root hash is 32 bytes');
  const lines = [cp.origin, String(cp.size), encodeBase64(cp.rootHash), ...cp.extensions];
  if (lines.some((l) => l.length === 0 || l.includes('\n'))) throw new CustodiaError('internal', 'Checkpoint lines are non-empty and hold no newline');
  const text = `${lines.join('\n')}\n`;
  try {
    checkNoteText(text);
  } catch (e) {
    throw new CustodiaError('internal', 'A checkpoint holds a control character', { cause: e });
  }
  return text;
}

/**
 * A checkpoint signed by the log's key(s) (tlog-checkpoint §Signatures).
 *
 * @example
 *   formatSignedNote(signCheckpoint(checkpoint, [ed25519NoteSigner(logKey)]));
 */
export function signCheckpoint(cp: Checkpoint, signers: readonly NoteSigner[]): SignedNote {
  return signNote(formatCheckpoint(cp), signers);
}

/**
 * Parses, verifies (signed-note rules) and only then interprets a signed checkpoint, as
 * signed-note asks: "the text MUST be ignored unless the note is signed by a trusted key".
 * `request-malformed` for a bad encoding, `forbidden` for a bad or missing signature.
 *
 * @example
 *   const { checkpoint } = openCheckpoint(body, new NoteVerifierSet([logVerifier]));
 */
export function openCheckpoint(input: string | Uint8Array, verifiers: NoteVerifierSet, limits: NoteLimits = {}): { checkpoint: Checkpoint; note: NoteVerification } {
  const note = openNote(input, verifiers, limits);
  return { checkpoint: parseCheckpoint(note.text), note };
}
