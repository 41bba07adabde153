/**
 * What one request's patches may make the server do with the resources they patch, all
 * together: a PATCH, or every PATCH entry of a transaction Bundle (which holds all its
 * patched resources until it commits). A patch body is small and hostile; what it asks
 * for is not bounded by its size:
 *   - JSON Patch `copy` copies a list into itself, doubling it: 22 such operations turned a
 *     50-byte extension list into 160 MB in a second (2026-12-01), and 30 (a 2 KB body)
 *     would have run the server out of memory;
 *   - FHIRPath Patch evaluates every path over the whole resource: 50 operations with 4
 *     terms each in `where()` held the event loop for 10.1 s on a 1.6 MB Patient.
 * A batch Bundle's entries are interactions of their own, each committed and let go
 * before the next, and each has an allowance of its own.
 */

/** At most this many JSON nodes copied by `copy` operations (about a 1.5 MB resource's worth). */
export const MAX_COPIED_NODES = 250_000;

/**
 * At most this many nodes walked by FHIRPath Patch paths: each operation walks the
 * resource's nodes (plus those its patch adds) once, and once more per term of its
 * `where()` (fhirpath-patch-path.ts). About 0.3 s of the event loop on the machine of
 * 2026-12-01 (0.16 µs a node walked); a 10 KB resource takes hundreds of operations.
 */
export const MAX_PATH_WORK = 2_000_000;

/** What is left of a request's allowance; the patch formats spend it before they do the work. */
export interface PatchAllowance {
  copiedNodes: number;
  pathWork: number;
}

/** A request's whole allowance. Made inside the transaction that spends it, so that a transaction run again starts afresh. */
export const patchAllowance = (): PatchAllowance => ({ copiedNodes: MAX_COPIED_NODES, pathWork: MAX_PATH_WORK });
