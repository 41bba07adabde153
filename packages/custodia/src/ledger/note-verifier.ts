/**
 * Verifying notes (C2SP signed-note §Signatures): "Verifiers MUST ignore signatures from
 * unknown keys, even if they share a name or ID (but not both) with a known key. If the
 * key name and ID match a known key, verifiers MUST verify the signature. If a signature
 * from a known key fails to verify, clients SHOULD reject the whole note. If no signature
 * from a known key verifies successfully, clients MUST reject the note."
 *
 * This implementation takes the SHOULD: one bad signature from a known key rejects the
 * note, and every signature of a known key is checked, repeats included (x/mod's Open
 * checks only the first per key). Failures are `forbidden` (403, as tlog-witness asks).
 */
import { CustodiaError } from '../kernel/index.js';
import { ed25519PublicKey, ed25519Verify } from './ed25519.js';
import { parseVerifierKey, SIGNATURE_TYPE_ED25519, type VerifierKey } from './note-key.js';
import { isValidKeyName, parseSignedNote, type NoteLimits, type NoteSignature, type SignedNote } from './signed-note.js';

/** Checks the signature bytes (after the key ID) of one key over a note's text. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** `signature` is attacker-controlled: any length, any bytes; return false, never throw. */
  verify(text: Buffer, signature: Buffer): boolean;
}

/** A signature that verified, with the verifier that accepted it. */
export interface VerifiedSignature extends NoteSignature {
  readonly verifier: NoteVerifier;
}

/** What `verifyNote` found: the (now trusted) text, the signatures that verified, and those of unknown keys. */
export interface NoteVerification {
  readonly text: string;
  /** One per known key, in note order (a repeated key is verified every time, reported once). */
  readonly verified: readonly VerifiedSignature[];
  /** Signatures of keys not in the set, identical lines reported once. Unverified: never trust them. */
  readonly unknown: readonly NoteSignature[];
}

/**
 * signed-note §Ed25519 signatures: a verifier for a vkey of type 0x01.
 *
 * @example
 *   const v = ed25519NoteVerifier('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
 */
export function ed25519NoteVerifier(vkey: string | VerifierKey): NoteVerifier {
  const k = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  if (k.type !== SIGNATURE_TYPE_ED25519) throw new CustodiaError('config-invalid', 'An Ed25519 note verifier needs a key of signature type 0x01');
  const key = ed25519PublicKey(k.publicKey);
  return Object.freeze({ name: k.name, keyId: k.keyId, verify: (text: Buffer, signature: Buffer) => ed25519Verify(key, text, signature) });
}

const keyOf = (name: string, keyId: number): string => `${name}\n${keyId}`;

/** The trusted keys, looked up by (key name, key ID): "the tuple … uniquely identifies the key". */
export class NoteVerifierSet {
  readonly #byKey = new Map<string, NoteVerifier>();

  /** Refuses (`config-invalid`) two verifiers with the same name and key ID: the lookup would be ambiguous. */
  constructor(verifiers: Iterable<NoteVerifier>) {
    for (const v of verifiers) {
      if (!isValidKeyName(v.name) || !Number.isInteger(v.keyId) || v.keyId < 0 || v.keyId > 0xffffffff) {
        throw new CustodiaError('config-invalid', 'A note verifier has an invalid key name or key ID');
      }
      const k = keyOf(v.name, v.keyId);
      if (this.#byKey.has(k)) throw new CustodiaError('config-invalid', 'Two note verifiers share a key name and key ID');
      this.#byKey.set(k, v);
    }
    Object.freeze(this);
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** The verifier of exactly this name and key ID, if trusted. */
  get(name: string, keyId: number): NoteVerifier | undefined {
    return this.#byKey.get(keyOf(name, keyId));
  }
}

/**
 * Checks a parsed note against the trusted keys. Throws `forbidden` when a known key's
 * signature fails, or when no known key signed.
 *
 * @example
 *   const { text, verified } = verifyNote(parseSignedNote(body), new NoteVerifierSet([logVerifier]));
 */
export function verifyNote(note: SignedNote, verifiers: NoteVerifierSet): NoteVerification {
  const text = Buffer.from(note.text, 'utf8');
  const verified = new Map<string, VerifiedSignature>();
  const unknown = new Map<string, NoteSignature>();
  for (const sig of note.signatures) {
    const verifier = verifiers.get(sig.name, sig.keyId);
    if (verifier === undefined) {
      unknown.set(`${keyOf(sig.name, sig.keyId)}\n${sig.signature.toString('base64')}`, sig);
      continue;
    }
    if (!verifier.verify(text, sig.signature)) throw new CustodiaError('forbidden', 'A signature from a trusted key does not verify');
    const k = keyOf(sig.name, sig.keyId);
    if (!verified.has(k)) verified.set(k, { ...sig, verifier });
  }
  if (verified.size === 0) throw new CustodiaError('forbidden', 'The note has no signature from a trusted key');
  return { text: note.text, verified: [...verified.values()], unknown: [...unknown.values()] };
}

/**
 * Parses (attacker-controlled, see `parseSignedNote`) and verifies a note in one step.
 *
 * @example
 *   openNote(noteText, new NoteVerifierSet([ed25519NoteVerifier(vkey)])).text; // the signed text
 */
export function openNote(input: string | Uint8Array, verifiers: NoteVerifierSet, limits: NoteLimits = {}): NoteVerification {
  return verifyNote(parseSignedNote(input, limits), verifiers);
}
