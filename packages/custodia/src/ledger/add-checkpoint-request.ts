/**
 * The wire format of C2SP tlog-witness §add-checkpoint (no HTTP here):
 *
 *     request body   old <size>\n  [<base64 hash>\n]{0,63}  \n  <signed checkpoint note>
 *     409 body       <latest size>\n                  (Content-Type: text/x.tlog.size)
 *     200 body       — <witness name> <base64 cosignature>\n  (one or more)
 *
 * Request bodies come from any client on the network: attacker-controlled, bounded in size
 * before any work, and refused with `request-malformed` (400) on any deviation.
 */
import { CustodiaError } from '../kernel/index.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { parseTreeSize, ROOT_HASH_BYTES } from './checkpoint.js';
import { formatSignatureLine, formatSignedNote, MAX_NOTE_BYTES, parseSignatureLines, parseSignedNote, type NoteLimits, type NoteSignature, type SignedNote } from './signed-note.js';

/** tlog-witness §add-checkpoint: "The client MUST NOT send more than 63 consistency proof lines." */
export const MAX_PROOF_LINES = 63;
/** tlog-witness §add-checkpoint: the media type of a 409 Conflict body. */
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

export interface AddCheckpointRequest {
  /** The size of the checkpoint the client believes the witness last cosigned (0 if none). */
  readonly oldSize: number;
  /** RFC 6962 §2.1.2 consistency proof from `oldSize` to the checkpoint's size. */
  readonly proof: readonly Buffer[];
  /** The log's signed checkpoint: not yet verified, so its text is not yet to be believed. */
  readonly checkpoint: SignedNote;
}

const malformed = (why: string, cause?: unknown): CustodiaError =>
  new CustodiaError('request-malformed', `Malformed add-checkpoint request: ${why}`, cause === undefined ? undefined : { cause });

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses an add-checkpoint request body (attacker-controlled). `limits.maxBytes` bounds the
 * whole body; the checkpoint note is held to the signed-note rules.
 *
 * @example
 *   const req = parseAddCheckpointRequest('old 0\n\nexample.com/log\n1\nKgAA…=\n\n— example.com/log base64…\n');
 *   req.oldSize; // 0
 */
export function parseAddCheckpointRequest(body: string | Uint8Array, limits: NoteLimits = {}): AddCheckpointRequest {
  const maxBytes = limits.maxBytes ?? MAX_NOTE_BYTES;
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  if (size > maxBytes) throw malformed('the body is too large');
  let text: string;
  try {
    text = typeof body === 'string' ? body : UTF8.decode(body);
  } catch (e) {
    throw malformed('invalid UTF-8', e);
  }
  let at = text.indexOf('\n');
  const oldLine = at < 0 ? '' : text.slice(0, at);
  const oldSize = oldLine.startsWith('old ') ? parseTreeSize(oldLine.slice(4)) : undefined;
  if (oldSize === undefined) throw malformed('the first line is not "old <size>"');
  const proof: Buffer[] = [];
  for (;;) {
    const start = at + 1;
    at = text.indexOf('\n', start);
    if (at < 0) throw malformed('no empty line after the consistency proof');
    if (at === start) break;
    if (proof.length === MAX_PROOF_LINES) throw malformed(`more than ${MAX_PROOF_LINES} consistency proof lines`);
    const hash = decodeBase64(text.slice(start, at));
    if (hash?.length !== ROOT_HASH_BYTES) throw malformed('a consistency proof line is not a 32-byte hash in canonical base64');
    proof.push(hash);
  }
  return { oldSize, proof, checkpoint: parseSignedNote(text.slice(at + 1), { ...limits, maxBytes }) };
}

/**
 * The request body a log sends to a witness.
 *
 * @example
 *   formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: signCheckpoint(cp, [logSigner]) });
 */
export function formatAddCheckpointRequest(req: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(req.oldSize) || req.oldSize < 0) throw new CustodiaError('internal', 'The old size is a non-negative safe integer');
  if (req.proof.length > MAX_PROOF_LINES || req.proof.some((h) => h.length !== ROOT_HASH_BYTES)) {
    throw new CustodiaError('internal', `A consistency proof is at most ${MAX_PROOF_LINES} hashes of 32 bytes`);
  }
  return `old ${req.oldSize}\n${req.proof.map((h) => `${encodeBase64(h)}\n`).join('')}\n${formatSignedNote(req.checkpoint)}`;
}

/** A 409 Conflict body: the witness's latest cosigned size, in decimal, and a newline. */
export function formatTreeSizeBody(size: number): string {
  if (!Number.isSafeInteger(size) || size < 0) throw new CustodiaError('internal', 'A tree size is a non-negative safe integer');
  return `${size}\n`;
}

/**
 * Reads a 409 Conflict body (from a witness: attacker-controlled), so the log can retry
 * with a proof from that size.
 *
 * @example
 *   parseTreeSizeBody('20852014\n'); // 20852014
 */
export function parseTreeSizeBody(body: string): number {
  const size = body.endsWith('\n') ? parseTreeSize(body.slice(0, -1)) : undefined;
  if (size === undefined) throw new CustodiaError('request-malformed', 'Malformed text/x.tlog.size body');
  return size;
}

/** A 200 body: the witness's cosignature lines. */
export function formatCosignatureBody(cosignatures: readonly NoteSignature[]): string {
  if (cosignatures.length === 0) throw new CustodiaError('internal', 'A witness answers with at least one cosignature');
  return cosignatures.map(formatSignatureLine).join('');
}

/**
 * Reads a 200 body (from a witness: attacker-controlled). The lines are not verified
 * here: add them to the checkpoint and `verifyNote` with the trusted witness keys, as
 * tlog-witness suggests.
 *
 * @example
 *   const cosigs = parseCosignatureBody(body);
 *   verifyNote({ text: checkpointText, signatures: cosigs }, trustedWitnesses);
 */
export function parseCosignatureBody(body: string | Uint8Array, limits: NoteLimits = {}): NoteSignature[] {
  return parseSignatureLines(body, limits);
}
