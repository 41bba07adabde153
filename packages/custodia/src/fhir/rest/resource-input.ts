/**
 * Checks on the parts of a request that name or carry a resource. All of it is
 * attacker-controlled: URL segments, headers and the parsed body.
 */
import { CustodiaError } from '../../kernel/index.js';
import { isJsonObject, type FhirResource } from '../resource.js';
import type { FhirContext } from './fhir-context.js';

/** R4 datatypes.html#id: 1–64 characters of [A-Za-z0-9\-\.]. */
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function assertResourceType(ctx: FhirContext, type: string): void {
  if (!ctx.validator.isResourceType(type)) {
    throw new CustodiaError('unknown-resource-type', 'The URL does not name a FHIR R4 resource type');
  }
}

/** Whether `id` is a FHIR id (R4 datatypes.html#id): 1–64 of A–Z, a–z, 0–9, `-` and `.`. */
export function isFhirId(id: string): boolean {
  return ID.test(id);
}

export function assertId(id: string): void {
  if (!isFhirId(id)) throw new CustodiaError('request-malformed', 'A resource id is 1–64 characters of A–Z, a–z, 0–9, "-" and "."');
}

/** The one value of query parameter `name`, or undefined; given twice is `code` (400). Hostile input: only compared. */
export function singleParam(params: ReadonlyArray<readonly [string, string]>, name: string, code: 'request-malformed' | 'search-invalid' = 'request-malformed'): string | undefined {
  const values = params.filter(([k]) => k === name);
  if (values.length > 1) throw new CustodiaError(code, `${name} may be given once`);
  return values[0]?.[1];
}

export function parseVersionId(v: string): number {
  if (!/^[1-9]\d{0,8}$/.test(v)) throw new CustodiaError('version-not-found', 'No such version of the resource');
  return Number(v);
}

/**
 * The body must be a JSON object of the URL's resource type that passes structural
 * validation (R4 http.html §3.1.0.5, §3.1.0.4).
 */
export function parseResourceBody(ctx: Pick<FhirContext, 'validator' | 'rules'>, body: unknown, type: string, where = ''): FhirResource {
  if (!isJsonObject(body)) throw new CustodiaError('resource-structure', 'The body must be a JSON object holding a FHIR resource');
  if (body['resourceType'] !== type) {
    throw new CustodiaError('resource-structure', `The body's resourceType must be ${type}`, {
      issues: [{ diagnostics: `The body's resourceType must be ${type}`, expression: [`${where}resourceType`] }],
    });
  }
  const issues = ctx.validator.validate(body);
  if (issues.length > 0) {
    const structural = issues.some((i) => i.kind === 'structure');
    throw new CustodiaError(structural ? 'resource-structure' : 'resource-invalid', `The ${type} resource is not valid R4`, {
      issues: issues.map((i) => ({ diagnostics: i.diagnostics, expression: [where + i.expression], issueCode: i.code })),
    });
  }
  const ruleIssues = ctx.rules.check(body as FhirResource);
  if (ruleIssues.length > 0) {
    throw new CustodiaError('resource-invalid', `The ${type} resource breaks a rule of this vault`, {
      issues: ruleIssues.map((i) => ({ diagnostics: i.diagnostics, expression: [where + i.expression], issueCode: i.code })),
    });
  }
  return body as FhirResource;
}
