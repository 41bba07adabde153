/**
 * The FHIRPath expressions a FHIRPath Patch may use as its `path` (R4 fhirpatch.html). They
 * are hostile input evaluated over patient data. A whole FHIRPath engine would let one
 * request run for as long as it likes: `repeat`, `descendants`, nested `where` and
 * `select` multiply their inputs. So a path must be a navigation: names, `[n]` indexers and
 * a few functions that pick from a list (`first()`, `last()`, `single()`, `ofType(T)`,
 * `extension('url')`, and at most one level of `where(…)`). Inside `where` a criterion
 * compares names with literals, joined by `and`/`or` and `not()`, `exists()`, `empty()`,
 * `hasValue()`. Such a path costs at most its length times the resource's size.
 * Variables (`%…`, `$…`), unions, arithmetic and every other function are refused. The
 * engine then evaluates what passed.
 */
import { CustodiaError } from '../../kernel/index.js';

export const MAX_PATH_LENGTH = 256;
/**
 * At most this many comparisons and functions inside where(): the criterion runs once per
 * item of the list, and each term walks that item once. Measured on a 1.6 MB Patient
 * (20,000 names of 10 given names each; 2026-12-01): a criterion of 40 terms in 467
 * characters took 1.3 s, one of 8 terms 0.39–0.58 s, and plain navigation
 * (`Patient.name.given`) 0.20 s. The `fhirpath` library spends about a microsecond a node.
 */
export const MAX_CRITERION_TERMS = 8;

/** Functions on the navigation, and those allowed inside `where(…)` (which takes no nested list functions). */
const STEP_FUNCTIONS = new Set(['where', 'first', 'last', 'single', 'ofType', 'extension']);
const CRITERION_FUNCTIONS = new Set(['exists', 'empty', 'not', 'hasValue', 'first', 'last']);
const COMPARISONS = new Set(['=', '!=', '~', '!~', '<', '>', '<=', '>=']);
const LOGIC = new Set(['and', 'or']);
/** FHIRPath's other word operators: `in` and `contains` compare two lists (quadratic), the rest are not navigation. After a `.` they are element names (ValueSet.expansion.contains). */
const OPERATOR_WORDS = new Set(['xor', 'implies', 'is', 'as', 'div', 'mod', 'in', 'contains']);

const TOKEN = /\s+|'(?:[^'\\]|\\.)*'|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|!=|!~|<=|>=|[.[\]()=~<>,]/y;

const refused = (why: string): CustodiaError => new CustodiaError('patch-invalid', `A FHIRPath Patch path ${why} (only names, [n], first(), last(), single(), ofType(), extension() and one level of where() are taken)`);

/** Splits `path` into tokens (whitespace dropped); anything else is refused. Linear: a sticky regex with no nested quantifiers. */
function tokens(path: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < path.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(path);
    if (m === null || m.index !== at) throw refused(`has a character it may not use at position ${at}`);
    if (!/^\s/.test(m[0])) out.push(m[0]);
  }
  return out;
}

/**
 * Throws `patch-invalid` unless `path` is a navigation as described above; else how many
 * times evaluating it may walk the resource: once for the navigation, and once more for
 * each term of its criterion (fhirpath-patch.ts bounds a patch by the sum).
 *
 * @example checkPatchPath("Patient.identifier.where(system = 'urn:x').value") // passes
 * @example checkPatchPath('Patient.descendants()') // throws
 */
export function checkPatchPath(path: string): number {
  if (path.length === 0 || path.length > MAX_PATH_LENGTH) throw refused(`is 1 to ${MAX_PATH_LENGTH} characters`);
  const t = tokens(path);
  // One pass, tracking the parentheses that are open: each a function's, and whether it is a where's.
  const open: string[] = [];
  let terms = 0;
  const term = (): void => {
    if (++terms > MAX_CRITERION_TERMS) throw refused(`has more than ${MAX_CRITERION_TERMS} comparisons and functions inside where()`);
  };
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    const inWhere = open.includes('where');
    if (OPERATOR_WORDS.has(tok) && t[i - 1] !== '.') throw refused('uses an operator it may not use');
    if (/^[A-Za-z_]/.test(tok) && t[i + 1] === '(') {
      if (!(inWhere ? CRITERION_FUNCTIONS : STEP_FUNCTIONS).has(tok)) throw refused(`calls a function it may not use${inWhere ? ' inside where()' : ''}`);
      if (inWhere) term();
      open.push(tok);
      i++;
    } else if (tok === '(') {
      // A grouping parenthesis, only inside a criterion.
      if (!inWhere) throw refused('groups with parentheses outside where()');
      open.push('(');
    } else if (tok === ')') {
      if (open.pop() === undefined) throw refused('closes a parenthesis it did not open');
    } else if (COMPARISONS.has(tok) || LOGIC.has(tok)) {
      if (!inWhere) throw refused('compares outside where()');
      if (COMPARISONS.has(tok)) term();
    } else if (tok === ',') {
      throw refused('passes more than one argument');
    }
  }
  if (open.length > 0) throw refused('leaves a parenthesis open');
  return 1 + terms;
}
