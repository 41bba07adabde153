/**
 * Structural validation of a FHIR R4 resource against the official 4.0.1 definitions.
 */
import { isJsonObject } from '../resource.js';
import { describeJsonType } from './json-type.js';
import { ResourceRole, validateResourceObject } from './structure-walker.js';
import { ValidationContext } from './validation-context.js';
import type { ValidateOptions, ValidationIssue } from './validation-issue.js';

const DEFAULT_MAX_ISSUES = 100;

function issueLimit(maxIssues: number | undefined): number {
  return typeof maxIssues === 'number' && maxIssues >= 1 ? Math.floor(maxIssues) : DEFAULT_MAX_ISSUES;
}

/**
 * Validates a parsed JSON value as a FHIR R4 resource and returns every problem found (up to
 * `maxIssues`, default 100), each with a FHIRPath-style `expression`. Never throws.
 *
 * Checks: resourceType; unknown properties; JSON types; arrays only for repeating elements and
 * never empty; `null` only in aligned primitive arrays; no empty objects or strings; min/max
 * cardinality; choice elements; primitive formats; codes of `code` elements with a required
 * binding to a closed value set; `_element` siblings; contained resources; nested resources
 * (Bundle.entry.resource, Parameters.parameter.resource …) with their own type.
 *
 * @example
 *   validateResource({ resourceType: 'Observation', status: 'final' })
 *   // [{ kind: 'invalid', code: 'required', expression: 'Observation.code', diagnostics: '…' }]
 */
export function validateResource(input: unknown, options: ValidateOptions = {}): ValidationIssue[] {
  const ctx = new ValidationContext(issueLimit(options.maxIssues));
  try {
    // input is attacker-controlled: any JSON value may arrive here, not only objects.
    if (!isJsonObject(input)) {
      ctx.report('structure', 'structure', `A resource must be a JSON object, found ${describeJsonType(input)}`);
    } else {
      validateResourceObject(input, ctx, 0, ResourceRole.Root);
    }
  } catch {
    // Unreachable for JSON values; a net for exotic inputs (proxies, throwing getters).
    ctx.issues.push({ kind: 'structure', code: 'exception', expression: 'Resource', diagnostics: 'The resource could not be processed' });
  }
  return ctx.issues;
}
