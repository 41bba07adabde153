/**
 * The mutable state of one validation run: the current location (a stack of path segments,
 * turned into a FHIRPath-style expression only when an issue is reported), the issues found so
 * far and the issue limit.
 *
 * @example
 *   const ctx = new ValidationContext(100);
 *   ctx.push('Patient'); ctx.push('name'); ctx.push(0);
 *   ctx.report('invalid', 'required', 'HumanName.family is required', 'family');
 *   ctx.issues[0]?.expression // 'Patient.name[0].family'
 */
import type { IssueCode, IssueKind, ValidationIssue } from './validation-issue.js';

/** Element names that are safe to print in an expression (unknown keys are attacker-controlled). */
const PRINTABLE_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

export class ValidationContext {
  readonly issues: ValidationIssue[] = [];
  /**
   * For each resource being walked that can hold contained resources (not a contained one
   * itself): `targets`, the types of what `#id` names there (`#` the resource, `#x` its
   * contained x); `uses`, the local ids used there (`#x` by a Reference, canonical, uri or
   * url anywhere in the resource, its contained ones included, and `#x` for a contained x
   * that refers to its container with `#`: dom-3).
   */
  readonly localFrames: { readonly targets: ReadonlyMap<string, string>; readonly uses: Set<string> }[] = [];
  /** The id of the contained resource being walked, if any (a `#` in it refers to its container). */
  containedId: string | undefined;
  /** Set once the issue limit is reached: every loop checks it and returns. */
  stopped = false;
  private readonly segments: (string | number)[] = [];
  private readonly maxIssues: number;

  constructor(maxIssues: number) {
    this.maxIssues = maxIssues;
  }

  /** Records a local reference (`#id`, or `#` from inside a contained resource) in the innermost frame, for dom-3. */
  noteLocalUse(value: string): void {
    const uses = this.localFrames.at(-1)?.uses;
    if (uses === undefined) return;
    if (value !== '#') uses.add(value);
    else if (this.containedId !== undefined) uses.add(`#${this.containedId}`);
  }

  /** Enters a named element (`name`) or, for a number, an array item (`[3]`). */
  push(segment: string | number): void {
    this.segments.push(segment);
  }

  leave(): void {
    this.segments.pop();
  }

  /** The current location as `Patient.name[0].given[1]`, optionally followed by `.leaf`. */
  expression(leaf?: string): string {
    let out = '';
    for (const segment of this.segments) {
      if (typeof segment === 'number') out += `[${segment}]`;
      else out += out === '' ? segment : `.${segment}`;
    }
    if (leaf !== undefined) out += out === '' ? leaf : `.${leaf}`;
    return out === '' ? 'Resource' : out;
  }

  /** Records an issue at the current location, or at `.leaf` below it (a name from the definitions). */
  report(kind: IssueKind, code: IssueCode, diagnostics: string, leaf?: string): void {
    if (this.stopped) return;
    this.issues.push({ kind, code, expression: this.expression(leaf), diagnostics });
    if (this.issues.length >= this.maxIssues) this.stopped = true;
  }

  /**
   * Records an unknown property. The key is attacker-chosen: it is printed only when it is a
   * plain identifier of at most 64 characters; otherwise the issue points at the containing object.
   */
  reportUnknown(key: string, diagnostics: string): void {
    this.report('structure', 'structure', diagnostics, PRINTABLE_NAME.test(key) ? key : undefined);
  }
}
