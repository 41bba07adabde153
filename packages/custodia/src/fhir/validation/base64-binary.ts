/**
 * base64Binary lexical check, as a linear scanner.
 *
 * The R4 StructureDefinition regex `(\s*([0-9a-zA-Z\+/=]){4}\s*)+` backtracks exponentially on
 * hostile input (runs of whitespace between quads can be split between the two `\s*` in many
 * ways), so it is never compiled; this scanner accepts the same language, minus misplaced padding.
 */

/** True for A–Z, a–z, 0–9, `+` and `/` (RFC 4648 §4, the base64 alphabet). */
function isBase64Alphabet(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/**
 * True when `value` is base64Binary content.
 *
 * - FHIR R4 datatypes.html#base64Binary regex: quads of alphabet characters, whitespace
 *   (XML Schema `\s`: space, tab, CR, LF) only between quads, at least one quad.
 * - RFC 4648 §3.2: `=` padding only at the end of the data, in the last two positions of the
 *   final quad.
 *
 * @example
 *   isBase64Binary('SGVsbG8=') // true
 *   isBase64Binary('SGVsbG8')  // false: not a whole number of quads
 */
export function isBase64Binary(value: string): boolean {
  // input is attacker-controlled and may be megabytes long: one pass, no backtracking.
  let count = 0;
  let padding = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      if (count % 4 !== 0) return false;
      continue;
    }
    if (c === 0x3d) {
      if (count % 4 < 2) return false;
      padding = true;
    } else if (padding || !isBase64Alphabet(c)) {
      return false;
    }
    count++;
  }
  return count > 0 && count % 4 === 0;
}
