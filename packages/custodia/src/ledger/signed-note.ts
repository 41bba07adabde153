/**
 * C2SP signed-note v1.0.0 (https://c2sp.org/signed-note): a text ending in a newline, a
 * blank line, then one or more signature lines `— <key name> base64(key ID ‖ signature)`.
 * This file is the format only: parsing and formatting, no keys. Which signatures count
 * is note-verifier.ts; how they are made is note-signer.ts.
 *
 * Notes reach the vault from outside (a log's checkpoint sent to the witness, a witness's
 * cosignatures sent back, an auditor's upload): everything parsed here is
 * attacker-controlled, bounded in size before any work, and refused with a typed
 * `request-malformed` error that never quotes the input.
 */
import { CustodiaError } from '../kernel/index.js';
import { decodeBase64, encodeBase64 } from './base64.js';

/** One signature line: who signed (name and 32-bit key ID) and the signature bytes after the key ID. */
export interface NoteSignature {
  readonly name: string;
  /** The uint32 key ID, big-endian in the first four bytes of the encoded signature. */
  readonly keyId: number;
  /** The n signature bytes after the key ID (algorithm-specific). */
  readonly signature: Buffer;
}

/** A note: its text (final newline included, separating blank line excluded) and its signature lines, in order. */
export interface SignedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface NoteLimits {
  /** Largest encoded note accepted, in UTF-8 bytes. */
  readonly maxBytes?: number;
  /** Most signature lines accepted; signed-note requires at least 16. */
  readonly maxSignatures?: number;
}

/** signed-note §Format: "verifiers MUST accept at least up to 16 signatures". */
export const MIN_SIGNATURE_LIMIT = 16;
/** Default limit on signature lines (golang.org/x/mod/sumdb/note uses the same). */
export const MAX_SIGNATURES = 100;
/** Default limit on a whole note: room for 100 post-quantum signatures of nearly 5 kB each. */
export const MAX_NOTE_BYTES = 1024 * 1024;

const SIGNATURE_PREFIX = '\u2014 ';
/** ASCII controls other than newline, and lone surrogates (not encodable as UTF-8). */
const FORBIDDEN_CHARS = /[\u0000-\u0009\u000b-\u001f]|[\uD800-\uDFFF]/u;
/** signed-note §Format: key names have no Unicode spaces (Unicode White_Space, as Go's unicode.IsSpace) and no plus. */
const NAME_FORBIDDEN = /[\p{White_Space}+\u0000-\u001f]|[\uD800-\uDFFF]/u;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A `request-malformed` error; `why` names the rule broken, never the input. */
export const malformedNote = (why: string, cause?: unknown): CustodiaError =>
  new CustodiaError('request-malformed', `Malformed signed note: ${why}`, cause === undefined ? undefined : { cause });

/**
 * signed-note §Format: key names are non-empty and hold no Unicode space and no `+`.
 *
 * @example
 *   isValidKeyName('example.com/log42'); // true
 *   isValidKeyName('a+b');               // false
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !NAME_FORBIDDEN.test(name);
}

/**
 * signed-note §Format: note text is UTF-8 without ASCII controls other than newline, and ends
 * in a newline. Throws `request-malformed` otherwise.
 */
export function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) throw malformedNote('the text does not end in a newline');
  if (FORBIDDEN_CHARS.test(text)) throw malformedNote('control character or invalid UTF-8');
}

function resolveLimits(limits: NoteLimits): { maxBytes: number; maxSignatures: number } {
  const maxBytes = limits.maxBytes ?? MAX_NOTE_BYTES;
  const maxSignatures = limits.maxSignatures ?? MAX_SIGNATURES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || !Number.isSafeInteger(maxSignatures) || maxSignatures < MIN_SIGNATURE_LIMIT) {
    throw new CustodiaError('config-invalid', `Signed-note limits must be positive integers, with at least ${MIN_SIGNATURE_LIMIT} signatures`);
  }
  return { maxBytes, maxSignatures };
}

/** Decodes attacker-controlled bytes as strict UTF-8 (no replacement characters), or takes a string as it is. */
function asText(input: string | Uint8Array, maxBytes: number): string {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > maxBytes) throw malformedNote('the note is too large');
  if (typeof input === 'string') return input;
  try {
    return UTF8.decode(input);
  } catch (e) {
    throw malformedNote('invalid UTF-8', e);
  }
}

