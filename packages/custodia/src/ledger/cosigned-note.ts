/**
 * A checkpoint as the log publishes it once witnessed: the log's signed note with the
 * witnesses' cosignatures as further signature lines (C2SP tlog-cosignature: "cosignatures
 * are … additional signature lines on the checkpoint note"). A client verifies the log's
 * line with the log's vkey and the cosignatures with the witness vkeys it trusts, and
 * ignores lines of keys it does not know.
 */
import { isCustodiaError } from '../kernel/index.js';
import { NoteVerifierSet, verifyNote, type NoteVerifier } from './note-verifier.js';
import { formatSignedNote, parseSignatureLines, parseSignedNote, type NoteSignature } from './signed-note.js';

/**
 * The stored cosignature lines (from the database: checked, not trusted) that verify over
 * `noteText` under one of `witnesses`, at most one per witness key, in `witnesses` order.
 *
 * @example
 *   const good = verifiedCosignatures(checkpoint.text, rows.map((r) => r.line), [w1, w2]);
 *   if (good.length >= quorum) publish(cosignNote(note, good));
 */
export function verifiedCosignatures(noteText: string, lines: readonly string[], witnesses: readonly NoteVerifier[]): NoteSignature[] {
  const out: NoteSignature[] = [];
  for (const witness of witnesses) {
    for (const line of lines) {
      let parsed: NoteSignature[];
      try {
        parsed = parseSignatureLines(line);
      } catch (e) {
        if (isCustodiaError(e)) continue;
        throw e;
      }
      const sig = parsed[0];
      if (parsed.length !== 1 || sig === undefined) continue;
      if (sig.name !== witness.name || sig.keyId !== witness.keyId) continue;
      try {
        verifyNote({ text: noteText, signatures: [sig] }, new NoteVerifierSet([witness]));
        out.push(sig);
        break;
      } catch (e) {
        if (!isCustodiaError(e)) throw e;
      }
    }
  }
  return out;
}

/**
 * The log's signed note with `cosignatures` appended as signature lines (after the log's
 * own, whose order is kept).
 *
 * @example
 *   cosignNote('example.com/log\n5\nAAA…=\n\n— example.com/log abc…\n', [w1sig]);
 *   // 'example.com/log\n5\nAAA…=\n\n— example.com/log abc…\n— witness.example/w1 def…\n'
 */
export function cosignNote(note: string, cosignatures: readonly NoteSignature[]): string {
  const parsed = parseSignedNote(note);
  return formatSignedNote({ text: parsed.text, signatures: [...parsed.signatures, ...cosignatures] });
}
