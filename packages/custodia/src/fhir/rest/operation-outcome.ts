/**
 * OperationOutcome construction (R4 operationoutcome.html). Every error response is one;
 * diagnostics describe the problem without echoing submitted values, which may be
 * patient data.
 */
import { catalogEntry, CustodiaError, type ErrorIssue } from '../../kernel/index.js';

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: OutcomeIssue[];
}

export interface OutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  diagnostics?: string;
  expression?: string[];
  details?: { coding?: { system: string; code: string }[]; text?: string };
}

/** The system of Custodia's stable error codes, carried in `issue.details.coding`. */
export const ERROR_CODE_SYSTEM = 'https://custodia.dev/fhir/CodeSystem/error-code';

export function outcomeFromError(e: CustodiaError): OperationOutcome {
  const entry = catalogEntry(e.code);
  const details = { coding: [{ system: ERROR_CODE_SYSTEM, code: e.code }], text: entry.summary };
  const issues: ErrorIssue[] = e.issues.length > 0 ? [...e.issues] : [{ diagnostics: e.message }];
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => {
      const out: OutcomeIssue = { severity: 'error', code: i.issueCode ?? entry.issueCode, details, diagnostics: i.diagnostics };
      if (i.expression !== undefined && i.expression.length > 0) out.expression = [...i.expression];
      return out;
    }),
  };
}

export function informationOutcome(text: string, severity: OutcomeIssue['severity'] = 'information', code = 'informational'): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics: text }] };
}
