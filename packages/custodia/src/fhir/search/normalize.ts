/**
 * String normalisation for string search (FHIR R4 search.html §3.1.1.4.7: "the search is
 * case-insensitive and accent-insensitive"; whitespace differences are ignored too).
 * Used identically on the index side (StringRow.value, TokenRow.text) and the query side.
 */

const COMBINING_MARKS = /\p{M}+/gu;
const WHITESPACE_RUNS = /\s+/gu;
/** Printable ASCII without runs of spaces or other whitespace: the common case, no Unicode work needed. */
const SIMPLE_ASCII = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/**
 * Lower case, Unicode NFD with combining marks removed (the result stays in NFD), whitespace
 * collapsed to one space and trimmed. Idempotent.
 *
 * @example normalizeString('  Zoë   Ångström ') // 'zoe angstrom'
 */
export function normalizeString(s: string): string {
  if (SIMPLE_ASCII.test(s)) return s.toLowerCase();
  // Lower-casing can produce combining marks (İ → i̇) and NFD can expose new ones: strip after both.
  const stripped = s.normalize('NFD').toLowerCase().normalize('NFD').replace(COMBINING_MARKS, '');
  return stripped.replace(WHITESPACE_RUNS, ' ').trim();
}
