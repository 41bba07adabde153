import type { ErrorCode } from './errors.js';

/**
 * The one table mapping error codes to HTTP status and OperationOutcome.issue.code
 * (FHIR R4 valueset-issue-type). Statuses follow FHIR R4 http.html §3.1.0.4 and
 * §3.1.0.1.x ("Response codes"). Keep docs/errors.md in step: a test compares them.
 */
export interface ErrorCatalogEntry {
  readonly status: number;
  readonly issueCode: string;
  readonly summary: string;
}

export const ERROR_CATALOG: Readonly<Record<ErrorCode, ErrorCatalogEntry>> = Object.freeze({
  'request-malformed': { status: 400, issueCode: 'invalid', summary: 'The request is not well formed (URL, header or parameter).' },
  'json-malformed': { status: 400, issueCode: 'structure', summary: 'The body is not valid JSON.' },
  'payload-too-large': { status: 413, issueCode: 'too-long', summary: 'The body exceeds the configured size limit.' },
  'unsupported-media-type': { status: 415, issueCode: 'not-supported', summary: 'The body is not application/fhir+json or application/json.' },
  'not-acceptable': { status: 406, issueCode: 'not-supported', summary: 'The requested format (Accept or _format) is not offered; only JSON is.' },
  'method-not-allowed': { status: 405, issueCode: 'not-supported', summary: 'The HTTP method is not allowed on this URL.' },
  'unknown-resource-type': { status: 404, issueCode: 'not-supported', summary: 'The resource type is not a FHIR R4 resource type.' },
  'resource-structure': { status: 400, issueCode: 'structure', summary: 'The resource does not follow the R4 structure (unknown element, wrong JSON type).' },
  'resource-invalid': { status: 422, issueCode: 'invariant', summary: 'The resource breaks an R4 rule (cardinality, required element, primitive format).' },
  'resource-too-costly': { status: 422, issueCode: 'too-costly', summary: 'The resource would have more search index entries than the server allows one version (limits.maxIndexRows).' },
  'id-mismatch': { status: 400, issueCode: 'invalid', summary: 'The id in the body does not match the id in the URL.' },
  'patch-invalid': { status: 400, issueCode: 'invalid', summary: 'The body is not a JSON Patch document (RFC 6902) or a FHIRPath Patch (Parameters) the vault accepts.' },
  'patch-failed': { status: 422, issueCode: 'processing', summary: 'A patch operation could not be applied: a JSON Patch test failed or its path does not exist (RFC 6902 §5), or a FHIRPath Patch path selected nothing or too much; or the patch would copy or walk more of the resource than the vault allows.' },
  'resource-not-found': { status: 404, issueCode: 'not-found', summary: 'No such resource, or the caller may not know that it exists.' },
  'resource-gone': { status: 410, issueCode: 'deleted', summary: 'The resource was deleted.' },
  'version-not-found': { status: 404, issueCode: 'not-found', summary: 'No such version of the resource.' },
  'version-conflict': { status: 409, issueCode: 'conflict', summary: 'A concurrent change won; retry against the current version.' },
  'precondition-failed': { status: 412, issueCode: 'conflict', summary: 'If-Match does not name the current version.' },
  'multiple-matches': { status: 412, issueCode: 'multiple-matches', summary: 'A conditional operation matched more than one resource.' },
  'search-invalid': { status: 400, issueCode: 'invalid', summary: 'A search parameter or value cannot be parsed.' },
  'search-unsupported': { status: 400, issueCode: 'not-supported', summary: 'A search parameter, modifier or feature is not supported (strict handling).' },
  'search-too-costly': { status: 400, issueCode: 'too-costly', summary: 'The search would return or inspect more than the server allows.' },
  'page-expired': { status: 410, issueCode: 'expired', summary: 'The paging link has expired or does not belong to this caller.' },
  'bundle-invalid': { status: 400, issueCode: 'invalid', summary: 'The batch or transaction Bundle is not processable.' },
  'reference-unresolved': { status: 400, issueCode: 'not-found', summary: 'A conditional or urn:uuid reference in a transaction does not resolve to exactly one resource.' },
  'not-supported': { status: 501, issueCode: 'not-supported', summary: 'The interaction or operation is not implemented.' },
  unauthenticated: { status: 401, issueCode: 'login', summary: 'A valid bearer token is required.' },
  'token-invalid': { status: 401, issueCode: 'security', summary: 'The bearer token is malformed, expired, not signed by this server, or bound to a client certificate (RFC 8705) the connection did not present.' },
  forbidden: { status: 403, issueCode: 'forbidden', summary: 'The token does not grant this interaction.' },
  'rate-limited': { status: 429, issueCode: 'throttled', summary: 'Too many requests from this user or client; Retry-After says how many seconds to wait.' },
  'login-failed': { status: 401, issueCode: 'login', summary: 'The sign-in failed. Unknown user, wrong password or code, locked or disabled account all get this same answer.' },
  'login-throttled': { status: 429, issueCode: 'throttled', summary: 'Too many sign-in attempts from this address; retry later.' },
  'password-rejected': { status: 400, issueCode: 'invalid', summary: 'The new password breaks the password policy (length, common or context-specific); the reason never quotes it.' },
  'identity-conflict': { status: 409, issueCode: 'conflict', summary: 'The username or client id is taken, or the account is not in a state that allows this change.' },
  'identity-not-found': { status: 404, issueCode: 'not-found', summary: 'No such user or client (administration only; sign-in never says so).' },
  'token-unknown': { status: 404, issueCode: 'not-found', summary: 'No bearer token with that id was issued by this vault, or it expired more than a day ago (revocation by id, administration only).' },
  'client-auth-failed': { status: 401, issueCode: 'security', summary: 'The client could not be authenticated (unknown client, wrong secret, or not a confidential client).' },
  'import-failed': { status: 400, issueCode: 'processing', summary: 'An import line or file could not be loaded.' },
  'config-invalid': { status: 500, issueCode: 'exception', summary: 'The server configuration is invalid.' },
  'storage-unavailable': { status: 503, issueCode: 'transient', summary: 'The database is unreachable or busy, or could not make a write durable; retry later (after a failed flush to disk, only a restart clears it).' },
  'storage-conflict': { status: 409, issueCode: 'conflict', summary: 'The database rejected a concurrent write; retry.' },
  'decrypt-failed': { status: 500, issueCode: 'exception', summary: 'Stored data failed its integrity check (tampered, moved or corrupted ciphertext, or the wrong key); nothing of it is returned.' },
  'key-unavailable': { status: 503, issueCode: 'transient', summary: 'A key that protects the data is not available (key store missing, locked or unreachable).' },
  'resource-erased': { status: 410, issueCode: 'deleted', summary: 'The record was erased at the patient\'s request (crypto-shredding): its data key is destroyed and nothing of it can be read or added.' },
  'erasure-refused': { status: 409, issueCode: 'business-rule', summary: 'The erasure is refused: a legal hold or a retention period still applies (GDPR Art. 17(3)); the reason names which.' },
  'ledger-invalid': { status: 400, issueCode: 'invalid', summary: 'A ledger entry, checkpoint, proof or index is malformed or does not verify (attacker-reachable input, checked before use).' },
  'model-invalid': { status: 400, issueCode: 'invalid', summary: 'A detection model file or its feature schema is malformed, out of bounds or of an unsupported version (attacker-reachable input, checked before use); nothing of it is loaded.' },
  'model-unsupported': { status: 501, issueCode: 'not-supported', summary: 'The model needs a scoring runtime this installation lacks (an ONNX model without the optional onnxruntime-node package); install it, or use a Custodia JSON model.' },
  'audit-unavailable': { status: 503, issueCode: 'transient', summary: 'The audit record of this request could not be made durable, so the request was refused (auditing fails closed); retry later.' },
  'finding-transition-invalid': { status: 409, issueCode: 'business-rule', summary: 'The finding cannot move to that status from its current one (new → triaged → false-positive or confirmed; a closed finding reopens to triaged).' },
  'stream-unavailable': { status: 503, issueCode: 'transient', summary: 'The message broker of the detection stream (MQTT or NATS) cannot be reached, or lacks JetStream; the stream does not start.' },
  internal: { status: 500, issueCode: 'exception', summary: 'An unexpected server error. Details are in the server log, never in the response.' },
});

/** The catalogue entry for `code`. */
export function catalogEntry(code: ErrorCode): ErrorCatalogEntry {
  return ERROR_CATALOG[code];
}
