/**
 * The declared datatypes of the elements search expressions navigate (from the R4
 * StructureDefinitions, via the generated tables). A position in a resource is a
 * `StaticType`: the datatype there, plus the structure and backbone path whose children
 * apply (`Observation.component` is a BackboneElement whose children live in `Observation`
 * at path `component`).
 */
import type { RawSearchTables } from './search-tables.js';

export interface StaticType {
  /** FHIR datatype or resource type (`HumanName`, `code`, `BackboneElement`, `Patient`, `Resource`). */
  readonly type: string;
  /** Where children are looked up: a resource type or datatype … */
  readonly struct: string;
  /** … and the backbone path inside it ('' for the structure itself). */
  readonly path: string;
}

/** One JSON property an element may appear under, with its datatype (choices have several). */
export interface ElementBranch {
  /** The JSON key: `name`, or `valueQuantity` for the `Quantity` branch of `value[x]`. */
  readonly key: string;
  readonly type: StaticType;
}

const BACKBONE_TYPES: ReadonlySet<string> = new Set(['BackboneElement', 'Element']);

/** Upper-cases the first letter: `dateTime` → `DateTime` (choice element JSON names, R4 json.html). */
function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

export class ElementModel {
  readonly #elements: RawSearchTables['elements'];
  readonly #parents: ReadonlyMap<string, string>;

  constructor(tables: Pick<RawSearchTables, 'elements' | 'typeParents'>) {
    this.#elements = tables.elements;
    this.#parents = new Map(Object.entries(tables.typeParents));
  }

  /** The static type at the root of a resource (or `Resource`/`DomainResource`). */
  rootType(resourceType: string): StaticType {
    return { type: resourceType, struct: resourceType, path: '' };
  }

  /**
   * The JSON keys and datatypes of child `name` of a position, or undefined when the model
   * does not know that element.
   *
   * @example model.children({ type: 'Observation', struct: 'Observation', path: '' }, 'value')
   *   // [{ key: 'valueQuantity', type: { type: 'Quantity', … } }, { key: 'valueCodeableConcept', … }, …]
   */
  children(parent: StaticType, name: string): readonly ElementBranch[] | undefined {
    const table = Object.hasOwn(this.#elements, parent.struct) ? this.#elements[parent.struct] : undefined;
    if (table === undefined) return undefined;
    const rel = parent.path === '' ? name : `${parent.path}.${name}`;
    const declared = Object.hasOwn(table, rel) ? table[rel] : undefined;
    if (declared === undefined) return undefined;
    if (typeof declared === 'string') return [{ key: name, type: this.#positionOf(parent.struct, rel, declared) }];
    return declared.map((t) => ({ key: name + capitalize(t), type: this.#positionOf(parent.struct, rel, t) }));
  }

  /** True when `type` is `ancestor` or specializes it (`Age` is a `Quantity`, `code` is a `string`). */
  isA(type: string, ancestor: string): boolean {
    for (let t: string | undefined = type, guard = 0; t !== undefined && guard < 8; t = this.#parents.get(t), guard++) {
      if (t === ancestor) return true;
    }
    return false;
  }

  #positionOf(struct: string, rel: string, declared: string): StaticType {
    if (BACKBONE_TYPES.has(declared)) return { type: 'BackboneElement', struct, path: rel };
    // Content reference (`Questionnaire.item.item` is defined by `#Questionnaire.item`).
    if (declared.startsWith('#')) return { type: 'BackboneElement', struct, path: declared.slice(1) };
    return { type: declared, struct: declared, path: '' };
  }
}
