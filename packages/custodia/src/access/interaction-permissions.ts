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
    case 'operation': {
      // Each operation that is implemented gets its own rule here.
      if (i.name === '$everything' && i.type === 'Patient' && i.id !== undefined) {
        // Reading the patient, and searching the types _type names. Without _type it returns
        // the types the caller may search (patient-everything.ts asks the guard of each).
        const named = (i.params ?? []).filter(([k]) => k === '_type').flatMap(([, v]) => v.split(','));
        return [{ type: 'Patient', permission: 'r' }, ...allTypes.filter((t) => named.includes(t)).map((type) => ({ type, permission: 's' as const }))];
      }
      throw new CustodiaError('not-supported', 'This operation is not supported');
    }
  }
}
