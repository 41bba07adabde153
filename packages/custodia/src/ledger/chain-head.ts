/**
 * A patient chain's head at a checkpoint: the log's signed statement of which entry is
 * the newest about one patient among the first `size` leaves (ledger/patient-chain.ts).
 *
 * An `$access-log` run proves by its links that nothing is missing between its first and
 * its last entry, but not that nothing follows the last one: the newest entries could be
 * left off the end. The head closes that end the way Certificate Transparency's signed
 * promises do (RFC 9162 §4.8 SCTs): not by proving a negative, but by making a lie
 * provable. The vault signs "among the first N leaves, the newest entry about Patient/p
 * is h"; if any later list shows an entry about p with an index between h and N, the two
 * signed statements together are evidence, under the log's own key, that it withheld it
 * (app/access-log-verify.ts checks one Bundle against an earlier one).
 *
 * The statement is a C2SP signed note under the log's key:
 *
 *     <origin>\n
 *     custodia patient-chain head v1\n
 *     Patient/<id>\n
 *     <size>\n
 *     <head index, or "none">\n
 *
 * Its second line is not a decimal, so no checkpoint parser (ours, a witness's) can read
 * it as a tree head: the same key signs both without one passing for the other.
 * Heads come back from whoever holds a Bundle, so parsing is strict (attacker-controlled).
 */
import { CustodiaError } from '../kernel/index.js';
import { parseTreeSize } from './checkpoint.js';
import { openNote, type NoteVerifierSet } from './note-verifier.js';
import { signNote, type NoteSigner } from './note-signer.js';
import { checkNoteText, formatSignedNote } from './signed-note.js';

/** The statement's second line: what it is, and its version. */
export const CHAIN_HEAD_KIND = 'custodia patient-chain head v1';

export interface ChainHead {
  /** The log's origin (its checkpoints' first line). */
  readonly origin: string;
  /** The FHIR id of the patient. */
  readonly patient: string;
  /** The leaves the statement is about: those of the checkpoint it goes with. */
  readonly size: number;
  /** The newest entry about the patient below `size`; null when there is none. */
  readonly head: number | null;
}

/** A FHIR id (FHIR R4 §2.24.0.1 `id`): 1–64 of A–Z a–z 0–9 - . */
const PATIENT_LINE = /^Patient\/([A-Za-z0-9\-.]{1,64})$/;

const malformed = (why: string): CustodiaError => new CustodiaError('request-malformed', `Malformed chain head: ${why}`);

/** The statement's note text. Refuses (`internal`) what `parseChainHead` would not give back. */
export function formatChainHead(h: ChainHead): string {
  if (!Number.isSafeInteger(h.size) || h.size < 0) throw new CustodiaError('internal', 'A tree size is a non-negative safe integer');
  if (h.head !== null && (!Number.isSafeInteger(h.head) || h.head < 0 || h.head >= h.size)) throw new CustodiaError('internal', 'A chain head is a leaf below the size');
  const lines = [h.origin, CHAIN_HEAD_KIND, `Patient/${h.patient}`, String(h.size), h.head === null ? 'none' : String(h.head)];
  if (lines.some((l) => l.length === 0 || l.includes('\n')) || !PATIENT_LINE.test(lines[2]!)) throw new CustodiaError('internal', 'A chain head has non-empty lines and a FHIR id');
  return `${lines.join('\n')}\n`;
}

/** Parses a chain head's note text (signature lines excluded). Attacker-controlled. */
export function parseChainHead(text: string): ChainHead {
  checkNoteText(text);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length !== 5) throw malformed('not five lines');
  const [origin, kind, patientLine, sizeLine, headLine] = lines as [string, string, string, string, string];
  if (origin.length === 0) throw malformed('no origin');
  if (kind !== CHAIN_HEAD_KIND) throw malformed(`the second line is not "${CHAIN_HEAD_KIND}"`);
  const patient = PATIENT_LINE.exec(patientLine)?.[1];
  if (patient === undefined) throw malformed('the third line is not Patient/<id>');
  const size = parseTreeSize(sizeLine);
  if (size === undefined) throw malformed('the size is not a decimal without leading zeroes below 2^53');
  const head = headLine === 'none' ? null : parseTreeSize(headLine);
  if (head === undefined) throw malformed('the head is neither a decimal index nor "none"');
  if (head !== null && head >= size) throw malformed('the head is not below the size');
  return { origin, patient, size, head };
}

/**
 * The signed statement, as note text with its signature line.
 *
 * @example
 *   signChainHead({ origin: 'hospital.example/ledger', patient: 'p1', size: 1200, head: 1187 }, [ed25519NoteSigner(logKey)]);
 */
export function signChainHead(h: ChainHead, signers: readonly NoteSigner[]): string {
  return formatSignedNote(signNote(formatChainHead(h), signers));
}

/**
 * Verifies the note (signed-note rules: its text is ignored unless a trusted key signed
 * it) and only then reads it. `request-malformed` for a bad encoding, `forbidden` for a
 * bad or missing signature.
 */
export function openChainHead(input: string | Uint8Array, verifiers: NoteVerifierSet): ChainHead {
  return parseChainHead(openNote(input, verifiers).text);
}
