/**
 * Which stored resources a caller may see, as a small predicate over a resource's
 * type, id, compartments and security labels. The access decision builds it; the store
 * translates it into the WHERE clause of every query it runs for that caller — reads,
 * searches, totals, includes, chains, `_has` and history — so that filtering happens
 * inside the database and nothing the caller may not see is counted, returned or
 * probed (the "one rule": anything invisible is reported exactly like something that
 * does not exist).
 */
export type Visibility =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'and'; readonly items: readonly Visibility[] }
  | { readonly kind: 'or'; readonly items: readonly Visibility[] }
  | { readonly kind: 'not'; readonly item: Visibility }
  /** The resource is of one of these types. */
  | { readonly kind: 'type-in'; readonly types: readonly string[] }
  /** The resource is in the compartment (e.g. Patient) of one of these ids. */
  | { readonly kind: 'in-compartment'; readonly compartment: string; readonly ids: readonly string[] }
  /** The resource carries this security label (explicit `meta.security` or automatic). */
  | { readonly kind: 'has-label'; readonly system: string; readonly code: string }
  /** The resource is one of these (`Type/id`). */
  | { readonly kind: 'ref-in'; readonly refs: readonly string[] }
  /**
   * The resource has this value for a token search parameter (its index rows): a SMART
   * scope restriction such as `patient/Observation.rs?category=laboratory`. Without
   * `system`, a code of any system matches.
   */
  | { readonly kind: 'has-token'; readonly param: string; readonly system?: string; readonly code: string };

export const SEE_ALL: Visibility = Object.freeze({ kind: 'all' });

/** Simplifies constant parts away (`and` with `none` is `none`, …). */
export function simplifyVisibility(v: Visibility): Visibility {
  switch (v.kind) {
    case 'and': {
      const items = v.items.map(simplifyVisibility).filter((i) => i.kind !== 'all');
      if (items.some((i) => i.kind === 'none')) return { kind: 'none' };
      if (items.length === 0) return SEE_ALL;
      return items.length === 1 ? items[0]! : { kind: 'and', items };
    }
    case 'or': {
      const items = v.items.map(simplifyVisibility).filter((i) => i.kind !== 'none');
      if (items.some((i) => i.kind === 'all')) return SEE_ALL;
      if (items.length === 0) return { kind: 'none' };
      return items.length === 1 ? items[0]! : { kind: 'or', items };
    }
    case 'not': {
      const item = simplifyVisibility(v.item);
      if (item.kind === 'all') return { kind: 'none' };
      if (item.kind === 'none') return SEE_ALL;
      return item.kind === 'not' ? item.item : { kind: 'not', item };
    }
    case 'type-in':
      return v.types.length === 0 ? { kind: 'none' } : v;
    case 'in-compartment':
    case 'ref-in':
      return (v.kind === 'in-compartment' ? v.ids : v.refs).length === 0 ? { kind: 'none' } : v;
    default:
      return v;
  }
}

/** The facts about one resource that visibility depends on. */
export interface VisibilityFacts {
  readonly type: string;
  readonly id: string;
  readonly compartments: readonly { readonly compartment: string; readonly id: string }[];
  readonly labels: readonly { readonly system: string | null; readonly code: string | null }[];
  /**
   * The resource's token index rows, needed only by `has-token` (see {@link needsTokens});
   * when absent, `has-token` is false (deny by default).
   */
  readonly tokens?: readonly { readonly param: string; readonly system: string | null; readonly code: string | null }[];
}

/** Answers per predicate object: a request's predicate is asked on every read it makes. */
const tokenNeeds = new WeakMap<Visibility, boolean>();

/** Does evaluating `v` need the resource's token rows (VisibilityFacts.tokens)? */
export function needsTokens(v: Visibility): boolean {
  const known = tokenNeeds.get(v);
  if (known !== undefined) return known;
  let need: boolean;
  switch (v.kind) {
    case 'has-token':
      need = true;
      break;
    case 'and':
    case 'or':
      need = v.items.some(needsTokens);
      break;
    case 'not':
      need = needsTokens(v.item);
      break;
    default:
      need = false;
  }
  tokenNeeds.set(v, need);
  return need;
}

/** Evaluates a visibility predicate in memory; the store's SQL must agree (a test checks it). */
export function isVisible(v: Visibility, f: VisibilityFacts): boolean {
  switch (v.kind) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'and':
      return v.items.every((i) => isVisible(i, f));
    case 'or':
      return v.items.some((i) => isVisible(i, f));
    case 'not':
      return !isVisible(v.item, f);
    case 'type-in':
      return v.types.includes(f.type);
    case 'in-compartment':
      return f.compartments.some((c) => c.compartment === v.compartment && v.ids.includes(c.id));
    case 'has-label':
      return f.labels.some((l) => l.system === v.system && l.code === v.code);
    case 'ref-in':
      return v.refs.includes(`${f.type}/${f.id}`);
    case 'has-token':
      return (f.tokens ?? []).some((t) => t.param === v.param && t.code === v.code && (v.system === undefined || t.system === v.system));
  }
}
