/**
 * The patients an audited response disclosed (app/fhir-audit.ts patientsOfVersion): a
 * Patient is about itself, anything else about its Patient compartments, found once per
 * version and remembered; a version without JSON (deleted, erased) is about nobody.
 */
import { describe, expect, it } from 'vitest';
import { patientsOfVersion } from '../../src/app/fhir-audit.js';
import type { StoredVersion } from '../../src/fhir/index.js';

const version = (type: string, id: string, versionId: number, json: unknown): StoredVersion => ({
  type,
  id,
  versionId,
  lastUpdated: 1_800_000_000_000,
  deleted: json === null,
  method: 'PUT',
  json: json === null ? null : JSON.stringify(json),
});

describe('patientsOfVersion', () => {
  it('finds a version’s patients once and remembers them by type, id and version', () => {
    const seen: string[] = [];
    const of = patientsOfVersion((r) => {
      seen.push(`${r.resourceType}/${r.id}`);
      const ref = (r as { subject?: { reference?: string } }).subject?.reference ?? '';
      return ref.startsWith('Patient/') ? [ref.slice('Patient/'.length)] : [];
    });
    const v1 = version('Observation', 'o1', 1, { resourceType: 'Observation', id: 'o1', subject: { reference: 'Patient/p1' } });
    const v2 = version('Observation', 'o1', 2, { resourceType: 'Observation', id: 'o1', subject: { reference: 'Patient/p2' } });
    expect(of(v1)).toEqual(['p1']);
    expect(of(v1)).toEqual(['p1']);
    expect(of(v2)).toEqual(['p2']);
    expect(seen).toEqual(['Observation/o1', 'Observation/o1']);
    expect(of(version('Patient', 'p9', 3, { resourceType: 'Patient', id: 'p9' }))).toEqual(['p9']);
    // The same version erased (no JSON left): nothing of it was disclosed, whatever was remembered.
    expect(of(version('Observation', 'o1', 1, null))).toEqual([]);
    // Unparseable JSON (a store fault): about nobody, no crash.
    expect(of({ ...v1, versionId: 7, json: '{' })).toEqual([]);
  });
});
