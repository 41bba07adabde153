/**
 * Which of the requested scopes a client gets. RFC 6749 §3.3: the authorization server
 * "MAY fully or partially ignore the scope requested by the client", and tells the
 * client what it granted in the token response's `scope`. A client never gets more than
 * its registered scope; a resource scope is covered by a registered one of the same
 * context whose type is the same or `*` and whose permissions include all requested
 * ones (so `patient/*.rs` covers `patient/Observation.r`). `system/` scopes only come
 * with the client credentials grant (SMART Backend Services), and every other scope
 * only with the authorization code grant.
 */
import { parseResourceScope } from '../smart-scopes.js';
import { ADMIN_SCOPE } from '../admin-scope.js';
import { OAuthError } from './oauth-error.js';

/** SMART App Launch 2.x scopes that are not resource scopes (scopes-and-launch-context.html). */
export const CONTEXT_SCOPES = ['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access'] as const;

const MAX_SCOPE_LENGTH = 4096;
const MAX_SCOPES = 100;

/** Parses a requested `scope` (attacker input; RFC 6749 §3.3 NQCHAR tokens, space-separated). */
export function parseRequestedScope(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') throw new OAuthError('invalid_scope', 'The request must name the scopes it needs');
  if (text.length > MAX_SCOPE_LENGTH) throw new OAuthError('invalid_scope', 'The scope is too long');
  const tokens = text.split(' ').filter((t) => t !== '');
  if (tokens.length > MAX_SCOPES || tokens.some((t) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(t))) throw new OAuthError('invalid_scope', 'The scope is not a list of scope tokens');
  return [...new Set(tokens)];
}

/** Does the registered scope list allow `scope`? */
export function isCovered(scope: string, registered: readonly string[]): boolean {
  if (registered.includes(scope)) return true;
  const wanted = parseResourceScope(scope);
  if (wanted === undefined) return false;
  return registered.some((r) => {
    const has = parseResourceScope(r);
    if (has === undefined || has.restricted || has.context !== wanted.context) return false;
    if (has.type !== '*' && has.type !== wanted.type) return false;
    return [...wanted.permissions].every((p) => has.permissions.has(p));
  });
}

export type GrantFlow = 'authorization_code' | 'client_credentials';

function belongsTo(scope: string, flow: GrantFlow): boolean {
  const resource = parseResourceScope(scope);
  if (flow === 'client_credentials') return resource?.context === 'system';
  if (resource !== undefined) return resource.context !== 'system';
  return (CONTEXT_SCOPES as readonly string[]).includes(scope) || scope === ADMIN_SCOPE;
}

/** The granted subset of `requested`, in request order; `invalid_scope` when nothing is left. */
export function grantScopes(requested: readonly string[], clientScope: string, flow: GrantFlow): string[] {
  const registered = clientScope.split(' ').filter((s) => s !== '');
  const granted = requested.filter((s) => belongsTo(s, flow) && isCovered(s, registered));
  if (granted.length === 0) throw new OAuthError('invalid_scope', 'None of the requested scopes is allowed for this client');
  return granted;
}

/** What a scope lets the app do, in words for the consent page. */
export function describeScope(scope: string): string {
  switch (scope) {
    case 'openid':
      return 'Confirm who you are';
    case 'fhirUser':
      return 'Know which FHIR record describes you';
    case 'profile':
      return 'See your basic profile';
    case 'launch':
      return 'Open with the patient and encounter chosen in the record system';
    case 'launch/patient':
      return 'Work with one patient, chosen when you sign in';
    case 'launch/encounter':
      return 'Work with one encounter';
    case 'offline_access':
      return 'Keep access when you are not using the app, until you revoke it';
    case 'online_access':
      return 'Keep access while you are using the app';
    case ADMIN_SCOPE:
      return 'Administer this vault: users, access explanations and break-the-glass reviews';
  }
  const r = parseResourceScope(scope);
  if (r === undefined) return scope;
  const verbs: string[] = [];
  if (r.permissions.has('c')) verbs.push('create');
  if (r.permissions.has('r')) verbs.push('read');
  if (r.permissions.has('u')) verbs.push('update');
  if (r.permissions.has('d')) verbs.push('delete');
  if (r.permissions.has('s')) verbs.push('search');
  const what = r.type === '*' ? 'all kinds of records' : `${r.type} records`;
  const whose = r.context === 'patient' ? 'of the selected patient' : r.context === 'user' ? 'that you may access' : 'of any patient';
  const text = `${verbs.join(', ')} ${what} ${whose}`;
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${r.restricted ? ' (restricted)' : ''}`;
}
