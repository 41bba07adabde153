/**
 * What an interaction needs: a SMART permission (c r u d s) on each resource type it
 * touches. Bundles are checked entry by entry as they execute; paging was checked
 * when its search ran (the page set is bound to its owner).
 */
import { CustodiaError } from '../kernel/index.js';
import type { FhirInteraction } from '../fhir/index.js';
import type { Permission } from './smart-scopes.js';

export interface Requirement {
  readonly type: string;
  readonly permission: Permission;
}

export function requirementsOf(i: FhirInteraction, allTypes: readonly string[]): Requirement[] {
  switch (i.kind) {
    case 'capabilities':
    case 'bundle':
    case 'page':
      return [];
    case 'read':
    case 'vread':
      return [{ type: i.type, permission: 'r' }];
    case 'create':
      return [{ type: i.type, permission: 'c' }];
    case 'update':
    case 'conditional-update':
      // Conditional update (and update-as-create) may create.
      return [
        { type: i.type, permission: 'u' },
        { type: i.type, permission: 'c' },
      ];
    case 'patch':
      return [{ type: i.type, permission: 'u' }];
    case 'delete':
    case 'conditional-delete':
      return [{ type: i.type, permission: 'd' }];
    case 'search':
      return (i.types.length > 0 ? i.types : allTypes).map((type) => ({ type, permission: 's' }));
    case 'history':
      return (i.type !== undefined ? [i.type] : allTypes).map((type) => ({ type, permission: 'r' }));
    case 'operation':
      // No operation is implemented yet; each one that is gets its own rule here.
      throw new CustodiaError('not-supported', 'This operation is not supported');
  }
}
