export type { FhirResource, FhirMeta, Coding, JsonObject } from './resource.js';
export { isJsonObject } from './resource.js';
export type {
  ResourceStore,
  ResourceReader,
  ResourceWriter,
  StoredVersion,
  CurrentState,
  VersionWrite,
  HistoryCursor,
  HistoryFilter,
  SearchResult,
  SavedPageSet,
} from './ports/resource-store.js';
export * from './search/index.js';
export { validateResource, isResourceType, RESOURCE_TYPES, type ValidationIssue } from './validation/index.js';
export * from './rest/index.js';
export { SEE_ALL, simplifyVisibility, isVisible, needsTokens, type Visibility, type VisibilityFacts } from './ports/visibility.js';
