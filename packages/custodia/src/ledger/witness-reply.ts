/**
 * The log as a witness's client (C2SP tlog-witness §add-checkpoint, client side): how to
 * read a witness's answer. The answer is attacker-controlled (the witness may be down,
 * impersonated or malicious), so nothing in it is believed before it verifies:
 *
 * - 200: signature lines. "The client MUST ignore any cosignatures from unknown keys";
 *   the line of the witness's configured key must verify over the checkpoint text (a
 *   bad one makes the whole answer bad, as signed-note §Signatures recommends).
 * - 409: `text/x.tlog.size`, the size the witness last cosigned; the log retries from it.
 * - anything else: a refusal (400 truncation, 403 signature, 404 unknown log, 422
 *   inconsistent) or an outage; the caller backs off.
 */
import { isCustodiaError } from '../kernel/index.js';
import { parseCosignatureBody, parseTreeSizeBody, TLOG_SIZE_CONTENT_TYPE } from './add-checkpoint-request.js';
import { cosignatureTimestamp } from './cosignature.js';
import { NoteVerifierSet, verifyNote, type NoteVerifier } from './note-verifier.js';
import { formatSignatureLine } from './signed-note.js';

/** Largest witness answer read: a few cosignature lines need a few hundred bytes. */
export const MAX_WITNESS_REPLY_BYTES = 64 * 1024;

/** What came back over HTTP, as the transport read it. */
export interface WitnessReply {
  readonly status: number;
  /** The Content-Type header, if any. */
  readonly contentType: string | undefined;
  readonly body: string;
}

export type WitnessReplyOutcome =
  | { readonly kind: 'cosigned'; readonly line: string; readonly timestamp: number }
  | { readonly kind: 'conflict'; readonly size: number }
  | { readonly kind: 'refused'; readonly status: number }
  | { readonly kind: 'bad-reply'; readonly reason: string };

const mediaType = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * Reads a witness's answer to an add-checkpoint request for the checkpoint `checkpointText`
 * (note text, without signatures), trusting only `witness`'s key.
 *
 * @example
 *   const outcome = readWitnessReply({ status: 200, contentType: 'text/plain', body }, cp.text, cosignatureVerifier(vkey));
 *   if (outcome.kind === 'cosigned') await cosignatures.add({ size, witness, line: outcome.line, at });
 */
export function readWitnessReply(reply: WitnessReply, checkpointText: string, witness: NoteVerifier): WitnessReplyOutcome {
  if (reply.status === 409) {
    if (mediaType(reply.contentType) !== TLOG_SIZE_CONTENT_TYPE) return { kind: 'bad-reply', reason: `a 409 answer is not ${TLOG_SIZE_CONTENT_TYPE}` };
    try {
      return { kind: 'conflict', size: parseTreeSizeBody(reply.body) };
    } catch {
      return { kind: 'bad-reply', reason: 'a 409 answer does not hold a tree size' };
    }
  }
  if (reply.status !== 200) return { kind: 'refused', status: reply.status };
  let lines;
  try {
    lines = parseCosignatureBody(reply.body, { maxBytes: MAX_WITNESS_REPLY_BYTES });
  } catch {
    return { kind: 'bad-reply', reason: 'the answer is not signature lines' };
  }
  const own = lines.filter((s) => s.name === witness.name && s.keyId === witness.keyId);
  if (own.length === 0) return { kind: 'bad-reply', reason: "the answer holds no cosignature of the witness's key" };
  try {
    const { verified } = verifyNote({ text: checkpointText, signatures: own }, new NoteVerifierSet([witness]));
    const sig = verified[0]!;
    return { kind: 'cosigned', line: formatSignatureLine({ name: sig.name, keyId: sig.keyId, signature: sig.signature }), timestamp: cosignatureTimestamp(sig.signature) };
  } catch (e) {
    if (!isCustodiaError(e)) throw e;
    return { kind: 'bad-reply', reason: 'the cosignature does not verify' };
  }
}
