/**
 * A search parameter as the vault uses it: the official R4 SearchParameter narrowed to one
 * resource type (FHIR R4 searchparameter.html, search.html §3.1.1.4 parameter types).
 */
import type { IndexTable } from './index-rows.js';

/** R4 search.html §3.1.1.4: the parameter types. */
export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

const PARAM_TYPES: ReadonlySet<string> = new Set(['number', 'date', 'string', 'token', 'reference', 'composite', 'quantity', 'uri', 'special']);

/**
 * True when `t` names a search parameter type.
 *
 * @example isSearchParamType('token') // true
 */
export function isSearchParamType(t: string): t is SearchParamType {
  return PARAM_TYPES.has(t);
}

/** One component of a composite parameter; its expression is relative to the composite's element. */
export interface SearchParamComponent {
  /** The code of the parameter the component is defined by (`code`, `value-quantity`). */
  readonly code: string;
  readonly type: SearchParamType;
  readonly expression: string;
}

/**
 * @example
 *   const family = SearchParamRegistry.loadR4().get('Patient', 'family');
 *   // { code: 'family', type: 'string', expression: 'Patient.name.family', targets: [], components: [], … }
 */
export interface SearchParameter {
  readonly code: string;
  readonly type: SearchParamType;
  /** The canonical URL of the official SearchParameter. */
  readonly url: string;
  /** The resource type this entry applies to. */
  readonly resourceType: string;
  /** The part of the official expression that applies to `resourceType`; absent for `_text`, `_content`, `_query`. */
  readonly expression?: string;
  /** Reference parameters: the resource types the reference may point at. */
  readonly targets: readonly string[];
  readonly components: readonly SearchParamComponent[];
}

const TABLE_OF: Readonly<Record<SearchParamType, IndexTable | undefined>> = {
  number: 'number',
  date: 'date',
  string: 'string',
  token: 'token',
  reference: 'reference',
  quantity: 'quantity',
  uri: 'uri',
  composite: undefined,
  special: undefined,
};

/**
 * The index table holding rows of a parameter type (none for composite and special).
 *
 * @example indexTableOf('token') // 'token'
 */
export function indexTableOf(type: SearchParamType): IndexTable | undefined {
  return TABLE_OF[type];
}
