export type { FhirResource, FhirMeta, Coding, JsonObject } from './resource.js';
export { isJsonObject } from './resource.js';
export type {
  ResourceStore,
  ResourceReader,
  ResourceWriter,
  StoredVersion,
  CurrentState,
  VersionWrite,
  HistoryFilter,
  SearchResult,
  SavedPageSet,
} from './ports/resource-store.js';
export type * from './search/index-rows.js';
export { RANGE_MIN, RANGE_MAX, emptyIndexRows } from './search/index-rows.js';
export type * from './search/query.js';
