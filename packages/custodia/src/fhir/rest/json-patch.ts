/**
 * JSON Patch documents (RFC 6902) for FHIR PATCH (R4 http.html §3.1.0.6), applied with
 * the `rfc6902` library. The document is hostile input: it is checked here — shape,
 * size, operation names, JSON Pointers (RFC 6901) — before the library sees it, and a
 * pointer into an object's prototype machinery (`__proto__`, `constructor`, `prototype`)
 * is refused outright, whatever the library would do with it.
 */
import { applyPatch, Pointer, type Operation } from 'rfc6902';
import { CustodiaError } from '../../kernel/index.js';
import { countNodes } from './json-extent.js';
import { MAX_COPIED_NODES, type PatchAllowance } from './patch-allowance.js';

/** At most this many operations in one document, each pointer at most this long. */
export const MAX_PATCH_OPERATIONS = 1000;
const MAX_POINTER = 1024;
const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

const invalid = (message: string): CustodiaError => new CustodiaError('patch-invalid', message);

/** RFC 6901: '' or '/'-separated segments with ~1 for '/' and ~0 for '~' (no other escape). */
function checkPointer(pointer: unknown, at: string): string {
  if (typeof pointer !== 'string' || pointer.length > MAX_POINTER || (pointer !== '' && !pointer.startsWith('/'))) {
    throw invalid(`${at} is not a JSON Pointer (RFC 6901) of at most ${MAX_POINTER} characters`);
  }
  for (const raw of pointer.split('/').slice(1)) {
    if (/~[^01]|~$/.test(raw)) throw invalid(`${at} has an escape other than ~0 and ~1`);
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (FORBIDDEN_SEGMENTS.has(segment)) throw invalid(`${at} points into ${segment}, which no FHIR resource has`);
  }
  return pointer;
}

/**
 * The patch of a Bundle entry (R4 http.html §3.1.0.11: a Binary whose contentType is
 * application/json-patch+json and whose data is the patch, base64). Hostile: the data is
 * decoded only when it is canonical base64, then parsed as JSON; anything else is
 * `patch-invalid`.
 */
export function patchOfBinary(resource: unknown): unknown {
  const r = typeof resource === 'object' && resource !== null && !Array.isArray(resource) ? (resource as Record<string, unknown>) : {};
  const data = r['data'];
  if (r['resourceType'] !== 'Binary' || r['contentType'] !== 'application/json-patch+json' || typeof data !== 'string') {
    throw invalid('A PATCH entry carries a FHIRPath Patch (Parameters), or a Binary whose contentType is application/json-patch+json and whose data is the JSON Patch');
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.toString('base64') !== data) throw invalid('The Binary data of a PATCH entry is not canonical base64');
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw invalid('The Binary data of a PATCH entry is not JSON');
  }
}

/** The operations of a JSON Patch body, checked. */
export function parseJsonPatch(body: unknown): Operation[] {
  if (!Array.isArray(body)) throw invalid('A patch is a JSON Patch, a JSON array of operations (RFC 6902 §3), or a FHIRPath Patch, a Parameters resource');
  if (body.length === 0 || body.length > MAX_PATCH_OPERATIONS) throw invalid(`A JSON Patch holds 1 to ${MAX_PATCH_OPERATIONS} operations`);
  return body.map((item: unknown, n) => {
    const at = `operation ${n}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(`${at} is not a JSON object`);
    const o = item as Record<string, unknown>;
    const op = o['op'];
    if (typeof op !== 'string' || !OPS.has(op)) throw invalid(`${at}: op is one of add, remove, replace, move, copy, test`);
    const path = checkPointer(o['path'], `${at} path`);
    if (op === 'move' || op === 'copy') return { op, from: checkPointer(o['from'], `${at} from`), path } as Operation;
    if (op === 'remove') return { op, path } as Operation;
    if (!Object.hasOwn(o, 'value')) throw invalid(`${at}: ${op} needs a value`);
    return { op, path, value: o['value'] } as Operation;
  });
}

/**
 * Applies `operations` to `target` in place (a fresh parse of the stored version). The
 * first that fails stops the patch: `patch-failed`, naming its position and the kind of
 * failure, never a value (values are patient data).
 */
export function applyJsonPatch(target: Record<string, unknown>, operations: readonly Operation[], allowance: PatchAllowance): void {
  operations.forEach((op, n) => {
    if (op.op === 'copy') {
      // Measured where the copy would read it, after the operations before it (undefined if absent: the library reports that).
      allowance.copiedNodes -= countNodes(Pointer.fromJSON(op.from).get(target), allowance.copiedNodes);
      if (allowance.copiedNodes < 0) throw new CustodiaError('patch-failed', `JSON Patch operation ${n} (copy) failed: the request's patches copy more than ${MAX_COPIED_NODES} elements and values in all`);
    }
    const [result] = applyPatch(target, [op]);
    if (result === null || result === undefined) return;
    const why = result.name === 'TestError' ? 'its test did not hold' : result.name === 'MissingError' ? 'its path does not exist' : 'it cannot be applied';
    throw new CustodiaError('patch-failed', `JSON Patch operation ${n} (${op.op}) failed: ${why}`);
  });
}
