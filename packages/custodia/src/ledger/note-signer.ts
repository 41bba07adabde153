/**
 * Signing notes (C2SP signed-note §Signatures, §Ed25519 signatures). A `NoteSigner` is a
 * port: this file gives the Ed25519 one (type 0x01); cosignature.ts gives the witness's
 * timestamped one (type 0x04); an HSM-backed one only needs the same three members.
 */
import { CustodiaError } from '../kernel/index.js';
import { ed25519Sign } from './ed25519.js';
import { parsePrivateKey, SIGNATURE_TYPE_ED25519, type NotePrivateKey } from './note-key.js';
import { checkNoteText, isValidKeyName, type NoteSignature, type SignedNote } from './signed-note.js';

/** Makes the signature bytes (those after the key ID) of one key over a note's text. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Buffer): Buffer;
}

/**
 * signed-note §Ed25519 signatures: an Ed25519 signer (type 0x01) from a private key
 * (`PRIVATE+KEY+…`, a configuration secret) or an already parsed one.
 *
 * @example
 *   const signer = ed25519NoteSigner('PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz');
 *   formatSignedNote(signNote('hello\n', [signer]));
 */
export function ed25519NoteSigner(key: string | NotePrivateKey): NoteSigner {
  const k = typeof key === 'string' ? parsePrivateKey(key) : key;
  if (k.type !== SIGNATURE_TYPE_ED25519) throw new CustodiaError('config-invalid', 'An Ed25519 note signer needs a key of signature type 0x01');
  const { privateKey } = k;
  return Object.freeze({ name: k.name, keyId: k.keyId, sign: (text: Buffer) => ed25519Sign(privateKey, text) });
}

const keyOf = (name: string, keyId: number): string => `${name}\n${keyId}`;

/**
 * Signs a note's text with each signer. Signatures already on `note` are kept, except
 * those of a key that signs again (as x/mod/sumdb/note's Sign); new ones come last.
 *
 * @example
 *   const note = signNote('example.com/log\n1\nKgAA…AAA=\n', [logSigner]);
 *   const cosigned = signNote(note, [witnessCosigner]);
 */
export function signNote(note: string | SignedNote, signers: readonly NoteSigner[]): SignedNote {
  const { text, signatures } = typeof note === 'string' ? { text: note, signatures: [] } : note;
  checkNoteText(text);
  if (signers.length === 0) throw new CustodiaError('internal', 'signNote needs at least one signer');
  const replaced = new Set<string>();
  for (const s of signers) {
    if (!isValidKeyName(s.name)) throw new CustodiaError('internal', 'A note signer has an invalid key name');
    const k = keyOf(s.name, s.keyId);
    if (replaced.has(k)) throw new CustodiaError('internal', 'Two note signers share a key name and ID');
    replaced.add(k);
  }
  const bytes = Buffer.from(text, 'utf8');
  const added: NoteSignature[] = signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) }));
  return { text, signatures: [...signatures.filter((sig) => !replaced.has(keyOf(sig.name, sig.keyId))), ...added] };
}
