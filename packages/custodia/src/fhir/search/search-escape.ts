/**
 * Escaping in search values (FHIR R4 search.html §3.1.1.4.x "Escaping search parameters"):
 * `\,` `\|` `\$` and `\\` stand for the literal characters; unescaped `,` separates
 * alternatives, `|` separates a token's system and code (and a quantity's parts), `$`
 * separates composite components. Linear scans, no regular expressions over input.
 */

/**
 * Splits `value` at each unescaped `separator`; the parts keep their escapes (so they can be
 * split again on another separator). At most `limit` parts are returned; `undefined` when
 * there would be more.
 *
 * @example splitUnescaped('a\\,b,c', ',', 10) // ['a\\,b', 'c']
 */
export function splitUnescaped(value: string, separator: ',' | '|' | '$', limit: number): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') {
      i++;
    } else if (c === separator) {
      parts.push(value.slice(start, i));
      if (parts.length >= limit) return undefined;
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

/**
 * Removes escapes: `\x` → `x` for any x (a trailing lone `\` is kept).
 *
 * @example unescapeValue('a\\|b\\\\') // 'a|b\\'
 */
export function unescapeValue(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      out += value[i + 1];
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Escapes `\`, `,`, `|` and `$` so the text survives `splitUnescaped` + `unescapeValue`.
 *
 * @example escapeValue('a,b|c') // 'a\\,b\\|c'
 */
export function escapeValue(value: string): string {
  let out = '';
  for (const c of value) {
    if (c === '\\' || c === ',' || c === '|' || c === '$') out += '\\';
    out += c;
  }
  return out;
}
