/**
 * The structure table compiled, type by type on first use, into lookup maps the validator walks
 * without further allocation: one entry per allowed JSON property (including `_name` siblings
 * and the expanded variants of choice elements), with bit masks for required elements and
 * choice groups.
 */
import { codeBindingOf, type CodeBinding } from './code-bindings.js';
import { primitiveFormats, type PrimitiveFormat } from './primitive-formats.js';
import { referenceTargetsOf } from './reference-targets.js';
import { loadStructureTable, type ElementEntry, type TypeEntry } from './structure-table.js';

/** How a JSON property is validated. */
export const ElementKind = {
  /** A primitive value (string, number or boolean). */
  Primitive: 0,
  /** FHIR R4 json.html §2.6.2: the `_name` sibling carrying id/extension of a primitive. */
  Sibling: 1,
  /** A complex data type or backbone element (a JSON object). */
  Complex: 2,
  /** A nested resource (Bundle.entry.resource, contained, Parameters.parameter.resource). */
  Resource: 3,
  /** The `resourceType` property of a resource (checked before the walk). */
  ResourceType: 4,
} as const;
export type ElementKind = (typeof ElementKind)[keyof typeof ElementKind];

export interface CompiledElement {
  /** The JSON property name (`given`, `_given`, `valueQuantity`). */
  readonly name: string;
  /** The name used in expressions: `_given` is reported as `given` (FHIRPath has no `_`). */
  readonly pathName: string;
  readonly kind: ElementKind;
  /** The table type: `HumanName`, `Patient.contact`, `date` … */
  readonly typeName: string;
  /** max = `*`: the JSON value must be an array. */
  readonly array: boolean;
  /** max = 0: prohibited by a constraint profile (SimpleQuantity.comparator). */
  readonly prohibited: boolean;
  /** Bit set when the element is present, for required elements (0 otherwise). */
  readonly requiredBit: number;
  /** Bit shared by the variants of one choice element (0 for other elements). */
  readonly choiceBit: number;
  /** `value[x]` for choice variants, '' otherwise. */
  readonly choiceName: string;
  /** For a primitive: its `_name` sibling; for a sibling: the primitive's name; '' otherwise. */
  readonly partnerName: string;
  /** Set for primitives. */
  readonly format: PrimitiveFormat | undefined;
  /** Set for `code` primitives with a required binding to a closed value set. */
  readonly binding: CodeBinding | undefined;
  /** Set for `Reference` elements that may point only to some resource types. */
  readonly targets: ReadonlySet<string> | undefined;
  /** Set for complex elements and siblings on first use (see complexTypeOf). */
  complexType: CompiledType | undefined;
  /** DomainResource.contained: the nested resource is a contained one. */
  readonly contained: boolean;
}

export interface RequiredSlot {
  readonly bit: number;
  /** `status`, or `medication[x]` for a required choice element. */
  readonly name: string;
}

export interface CompiledType {
  readonly name: string;
  readonly isResource: boolean;
  readonly elements: ReadonlyMap<string, CompiledElement>;
  readonly requiredMask: number;
  readonly requiredSlots: readonly RequiredSlot[];
}

const MAX_BITS = 31;

function bitAllocator(typeName: string): (key: string) => number {
  const bits = new Map<string, number>();
  return (key) => {
    let bit = bits.get(key);
    if (bit === undefined) {
      if (bits.size >= MAX_BITS) throw new Error(`structure table: too many required/choice slots in ${typeName}`);
      bit = 1 << bits.size;
      bits.set(key, bit);
    }
    return bit;
  };
}

type ElementFields = Omit<CompiledElement, 'complexType' | 'pathName' | 'binding' | 'targets'> & {
  readonly pathName?: string;
  readonly binding?: CodeBinding | undefined;
  readonly targets?: ReadonlySet<string> | undefined;
};

