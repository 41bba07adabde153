export { TokenService, TOKEN_AUDIENCE, TOKEN_ISSUER, type SigningKey, type IssueOptions } from './token-service.js';
export type { Principal } from './principal.js';
export { parseScopes, parseResourceScope, scopesGrant, type ResourceScope, type Permission, type ScopeContext } from './smart-scopes.js';
export { authorize } from './authorize.js';
