/**
 * The concrete FHIR R4 resource types (generated/resource-types.json, from the R4 4.0.1
 * StructureDefinitions: kind = resource, abstract = false).
 */
import { readFileSync } from 'node:fs';

/**
 * All concrete R4 resource types, sorted.
 *
 * @example
 *   RESOURCE_TYPES.includes('Patient') // true
 */
export const RESOURCE_TYPES: readonly string[] = Object.freeze(
  JSON.parse(readFileSync(new URL('../../../generated/resource-types.json', import.meta.url), 'utf8')) as string[],
);

const resourceTypeSet: ReadonlySet<string> = new Set(RESOURCE_TYPES);

/**
 * True for a concrete R4 resource type name (not `Resource`, `DomainResource` or a data type).
 *
 * @example
 *   isResourceType('Observation') // true
 *   isResourceType('HumanName')   // false
 */
export function isResourceType(name: string): boolean {
  return resourceTypeSet.has(name);
}
