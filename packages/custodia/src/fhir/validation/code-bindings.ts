/**
 * Required bindings of `code` elements: the codes a value may take, from the structure table
 * (scripts/code-bindings.mjs: closed value sets only; open-ended ones such as mimetypes or
 * languages are not in the table, so their elements are not checked).
 *
 * FHIR R4 terminologies.html#required ("binding strength required"): "To be conformant, the
 * concept in this element SHALL be from the specified value set."
 */
import { loadStructureTable } from './structure-table.js';

export interface CodeBinding {
  /** The value set URL, as the definitions give it (without `|version`). */
  readonly valueSet: string;
  /** The allowed codes, shared by every element bound to the same value set. */
  readonly codes: ReadonlySet<string>;
  /** Names the element and the value set, never the submitted value (patient data). */
  readonly diagnostics: string;
}

const codeSets = new Map<string, ReadonlySet<string>>();

function codeSet(valueSet: string, codes: readonly string[]): ReadonlySet<string> {
  let set = codeSets.get(valueSet);
  if (set === undefined) {
    set = new Set(codes);
    codeSets.set(valueSet, set);
  }
  return set;
}

/**
 * The required binding of the `code` element `name` of table type `typeName`, or undefined
 * when the element is not enum-checked. Both names come from the table, not from the input.
 *
 * @example
 *   codeBindingOf('Patient', 'gender')?.codes.has('female') // true
 *   codeBindingOf('Patient', 'language')                  // undefined (preferred binding)
 */
export function codeBindingOf(typeName: string, name: string): CodeBinding | undefined {
  const { bindings, valueSets } = loadStructureTable();
  const byName = Object.hasOwn(bindings, typeName) ? bindings[typeName] : undefined;
  const valueSet = byName !== undefined && Object.hasOwn(byName, name) ? byName[name] : undefined;
  if (valueSet === undefined) return undefined;
  const codes = Object.hasOwn(valueSets, valueSet) ? valueSets[valueSet] : undefined;
  if (codes === undefined) throw new Error(`structure table: ${typeName}.${name} is bound to ${valueSet}, which has no codes`);
  const diagnostics = `${typeName}.${name}: the code is not in the value set ${valueSet}, to which this element has a required binding`;
  return { valueSet, codes: codeSet(valueSet, codes), diagnostics };
}
