/**
 * Derives the search index rows of a resource version (FHIR R4 search.html §3.1.1.4: each
 * parameter's expression selects elements, which become rows according to the parameter type
 * and the element's datatype). Expressions are compiled once per (resource type, parameter).
 *
 * Not indexed: `_id` and `_lastUpdated` (the store keeps them as columns of the version row),
 * `_text`, `_content`, `_query` (no expression), and special parameters (`near`).
 * Never throws on a resource with a known resourceType: what cannot be indexed is skipped.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { FhirResource, JsonObject } from '../resource.js';
import type { ElementModel } from './element-model.js';
import type { ValueSink } from './fhirpath-fallback.js';
import type { Collector } from './fhirpath-compiler.js';
import { emptyIndexRows, type IndexRows } from './index-rows.js';
import { addDateRows, addNumberRows, addQuantityRows } from './range-values.js';
import { addReferenceRows, addUriRows, type ReferenceContext } from './reference-values.js';
import { RowSink } from './row-sink.js';
import { compileCompositeExpression, compileSearchExpression, type AccessorOptions, type CompositeAccessor, type SearchAccessor } from './search-expression.js';
import { compartmentParams, type SearchParamRegistry } from './search-param-registry.js';
import { compartmentMemberships } from './compartment-membership.js';
import type { SearchParamType } from './search-parameter.js';
import { addStringRows } from './string-values.js';
import { addTokenRows } from './token-values.js';

export interface IndexerOptions extends AccessorOptions {
  /** This server's base URL: absolute references under it are indexed as local. */
  readonly baseUrl?: string;
  /** At most this many rows for one resource; `extract` of one with more throws `resource-too-costly` (no limit if absent). */
  readonly maxRows?: number;
}

/**
 * Thrown inside the parameters' evaluation once a resource has more rows than allowed, and
 * turned into `resource-too-costly` by `extract`. Each row is a few microseconds of work
 * later (a blind index per prefix of each string, an insert) and one database row, and
 * the resource's size does not bound their number: measured 2026-12-01, a 30 MB Patient
 * of 660,000 names held the event loop for 22 s on its PUT. The largest R4 example
 * (CapabilityStatement/base) has 304 rows, a Synthea Patient under 40.
 */
const TOO_MANY_ROWS = Symbol('too many index rows');

export interface Indexer {
  /**
   * The index rows of `resource`; `resource-too-costly` if it has more than the indexer's `maxRows`.
   *
   * @example createIndexer(SearchParamRegistry.loadR4()).extract(patient).string // [{ param: 'family', … }]
   */
  extract(resource: FhirResource): IndexRows;
  /**
   * The ids of the Patients whose compartment `resource` is in (compartmentdefinition.html),
   * from its Patient-compartment parameters only: what the audit needs of each resource a
   * read returns, at a fraction of `extract`'s cost.
   */
  patients(resource: FhirResource): string[];
  /** The `(resourceType, code)` pairs whose expressions the fhirpath library evaluates (compiled so far). */
  fallbacks(): readonly string[];
}

type Plan =
  | { readonly kind: 'simple'; readonly code: string; readonly type: SearchParamType; readonly targets: readonly string[]; readonly accessor: SearchAccessor }
  | { readonly kind: 'composite'; readonly code: string; readonly types: readonly SearchParamType[]; readonly accessor: CompositeAccessor };

const NOT_INDEXED: ReadonlySet<string> = new Set(['_id', '_lastUpdated']);

/** Adds the rows of one value for a parameter of type `type`; returns how many it produced. */
function addRows(
  sink: RowSink,
  type: SearchParamType,
  param: string,
  grp: number,
  value: unknown,
  datatype: string,
  model: ElementModel,
  refs: ReferenceContext,
  targets?: readonly string[],
): number {
  switch (type) {
    case 'string':
      return addStringRows(sink, param, grp, value, datatype);
    case 'token':
      return addTokenRows(sink, param, grp, value, datatype);
    case 'reference':
      return addReferenceRows(sink, param, grp, value, datatype, refs, targets);
    case 'date':
      return addDateRows(sink, param, grp, value, datatype);
    case 'number':
      return addNumberRows(sink, param, grp, value, datatype, model);
    case 'quantity':
      return addQuantityRows(sink, param, grp, value, datatype, model);
    case 'uri':
      return addUriRows(sink, param, grp, value, datatype);
    default:
      return 0;
  }
}

/** Feeds selected values straight into rows for one simple parameter. */
class ParamSink implements ValueSink {
  code = '';
  type: SearchParamType = 'string';
  targets: readonly string[] = [];
  constructor(
    readonly rows: RowSink,
    readonly model: ElementModel,
    readonly refs: ReferenceContext,
    readonly maxRows = Number.POSITIVE_INFINITY,
  ) {}
  push(value: unknown, datatype: string): void {
    addRows(this.rows, this.type, this.code, 0, value, datatype, this.model, this.refs, this.targets);
    if (this.rows.size > this.maxRows) throw TOO_MANY_ROWS;
  }
}

/**
 * Creates an indexer over the parameters of `registry`.
 *
 * @example
 *   const indexer = createIndexer(SearchParamRegistry.loadR4(), { baseUrl: 'https://vault.example/fhir' });
 *   const rows = indexer.extract({ resourceType: 'Patient', id: '1', name: [{ family: 'Doe' }] });
 */
