/**
 * A small boolean language over the attributes of a stored resource that the database can
 * filter on: its type, its `Type/id`, and its security labels. consentDataRule() produces one
 * per request; the storage adapters translate it into SQL so that filtering happens inside the
 * query (search, `_total`, `_include`, history). Every constructor here simplifies (constant
 * folding, flattening, merging of `type-in`/`ref-in`, deduplication, canonical order), so equal
 * predicates are equal JSON.
 */

export type DataPredicate =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'type-in'; readonly types: readonly string[] }
  | { readonly kind: 'has-label'; readonly system: string; readonly code: string }
  | { readonly kind: 'ref-in'; readonly refs: readonly string[] }
  | { readonly kind: 'and' | 'or'; readonly items: readonly DataPredicate[] }
  | { readonly kind: 'not'; readonly item: DataPredicate };

/** What a predicate is evaluated on: a subset of DataItem. */
export interface PredicateSubject {
  readonly resourceType: string;
  readonly id: string;
  readonly labels: readonly { readonly system: string; readonly code: string }[];
}

export const TRUE: DataPredicate = { kind: 'true' };
export const FALSE: DataPredicate = { kind: 'false' };

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * Resource type is one of `types`.
 *
 * @example
 *   or(typeIn(['Observation']), typeIn(['Condition'])) // { kind: 'type-in', types: ['Condition', 'Observation'] }
 */
export function typeIn(types: readonly string[]): DataPredicate {
  const t = sortedUnique(types);
  return t.length === 0 ? FALSE : { kind: 'type-in', types: t };
}

/** `Type/id` is one of `refs`. */
export function refIn(refs: readonly string[]): DataPredicate {
  const r = sortedUnique(refs);
  return r.length === 0 ? FALSE : { kind: 'ref-in', refs: r };
}

/** The resource carries the label (system, code). */
export function hasLabel(system: string, code: string): DataPredicate {
  return { kind: 'has-label', system, code };
}

/** A canonical string of a predicate (its JSON: constructors fix the key order). */
export function predicateKey(p: DataPredicate): string {
  return JSON.stringify(p);
}

/** Negation, simplified: `not(not(x))` is `x`. */
export function not(p: DataPredicate): DataPredicate {
  if (p.kind === 'true') return FALSE;
  if (p.kind === 'false') return TRUE;
  if (p.kind === 'not') return p.item;
  return { kind: 'not', item: p };
}

function junction(kind: 'and' | 'or', items: readonly DataPredicate[]): DataPredicate {
  const unit = kind === 'and' ? 'true' : 'false';
  const zero = kind === 'and' ? 'false' : 'true';
  const flat: DataPredicate[] = [];
  for (const i of items) {
    if (i.kind === kind) flat.push(...i.items);
    else flat.push(i);
  }
  const types: string[][] = [];
  const refs: string[][] = [];
  const byKey = new Map<string, DataPredicate>();
  for (const i of flat) {
    if (i.kind === zero) return i;
    if (i.kind === unit) continue;
    if (i.kind === 'type-in') types.push([...i.types]);
    else if (i.kind === 'ref-in') refs.push([...i.refs]);
    else byKey.set(predicateKey(i), i);
  }
  if (types.length > 0) {
    const merged = kind === 'or' ? types.flat() : types.reduce((a, b) => a.filter((t) => b.includes(t)));
    const t = typeIn(merged);
    if (t.kind === zero) return t;
    byKey.set(predicateKey(t), t);
  }
  if (refs.length > 0) {
    const merged = kind === 'or' ? refs.flat() : refs.reduce((a, b) => a.filter((r) => b.includes(r)));
    const r = refIn(merged);
    if (r.kind === zero) return r;
    byKey.set(predicateKey(r), r);
  }
  for (const i of byKey.values()) {
    // x and not x = false; x or not x = true
    if (i.kind === 'not' && byKey.has(predicateKey(i.item))) return kind === 'and' ? FALSE : TRUE;
  }
  // Absorption: x or (x and y) = x; x and (x or y) = x.
  const dual = kind === 'and' ? 'or' : 'and';
  for (const [key, i] of [...byKey]) {
    if (i.kind === dual && i.items.some((j) => byKey.has(predicateKey(j)))) byKey.delete(key);
  }
  const out = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, i]) => i);
  if (out.length === 0) return kind === 'and' ? TRUE : FALSE;
  if (out.length === 1) return out[0]!;
  return { kind, items: out };
}