/** Builds every element with the same property order, so the walker's property reads stay monomorphic. */
function makeElement(fields: ElementFields): CompiledElement {
  return {
    name: fields.name,
    pathName: fields.pathName ?? fields.name,
    kind: fields.kind,
    typeName: fields.typeName,
    array: fields.array,
    prohibited: fields.prohibited,
    requiredBit: fields.requiredBit,
    choiceBit: fields.choiceBit,
    choiceName: fields.choiceName,
    partnerName: fields.partnerName,
    format: fields.format,
    binding: fields.binding,
    targets: fields.targets,
    complexType: undefined,
    contained: fields.contained,
  };
}

function compileType(name: string, entry: TypeEntry, formats: ReadonlyMap<string, PrimitiveFormat>): CompiledType {
  const elements = new Map<string, CompiledElement>();
  const requiredBit = bitAllocator(name);
  const choiceBit = bitAllocator(name);
  const slots = new Map<string, RequiredSlot>();
  for (const [jsonName, [rawType, min, max, choice]] of Object.entries(entry.elements) as [string, ElementEntry][]) {
    const noSibling = rawType.startsWith('@');
    const typeName = noSibling ? rawType.slice(1) : rawType;
    const format = formats.get(typeName);
    const slotName = choice ?? jsonName;
    const bit = min > 0 ? requiredBit(slotName) : 0;
    if (bit !== 0) slots.set(slotName, { bit, name: slotName });
    const shared = {
      typeName,
      array: max === '*',
      prohibited: max === 0,
      requiredBit: bit,
      choiceBit: choice === undefined ? 0 : choiceBit(choice),
      choiceName: choice ?? '',
      contained: typeName === 'Resource' && jsonName === 'contained',
    };
    if (format !== undefined) {
      const partnerName = noSibling ? '' : `_${jsonName}`;
      const binding = codeBindingOf(name, jsonName);
      elements.set(jsonName, makeElement({ ...shared, name: jsonName, kind: ElementKind.Primitive, partnerName, format, binding }));
      if (partnerName !== '') {
        const sibling = { ...shared, typeName: 'Element', name: partnerName, pathName: jsonName, kind: ElementKind.Sibling };
        elements.set(partnerName, makeElement({ ...sibling, partnerName: jsonName, format: undefined }));
      }
    } else {
      const kind = typeName === 'Resource' ? ElementKind.Resource : ElementKind.Complex;
      const targets = typeName === 'Reference' ? referenceTargetsOf(name, jsonName) : undefined;
      elements.set(jsonName, makeElement({ ...shared, name: jsonName, kind, partnerName: '', format: undefined, targets }));
    }
  }
  const isResource = entry.kind === 'resource';
  if (isResource) {
    elements.set(
      'resourceType',
      makeElement({
        name: 'resourceType', kind: ElementKind.ResourceType, typeName: 'code', array: false, prohibited: false, requiredBit: 0,
        choiceBit: 0, choiceName: '', partnerName: '', format: undefined, contained: false,
      }),
    );
  }
  const requiredSlots = [...slots.values()];
  const requiredMask = requiredSlots.reduce((mask, slot) => mask | slot.bit, 0);
  return { name, isResource, elements, requiredMask, requiredSlots };
}

const compiled = new Map<string, CompiledType>();

/**
 * The compiled form of a resource, data or backbone type of the structure table, or undefined
 * for an unknown name. Types are compiled on first use and kept (a process only pays for the
 * types it meets).
 *
 * @example
 *   compiledType('Patient')?.elements.get('birthDate')?.typeName // 'date'
 */
export function compiledType(name: string): CompiledType | undefined {
  let type = compiled.get(name);
  if (type === undefined) {
    const types = loadStructureTable().types;
    const entry = Object.hasOwn(types, name) ? types[name] : undefined;
    if (entry === undefined) return undefined;
    type = compileType(name, entry, primitiveFormats());
    compiled.set(name, type);
  }
  return type;
}

/** The compiled type of a complex element or `_element` sibling, resolved on first use. */
export function complexTypeOf(element: CompiledElement): CompiledType {
  let type = element.complexType;
  if (type === undefined) {
    type = compiledType(element.typeName);
    if (type === undefined) throw new Error(`structure table: ${element.name} has unknown type ${element.typeName}`);
    element.complexType = type;
  }
  return type;
}
