/**
 * The access decision for this stage of the vault: the token's SMART scopes must grant
 * the interaction on every resource type it touches; everything else is denied. Patient
 * compartments, consent and security labels join this decision in a later issue; until
 * then patient-context scopes grant nothing (deny by default).
 */
import { CustodiaError } from '../kernel/index.js';
import type { FhirInteraction } from '../fhir/index.js';
import type { Principal } from './principal.js';
import { scopesGrant, type Permission, type ScopeContext } from './smart-scopes.js';

const CONTEXTS: readonly ScopeContext[] = ['system', 'user'];

function need(p: Principal, type: string, permission: Permission): void {
  if (!scopesGrant(p.scopes, type, permission, CONTEXTS)) {
    throw new CustodiaError('forbidden', 'The token does not grant this interaction');
  }
}

/** Throws `forbidden` unless `p` may perform `i`. Bundles are checked entry by entry as they execute. */
export function authorize(p: Principal, i: FhirInteraction, resourceTypes: readonly string[]): void {
  switch (i.kind) {
    case 'capabilities':
    case 'bundle':
      return;
    case 'read':
    case 'vread':
      return need(p, i.type, 'r');
    case 'create':
      return need(p, i.type, 'c');
    case 'update':
    case 'conditional-update':
      need(p, i.type, 'u');
      // Update-as-create and conditional update may create.
      return need(p, i.type, 'c');
    case 'patch':
      return need(p, i.type, 'u');
    case 'delete':
    case 'conditional-delete':
      return need(p, i.type, 'd');
    case 'search':
      for (const t of i.types.length > 0 ? i.types : resourceTypes) need(p, t, 's');
      return;
    case 'page':
      // The page set is bound to its owner and was authorised when created.
      return;
    case 'history':
      if (i.type !== undefined) return need(p, i.type, 'r');
      for (const t of resourceTypes) need(p, t, 'r');
      return;
    case 'operation':
      // No operation is implemented yet; each one that is gets its own rule here.
      throw new CustodiaError('not-supported', 'This operation is not supported');
  }
}