/**
 * Conjunction, simplified.
 *
 * @example
 *   and(hasLabel('s', 'HIV'), TRUE, not(hasLabel('s', 'HIV'))) // FALSE
 */
export function and(...items: readonly DataPredicate[]): DataPredicate {
  return junction('and', items);
}

/** Disjunction, simplified (see {@link and}). */
export function or(...items: readonly DataPredicate[]): DataPredicate {
  return junction('or', items);
}

/**
 * Evaluates a predicate on one resource.
 *
 * @example
 *   evaluatePredicate(not(hasLabel(ACT_CODE_SYSTEM, 'HIV')), { resourceType: 'Observation', id: 'o1', labels: [] }) // true
 */
export function evaluatePredicate(p: DataPredicate, item: PredicateSubject): boolean {
  switch (p.kind) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'type-in':
      return p.types.includes(item.resourceType);
    case 'ref-in':
      return p.refs.includes(`${item.resourceType}/${item.id}`);
    case 'has-label':
      return item.labels.some((l) => l.system === p.system && l.code === p.code);
    case 'and':
      return p.items.every((i) => evaluatePredicate(i, item));
    case 'or':
      return p.items.some((i) => evaluatePredicate(i, item));
    case 'not':
      return !evaluatePredicate(p.item, item);
  }
}

/** The distinct labels a predicate tests, sorted. */
export function predicateLabels(p: DataPredicate): { system: string; code: string }[] {
  const out = new Map<string, { system: string; code: string }>();
  const visit = (q: DataPredicate): void => {
    if (q.kind === 'has-label') out.set(`${q.system}|${q.code}`, { system: q.system, code: q.code });
    else if (q.kind === 'and' || q.kind === 'or') q.items.forEach(visit);
    else if (q.kind === 'not') visit(q.item);
  };
  visit(p);
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, l]) => l);
}

/** Replaces the label atom (system, code) by a constant and simplifies. */
export function assumeLabel(p: DataPredicate, label: { readonly system: string; readonly code: string }, present: boolean): DataPredicate {
  switch (p.kind) {
    case 'has-label':
      return p.system === label.system && p.code === label.code ? (present ? TRUE : FALSE) : p;
    case 'and':
      return and(...p.items.map((i) => assumeLabel(i, label, present)));
    case 'or':
      return or(...p.items.map((i) => assumeLabel(i, label, present)));
    case 'not':
      return not(assumeLabel(p.item, label, present));
    default:
      return p;
  }
}

/**
 * A compact text form for logs and tests, e.g. `not(or(has-label(…|HIV), type-in(Observation)))`.
 *
 * @example
 *   formatPredicate(and(typeIn(['Observation']), not(hasLabel('s', 'HIV')))) // 'and(not(has-label(s|HIV)), type-in(Observation))'
 */
export function formatPredicate(p: DataPredicate): string {
  switch (p.kind) {
    case 'true':
    case 'false':
      return p.kind;
    case 'type-in':
      return `type-in(${p.types.join(',')})`;
    case 'ref-in':
      return `ref-in(${p.refs.join(',')})`;
    case 'has-label':
      return `has-label(${p.system}|${p.code})`;
    case 'and':
    case 'or':
      return `${p.kind}(${p.items.map(formatPredicate).join(', ')})`;
    case 'not':
      return `not(${formatPredicate(p.item)})`;
  }
}
