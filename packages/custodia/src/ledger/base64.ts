/**
 * Strict base64 for the C2SP text formats (signed-note, tlog-checkpoint, tlog-witness):
 * the standard alphabet of RFC 4648 §4, padded, and canonical. Node's own decoder is
 * lenient (it skips characters outside the alphabet, takes the URL-safe one too and
 * tolerates missing padding), which would let two texts decode to the same bytes.
 * RFC 4648 §3.5 lets a decoder reject non-zero pad bits; this one does, so every value
 * has exactly one encoding and parse-then-format gives back the input.
 */
const SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard padded base64 of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * The bytes `text` encodes, or `undefined` when it is not canonical standard base64
 * (attacker-controlled: callers turn `undefined` into their own typed error).
 *
 * @example
 *   decodeBase64('AQI=');  // <Buffer 01 02>
 *   decodeBase64('AQJ=');  // undefined (non-zero pad bits)
 *   decodeBase64('AQI');   // undefined (no padding)
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (!SHAPE.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
