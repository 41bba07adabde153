/**
 * Reference resolution inside a transaction (R4 http.html §3.1.0.11.2 "Resolving
 * references in Bundles" and §3.1.0.11.3 conditional references): references to an
 * entry's fullUrl become `Type/id`, and `Type?criteria` references become the single
 * resource the search finds. A `urn:uuid:` that names no entry cannot be stored.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { ResourceReader } from '../ports/resource-store.js';
import type { Visibility } from '../ports/visibility.js';
import type { FhirContext } from './fhir-context.js';
import { findMatches } from './conditional-match.js';
import { alternativesIn, SEARCH_LIMITS } from '../search/index.js';

const CONDITIONAL = /^([A-Z][A-Za-z]{1,63})\?(.+)$/;

/**
 * What one resolver's conditional references may search, together: each distinct one
 * costs its alternatives (at least one). Each is a search of its own, and a resource or
 * a transaction may carry any number of them: 20,000 cheap ones in an 850 KB Bundle held
 * the event loop for a second, and ten of 5,000 alternatives each for 15 s, inside the
 * transaction's write lock (measured 2026-12-01). Twice one search's budget
 * (SEARCH_LIMITS.maxValues).
 */
export const MAX_CONDITIONAL_VALUES = 2 * SEARCH_LIMITS.maxValues;

export class ReferenceResolver {
  readonly #byFullUrl = new Map<string, string>();
  readonly #conditional = new Map<string, string>();
  #values = 0;

  constructor(
    private readonly ctx: FhirContext,
    private readonly reader: ResourceReader,
    /** Conditional references only find what the writer may see. */
    private readonly visibility: Visibility,
  ) {}

  /** Records that `fullUrl` (a urn:uuid or an absolute URL) stands for `Type/id`. */
  bind(fullUrl: string | undefined, target: string): void {
    if (fullUrl !== undefined) this.#byFullUrl.set(fullUrl, target);
  }

  /** Rewrites every `reference` inside `value` in place; true when one changed. */
  async rewrite(value: unknown): Promise<boolean> {
    let changed = false;
    for (const holder of referenceHolders(value)) {
      const before = holder['reference'] as string;
      const after = await this.resolve(before);
      if (after !== before) {
        holder['reference'] = after;
        changed = true;
      }
    }
    return changed;
  }

  async resolve(reference: string): Promise<string> {
    const bound = this.#byFullUrl.get(reference);
    if (bound !== undefined) return bound;
    if (reference.startsWith('urn:uuid:') || reference.startsWith('urn:oid:')) {
      throw new CustodiaError('reference-unresolved', 'A urn: reference names no entry of this Bundle');
    }
    const m = CONDITIONAL.exec(reference);
    if (m === null) return reference;
    const cached = this.#conditional.get(reference);
    if (cached !== undefined) return cached;
    const type = m[1]!;
    if (!this.ctx.validator.isResourceType(type)) throw new CustodiaError('reference-unresolved', 'A conditional reference names an unknown resource type');
    // The criteria are hostile: their alternatives are counted before anything is searched.
    const params = [...new URLSearchParams(m[2]!)].map(([k, v]) => [k, v] as [string, string]);
    this.#values += Math.max(1, params.reduce((n, [, v]) => n + alternativesIn(v), 0));
    if (this.#values > MAX_CONDITIONAL_VALUES) throw new CustodiaError('search-too-costly', `The conditional references of one request may compare at most ${MAX_CONDITIONAL_VALUES} values in all`);
    const matches = await findMatches(this.ctx, this.reader, type, params, this.visibility);
    if (matches.length !== 1) {
      throw new CustodiaError(matches.length === 0 ? 'reference-unresolved' : 'multiple-matches', `A conditional reference to ${type} matches ${matches.length === 0 ? 'nothing' : 'more than one resource'}`);
    }
    const target = `${type}/${matches[0]!.id}`;
    this.#conditional.set(reference, target);
    return target;
  }
}

/** Objects with a string `reference` property (the Reference datatype), depth-first. */
function* referenceHolders(value: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 64 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) yield* referenceHolders(v, depth + 1);
    return;
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj['reference'] === 'string') yield obj;
  for (const [k, v] of Object.entries(obj)) {
    if (k !== 'reference' && typeof v === 'object') yield* referenceHolders(v, depth + 1);
  }
}
