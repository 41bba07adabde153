/**
 * One problem found by the structural validator.
 *
 * @example
 *   { kind: 'invalid', code: 'required', expression: 'Observation.status',
 *     diagnostics: 'Observation.status is required (min 1) but missing' }
 */
export interface ValidationIssue {
  /** 'structure': not R4 JSON at all (unknown element, wrong JSON type, array vs single) → HTTP 400.
   *  'invalid': R4-shaped but breaks a rule (cardinality, required element, primitive format, empty value,
   *  code outside a required value set) → HTTP 422. */
  readonly kind: IssueKind;
  /** OperationOutcome.issue.code from http://hl7.org/fhir/issue-type: 'structure' | 'required' | 'value' | 'invariant' | 'too-long' | … */
  readonly code: IssueCode;
  /** FHIRPath-style location, e.g. `Patient.name[0].given[1]`. */
  readonly expression: string;
  /** Human-readable; names the element and the expected type or format, never the offending value. */
  readonly diagnostics: string;
}

export type IssueKind = 'structure' | 'invalid';

/** The subset of http://hl7.org/fhir/issue-type codes the validator emits. */
export type IssueCode =
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'code-invalid'
  | 'too-long'
  | 'too-costly'
  | 'not-supported'
  | 'exception';

/** Options of `validateResource`. */
export interface ValidateOptions {
  /** Stop after this many issues (default 100, at least 1). */
  readonly maxIssues?: number;
}
