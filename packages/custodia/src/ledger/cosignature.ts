/**
 * C2SP tlog-cosignature, the Ed25519 `cosignature/v1` type (signature type 0x04): a
 * witness's timestamped statement that, as of time T, the checkpoint is the largest
 * consistent tree head it has seen for the log.
 *
 *     key ID    = SHA-256(<name> ‖ "\n" ‖ 0x04 ‖ 32-byte public key)[:4]      (§Format)
 *     message   = "cosignature/v1\n" ‖ "time " ‖ decimal T ‖ "\n" ‖ checkpoint note text  (§Ed25519 signed message)
 *     signature = u64 big-endian T ‖ Ed25519(message)                        (§Format, timestamped_signature)
 *
 * T is a POSIX timestamp in seconds, taken from an injected clock. The message commits to
 * the whole note text, extension lines included, but not to the cosigner's name: one key
 * per cosigner (§Ed25519 signed message).
 */
import { CustodiaError, type Clock } from '../kernel/index.js';
import { parseCheckpoint } from './checkpoint.js';
import { ed25519PublicKey, ed25519Sign, ed25519Verify, ED25519_SIGNATURE_BYTES } from './ed25519.js';
import { formatVerifierKey, parsePrivateKey, parseVerifierKey, SIGNATURE_TYPE_COSIGNATURE_V1, type NotePrivateKey, type VerifierKey } from './note-key.js';
import type { NoteSigner } from './note-signer.js';
import type { NoteVerifier } from './note-verifier.js';

const HEADER = 'cosignature/v1\n';
const TIMESTAMP_BYTES = 8;
/** §Format: the timestamp "MUST NOT exceed 2^63 - 1". */
const MAX_TIMESTAMP = 2n ** 63n - 1n;

/** Bytes of a cosignature/v1 signature after the key ID: the timestamp and the Ed25519 signature. */
export const COSIGNATURE_V1_BYTES = TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES;

/** A cosigner also publishes its vkey (type 0x04) for clients to trust. */
export interface CosignatureSigner extends NoteSigner {
  readonly verifierKey: string;
}

export interface CosignatureVerifierOptions {
  /** When given, cosignatures dated after now + `maxClockSkewSeconds` are refused (§Format: verifiers MAY). */
  readonly clock?: Clock;
  readonly maxClockSkewSeconds?: number;
}

/**
 * tlog-cosignature §Ed25519 signed message.
 *
 * @example
 *   cosignatureMessage(1679315147, 'example.com/behind-the-sofa\n20852163\nCsUY…q2I=\n').toString();
 *   // 'cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUY…q2I=\n'
 */
export function cosignatureMessage(timestamp: number | bigint, checkpointText: string | Buffer): Buffer {
  const t = BigInt(timestamp);
  if (t < 0n || t > MAX_TIMESTAMP) throw new CustodiaError('internal', 'A cosignature timestamp is between 0 and 2^63 - 1');
  return Buffer.concat([Buffer.from(`${HEADER}time ${t.toString()}\n`, 'utf8'), typeof checkpointText === 'string' ? Buffer.from(checkpointText, 'utf8') : checkpointText]);
}

/**
 * The witness's cosigner from its private key (`PRIVATE+KEY+<name>+<id>+base64(0x04 ‖ seed)`,
 * a configuration secret). It signs only checkpoints, at the clock's current second, which
 * must be after the epoch (tlog-witness: "the timestamp MUST NOT be zero").
 *
 * @example
 *   const cosigner = cosignatureSigner(witnessKey, systemClock);
 *   signNote(checkpointNote, [cosigner]); // adds '— witness.example/w1 base64(keyId ‖ T ‖ sig)'
 */
export function cosignatureSigner(key: string | NotePrivateKey, clock: Clock): CosignatureSigner {
  const k = typeof key === 'string' ? parsePrivateKey(key) : key;
  if (k.type !== SIGNATURE_TYPE_COSIGNATURE_V1) throw new CustodiaError('config-invalid', 'A cosigner needs a key of signature type 0x04');
  const { privateKey } = k;
  const verifierKey = formatVerifierKey(k.name, SIGNATURE_TYPE_COSIGNATURE_V1, k.publicKey);
  return Object.freeze({
    name: k.name,
    keyId: k.keyId,
    verifierKey,
    sign(text: Buffer): Buffer {
      parseCheckpoint(text.toString('utf8')); // a cosignature is a statement about a checkpoint, nothing else
      const seconds = Math.floor(clock.now() / 1000);
      if (!Number.isSafeInteger(seconds) || seconds < 1) throw new CustodiaError('internal', 'The clock is before the epoch');
      const stamp = Buffer.alloc(TIMESTAMP_BYTES);
      stamp.writeBigUInt64BE(BigInt(seconds));
      return Buffer.concat([stamp, ed25519Sign(privateKey, cosignatureMessage(seconds, text))]);
    },
  });
}

/**
 * A verifier for a witness's vkey of type 0x04 (tlog-cosignature §Format: "Ed25519 public
 * keys MAY be encoded as vkeys with signature type 0x04"). Use it in a `NoteVerifierSet`.
 *
 * @example
 *   const witnesses = new NoteVerifierSet([cosignatureVerifier('remora.n621.de+da77ade7+BOvN…mtw2')]);
 *   verifyNote(cosignedCheckpoint, witnesses).verified.map((s) => cosignatureTimestamp(s.signature));
 */
export function cosignatureVerifier(vkey: string | VerifierKey, options: CosignatureVerifierOptions = {}): NoteVerifier {
  const k = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  if (k.type !== SIGNATURE_TYPE_COSIGNATURE_V1) throw new CustodiaError('config-invalid', 'A cosignature verifier needs a key of signature type 0x04');
  const skew = options.maxClockSkewSeconds ?? 300;
  if (!Number.isSafeInteger(skew) || skew < 0) throw new CustodiaError('config-invalid', 'The clock skew is a non-negative number of seconds');
  const key = ed25519PublicKey(k.publicKey);
  const { clock } = options;
  return Object.freeze({
    name: k.name,
    keyId: k.keyId,
    verify(text: Buffer, signature: Buffer): boolean {
      if (signature.length !== COSIGNATURE_V1_BYTES) return false;
      const t = signature.readBigUInt64BE(0);
      if (t > MAX_TIMESTAMP) return false;
      if (clock !== undefined && t > BigInt(Math.floor(clock.now() / 1000) + skew)) return false;
      return ed25519Verify(key, cosignatureMessage(t, text), signature.subarray(TIMESTAMP_BYTES));
    },
  });
}

/**
 * The POSIX timestamp (seconds) of a cosignature/v1 signature (the bytes after the key ID).
 * Read it only from a signature that verified. `request-malformed` if it is not one, or
 * if it is beyond 2^53 − 1 seconds.
 *
 * @example
 *   cosignatureTimestamp(verified.signature); // 1679315147
 */
export function cosignatureTimestamp(signature: Buffer): number {
  if (signature.length !== COSIGNATURE_V1_BYTES) throw new CustodiaError('request-malformed', 'Not a cosignature/v1 signature');
  const t = signature.readBigUInt64BE(0);
  if (t > BigInt(Number.MAX_SAFE_INTEGER)) throw new CustodiaError('request-malformed', 'The cosignature timestamp is out of range');
  return Number(t);
}