/** One signature line without its newline (attacker-controlled). */
function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw malformedNote('a signature line does not start with an em dash and a space');
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw malformedNote('a signature line has no signature');
  const name = rest.slice(0, space);
  if (!isValidKeyName(name)) throw malformedNote('a signature line has an invalid key name');
  const raw = decodeBase64(rest.slice(space + 1));
  if (raw === undefined) throw malformedNote('a signature is not canonical base64');
  if (raw.length < 5) throw malformedNote('a signature is shorter than a key ID and one byte');
  return { name, keyId: raw.readUInt32BE(0), signature: raw.subarray(4) };
}

/**
 * Signature lines, each ending in a newline (a tlog-witness add-checkpoint response body,
 * or the part of a note after the blank line). Attacker-controlled.
 *
 * @example
 *   parseSignatureLines('— example.com/foo Uw2QOkn8…aQM=\n'); // [{ name: 'example.com/foo', keyId: 0x530d903a, signature: <64 bytes> }]
 */
export function parseSignatureLines(block: string | Uint8Array, limits: NoteLimits = {}): NoteSignature[] {
  const { maxBytes, maxSignatures } = resolveLimits(limits);
  const text = asText(block, maxBytes);
  if (FORBIDDEN_CHARS.test(text)) throw malformedNote('control character or invalid UTF-8');
  return splitSignatureLines(text, maxSignatures);
}

function splitSignatureLines(block: string, maxSignatures: number): NoteSignature[] {
  if (block.length === 0 || !block.endsWith('\n')) throw malformedNote('the signatures do not end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > maxSignatures) throw malformedNote('too many signatures');
  return lines.map(parseSignatureLine);
}

/**
 * Parses a signed note (signed-note §Format). The text is separated from the signatures
 * by the last blank line; every signature line must be well formed, even those of
 * unknown keys. Signatures are not checked here: see `verifyNote`.
 *
 * Attacker-controlled input: size-limited first, strict UTF-8, no control characters
 * other than newline, canonical base64, valid key names; `request-malformed` otherwise.
 *
 * @example
 *   const note = parseSignedNote('This is an example message.\n\n— example.com/foo Uw2QOkn8…aQM=\n');
 *   note.text;                  // 'This is an example message.\n'
 *   note.signatures[0].keyId;   // 0x530d903a
 */
export function parseSignedNote(input: string | Uint8Array, limits: NoteLimits = {}): SignedNote {
  const { maxBytes, maxSignatures } = resolveLimits(limits);
  const message = asText(input, maxBytes);
  if (FORBIDDEN_CHARS.test(message)) throw malformedNote('control character or invalid UTF-8');
  const split = message.lastIndexOf('\n\n');
  if (split < 0) throw malformedNote('no blank line before the signatures');
  return { text: message.slice(0, split + 1), signatures: splitSignatureLines(message.slice(split + 2), maxSignatures) };
}

/**
 * One signature line, newline included: `— <name> base64(keyId ‖ signature)\n`.
 *
 * @example
 *   formatSignatureLine({ name: 'example.com/foo', keyId: 0x530d903a, signature }); // '— example.com/foo Uw2Q…aQM=\n'
 */
export function formatSignatureLine(sig: NoteSignature): string {
  if (!isValidKeyName(sig.name)) throw new CustodiaError('internal', 'A note signature has an invalid key name');
  if (!Number.isInteger(sig.keyId) || sig.keyId < 0 || sig.keyId > 0xffffffff) throw new CustodiaError('internal', 'A note key ID is a uint32');
  if (sig.signature.length < 1) throw new CustodiaError('internal', 'A note signature is empty');
  const raw = Buffer.alloc(4 + sig.signature.length);
  raw.writeUInt32BE(sig.keyId, 0);
  raw.set(sig.signature, 4);
  return `${SIGNATURE_PREFIX}${sig.name} ${encodeBase64(raw)}\n`;
}

/**
 * The encoded note: text, blank line, signature lines. Refuses (with `request-malformed`)
 * text that `parseSignedNote` would not give back, and a note without signatures.
 *
 * @example
 *   formatSignedNote({ text: 'hello\n', signatures: [sig] }); // 'hello\n\n— name base64…\n'
 */
export function formatSignedNote(note: SignedNote): string {
  checkNoteText(note.text);
  if (note.signatures.length === 0) throw malformedNote('a signed note needs at least one signature');
  return `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`;
}
