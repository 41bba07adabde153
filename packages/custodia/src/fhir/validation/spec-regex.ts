/**
 * Compiles a regex from a StructureDefinition `regex` extension into a JavaScript RegExp.
 *
 * Two differences from a plain `new RegExp(source)`:
 * - the spec regexes are meant to match the whole value (the JSON Schema wraps them in `^…$`),
 *   so the source is anchored as `^(?:…)$` (which also fixes alternations such as
 *   `[0]|([1-9][0-9]*)` that `^…$` alone would anchor only on one side);
 * - `\s` / `\S` take their XML Schema meaning (space, tab, LF, CR only) instead of the
 *   JavaScript one, which also counts non-breaking and other Unicode spaces as whitespace.
 */

const XSD_SPACE = ' \\t\\n\\r';

/**
 * @example
 *   compileSpecRegex('[A-Za-z0-9\\-\\.]{1,64}').test('abc-1') // true
 */
export function compileSpecRegex(source: string): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source.charAt(i);
    if (ch === '\\') {
      const next = source.charAt(++i);
      if (next === 's') out += inClass ? XSD_SPACE : `[${XSD_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${XSD_SPACE}]`;
      else if (next === 'S') throw new Error(`unsupported \\S inside a character class: ${source}`);
      else out += `\\${next}`;
      continue;
    }
    if (ch === '[' && !inClass) inClass = true;
    else if (ch === ']' && inClass) inClass = false;
    out += ch;
  }
  return new RegExp(`^(?:${out})$`);
}
