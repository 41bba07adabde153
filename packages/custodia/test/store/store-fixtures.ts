import { emptyIndexRows, type IndexRows, type SearchQuery, type VersionWrite } from '../../src/fhir/index.js';

export function rows(partial: Partial<{ [K in keyof IndexRows]: IndexRows[K] }>): IndexRows {
  return { ...emptyIndexRows(), ...partial };
}

export function create(type: string, id: string, index: IndexRows, at = 1_700_000_000_000, compartments: VersionWrite['compartments'] = []): VersionWrite {
  return {
    type,
    id,
    versionId: 1,
    lastUpdated: at,
    method: 'POST',
    json: JSON.stringify({ resourceType: type, id, meta: { versionId: '1' } }),
    index,
    compartments,
    expected: null,
  };
}

export function query(types: string[], conditions: SearchQuery['conditions'] = [], extra: Partial<SearchQuery> = {}): SearchQuery {
  return { types, conditions, sort: [], count: 50, total: 'accurate', include: [], revinclude: [], ignored: [], ...extra };
}

export const str = (param: string, value: string) => ({ param, grp: 0, value: value.toLowerCase(), exact: value });
export const tok = (param: string, system: string | null, code: string, text: string | null = null) => ({ param, grp: 0, system, code, text });
export const refTo = (param: string, targetType: string, targetId: string) => ({
  param,
  grp: 0,
  targetType,
  targetId,
  url: null,
  identifierSystem: null,
  identifierValue: null,
});
export const date = (param: string, lo: number, hi: number = lo) => ({ param, grp: 0, lo, hi });