export function createIndexer(registry: SearchParamRegistry, options: IndexerOptions = {}): Indexer {
  const model = registry.model;
  const isType = (t: string): boolean => registry.isResourceType(t);
  const refs: ReferenceContext = options.baseUrl === undefined ? { isType } : { isType, baseUrl: options.baseUrl };
  const plans = new Map<string, readonly Plan[]>();

  const planFor = (resourceType: string): readonly Plan[] => {
    const known = plans.get(resourceType);
    if (known !== undefined) return known;
    const ctx = { model, resourceType, isType };
    const list: Plan[] = [];
    for (const p of registry.list(resourceType)) {
      if (p.expression === undefined || NOT_INDEXED.has(p.code) || p.type === 'special') continue;
      if (p.type === 'composite') {
        const accessor = compileCompositeExpression(p.expression, p.components.map((c) => c.expression), ctx, options);
        list.push({ kind: 'composite', code: p.code, types: p.components.map((c) => c.type), accessor });
      } else {
        const accessor = compileSearchExpression(p.expression, ctx, undefined, options);
        list.push({ kind: 'simple', code: p.code, type: p.type, targets: p.targets, accessor });
      }
    }
    plans.set(resourceType, list);
    return list;
  };

  const compartmentPlans = new Map<string, readonly Plan[]>();
  const compartmentPlansFor = (resourceType: string): readonly Plan[] => {
    let list = compartmentPlans.get(resourceType);
    if (list === undefined) {
      const params = compartmentParams('Patient', resourceType);
      list = planFor(resourceType).filter((p) => p.kind === 'simple' && p.type === 'reference' && params.includes(p.code));
      compartmentPlans.set(resourceType, list);
    }
    return list;
  };

  return {
    patients(resource) {
      const resourceType = typeof resource === 'object' && resource !== null ? resource.resourceType : undefined;
      if (typeof resourceType !== 'string' || !registry.isResourceType(resourceType)) return [];
      const root = resource as JsonObject;
      const rows = new RowSink();
      const sink = new ParamSink(rows, model, refs);
      for (const plan of compartmentPlansFor(resourceType)) {
        if (plan.kind !== 'simple') continue;
        rows.beginParam();
        try {
          sink.code = plan.code;
          sink.type = plan.type;
          sink.targets = plan.targets;
          plan.accessor.evaluate(root, root, sink);
        } catch {
          // As in extract: a value the indexer cannot handle gives fewer rows, never a failure.
        }
      }
      const id = typeof root['id'] === 'string' ? root['id'] : '';
      return compartmentMemberships(resourceType, id, rows.rows).filter((c) => c.compartment === 'Patient' && c.id !== '').map((c) => c.id);
    },
    extract(resource) {
      const resourceType = typeof resource === 'object' && resource !== null ? resource.resourceType : undefined;
      if (typeof resourceType !== 'string' || !registry.isResourceType(resourceType)) return emptyIndexRows();
      const root = resource as JsonObject;
      const rows = new RowSink();
      const sink = new ParamSink(rows, model, refs, options.maxRows);
      for (const plan of planFor(resourceType)) {
        rows.beginParam();
        try {
          if (plan.kind === 'simple') {
            sink.code = plan.code;
            sink.type = plan.type;
            sink.targets = plan.targets;
            plan.accessor.evaluate(root, root, sink);
          } else {
            addCompositeRows(rows, plan, root, model, refs, sink.maxRows);
          }
        } catch (e) {
          if (e === TOO_MANY_ROWS) throw new CustodiaError('resource-too-costly', `This ${resourceType} would have more than ${sink.maxRows} search index entries (the server's limit for one resource)`);
          // Defensive: the validator runs first, but a value the indexer cannot handle must not
          // fail the write; the parameter simply has fewer rows for this version.
        }
      }
      return rows.rows;
    },
    fallbacks() {
      const out: string[] = [];
      for (const [type, list] of plans) for (const p of list) if (!p.accessor.compiled) out.push(`${type}.${p.code}`);
      return out;
    },
  };
}

/**
 * Composite rows (search.html §3.1.1.4.12): each element the base selects gets its own `grp`
 * (1, 2, …); component i is indexed as `<code>$<i>`. An element with a component that yields
 * no row could never match, so its rows are taken back.
 */
function addCompositeRows(rows: RowSink, plan: Extract<Plan, { kind: 'composite' }>, root: JsonObject, model: ElementModel, refs: ReferenceContext, maxRows: number): void {
  let grp = 0;
  plan.accessor.evaluate(root, (components: readonly Collector[]) => {
    const g = grp + 1;
    const checkpoint = rows.checkpoint();
    for (let i = 0; i < components.length; i++) {
      const col = components[i]!;
      const type = plan.types[i] ?? 'special';
      let produced = 0;
      for (let j = 0; j < col.values.length; j++) {
        produced += addRows(rows, type, `${plan.code}$${i}`, g, col.values[j], col.types[j]!, model, refs);
        if (rows.size > maxRows) throw TOO_MANY_ROWS;
      }
      if (produced === 0) {
        rows.rollback(checkpoint);
        return;
      }
    }
    grp = g;
  });
}
