/** Test helper: the validator's issues without diagnostics, for exact comparisons. */
import { validateResource } from '../../../src/fhir/validation/index.js';

export interface IssueSummary {
  readonly kind: string;
  readonly code: string;
  readonly expression: string;
}

export function issuesOf(input: unknown, maxIssues?: number): IssueSummary[] {
  const issues = validateResource(input, maxIssues === undefined ? {} : { maxIssues });
  return issues.map(({ kind, code, expression }) => ({ kind, code, expression }));
}

export const structure = (expression: string, code = 'structure'): IssueSummary => ({ kind: 'structure', code, expression });
export const invalid = (code: string, expression: string): IssueSummary => ({ kind: 'invalid', code, expression });
