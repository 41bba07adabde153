/**
 * Structural validation of FHIR R4 resources (JSON), against tables generated from the official
 * 4.0.1 StructureDefinitions by scripts/generate-structure-tables.mjs.
 *
 * @example
 *   import { validateResource } from './fhir/validation/index.js';
 *   const issues = validateResource(JSON.parse(body));
 *   if (issues.some((i) => i.kind === 'structure')) // → 400, else if issues.length → 422
 */
export { validateResource } from './validate-resource.js';
export { isResourceType, RESOURCE_TYPES } from './resource-types.js';
export type { IssueCode, IssueKind, ValidateOptions, ValidationIssue } from './validation-issue.js';
