/**
 * Migration 0003: materialised compartment membership (R4 compartmentdefinition.html),
 * for access control: which patients' compartments each current resource is in.
 * Existing resources are backfilled from their reference index rows, using the same
 * official Patient CompartmentDefinition the write path uses.
 */
import { compartmentParams, RESOURCE_TYPES } from '../../fhir/index.js';
import type { SqlDialect } from '../schema.js';

function quote(s: string): string {
  // Resource types and parameter codes from the official definitions: [A-Za-z0-9_-] only.
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new Error(`unexpected identifier ${s}`);
  return `'${s}'`;
}

function backfill(): string[] {
  const pairs: string[] = [];
  for (const type of RESOURCE_TYPES) {
    for (const param of compartmentParams('Patient', type)) if (param !== '_id') pairs.push(`(${quote(type)}, ${quote(param)})`);
  }
  return [
    `WITH p (res_type, param) AS (VALUES ${pairs.join(', ')})
     INSERT INTO sp_compartment (res_pk, res_type, compartment, comp_id)
     SELECT DISTINCT x.res_pk, x.res_type, 'Patient', x.target_id
     FROM sp_reference x JOIN p ON p.res_type = x.res_type AND p.param = x.param
     WHERE x.target_type = 'Patient' AND x.target_id IS NOT NULL`,
    `INSERT INTO sp_compartment (res_pk, res_type, compartment, comp_id)
     SELECT pk, res_type, 'Patient', res_id FROM resources WHERE res_type = 'Patient' AND deleted = 0`,
  ];
}

export function compartmentSchema(dialect: SqlDialect): string[] {
  const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  const int = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE sp_compartment (res_pk ${int} NOT NULL, res_type ${text} NOT NULL, compartment ${text} NOT NULL, comp_id ${text} NOT NULL)`,
    `CREATE INDEX sp_compartment_member ON sp_compartment (compartment, comp_id, res_pk)`,
    `CREATE INDEX sp_compartment_resource ON sp_compartment (res_pk)`,
    ...backfill(),
  ];
}
