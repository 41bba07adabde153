/**
 * The two patch formats of FHIR PATCH (R4 http.html §3.1.0.6): JSON Patch (RFC 6902, a JSON
 * array; json-patch.ts) and FHIRPath Patch (a Parameters resource; fhirpath-patch.ts). The
 * body's shape says which it is: an array, or an object whose resourceType is Parameters.
 * In a Bundle a PATCH entry carries a Binary that holds a JSON Patch, or the Parameters
 * itself (http.html §3.1.0.11).
 */
import type { Operation } from 'rfc6902';
import { CustodiaError } from '../../kernel/index.js';
import { applyJsonPatch, parseJsonPatch, patchOfBinary } from './json-patch.js';
import { applyFhirPathPatch, isFhirPathPatch, parseFhirPathPatch, type FhirPathOperation } from './fhirpath-patch.js';
import { nestsDeeperThan } from './json-extent.js';
import type { PatchAllowance } from './patch-allowance.js';

export type ResourcePatch = { readonly kind: 'json-patch'; readonly operations: readonly Operation[] } | { readonly kind: 'fhirpath-patch'; readonly operations: readonly FhirPathOperation[] };

/**
 * How deep a patch body may nest arrays and objects: a resource nests at most 64 deep
 * (validation's MAX_DEPTH), and a FHIRPath Patch wraps its values in a few levels more.
 * Deeper values would overflow the stack of the libraries that copy them (rfc6902,
 * structuredClone) before validation could refuse them.
 */
export const MAX_PATCH_DEPTH = 100;

/** The patch of a PATCH body (hostile), checked. */
export function parsePatch(body: unknown): ResourcePatch {
  if (nestsDeeperThan(body, MAX_PATCH_DEPTH)) throw new CustodiaError('patch-invalid', `A patch nests deeper than ${MAX_PATCH_DEPTH} arrays and objects`);
  return isFhirPathPatch(body) ? { kind: 'fhirpath-patch', operations: parseFhirPathPatch(body) } : { kind: 'json-patch', operations: parseJsonPatch(body) };
}

/** The patch body of a Bundle entry's resource: a FHIRPath Patch's Parameters as it is, else the JSON Patch in a Binary. */
export function patchOfEntry(resource: unknown): unknown {
  return isFhirPathPatch(resource) ? resource : patchOfBinary(resource);
}

/** Applies `patch` to `target` in place, spending `allowance` (patch-allowance.ts); the first operation that fails stops it (`patch-failed`). */
export function applyResourcePatch(target: Record<string, unknown>, patch: ResourcePatch, allowance: PatchAllowance): void {
  if (patch.kind === 'fhirpath-patch') applyFhirPathPatch(target, patch.operations, allowance);
  else applyJsonPatch(target, patch.operations, allowance);
}
