/**
 * The canonical text of `ap` values, remembered by the parser for the formatter.
 *
 * An `ap` date range is widened by 10% of its distance to "now" (search.html §3.1.1.4.1.1),
 * so the widened range alone does not say which value was asked for unless one knows the
 * clock reading the parser used. `SearchQuery` has no room for that, so the parser keeps
 * the canonical text of each `ap` value here, keyed by the value object itself (a WeakMap:
 * nothing leaks, and the AST stays plain data).
 */

const sources = new WeakMap<object, string>();

/** Records the canonical query text of a parsed value. */
export function rememberCanonical(value: object, text: string): void {
  sources.set(value, text);
}

/** The canonical query text recorded for `value`, if the parser produced it. */
export function canonicalOf(value: object): string | undefined {
  return sources.get(value);
}
