export { CustodiaError, isCustodiaError, retryAfterSeconds, type CustodiaErrorOptions, type ErrorCode, type ErrorIssue } from './errors.js';
export { ERROR_CATALOG, catalogEntry, type ErrorCatalogEntry } from './error-catalog.js';
export { type Clock, systemClock, ManualClock, monotonicClock } from './clock.js';
export { type Random, secureRandom, seededRandom, uuidV4 } from './random.js';
export { InFlight } from './in-flight.js';
export { GiveWay } from './give-way.js';
