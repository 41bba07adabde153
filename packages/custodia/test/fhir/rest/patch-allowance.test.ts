/**
 * The allowance of a request's patches (patch-allowance.ts): JSON Patch `copy` cannot
 * multiply a resource, FHIRPath Patch paths cannot walk it without end, and the patches
 * of one transaction share one allowance.
 */
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, parseJsonPatch } from '../../../src/fhir/rest/json-patch.js';
import { applyFhirPathPatch, parseFhirPathPatch } from '../../../src/fhir/rest/fhirpath-patch.js';
import { MAX_COPIED_NODES, MAX_PATH_WORK, patchAllowance } from '../../../src/fhir/rest/patch-allowance.js';
import { countNodes } from '../../../src/fhir/rest/json-extent.js';
import { CustodiaError } from '../../../src/kernel/index.js';
import { codeOf } from '../../helpers/error-code.js';

const withExtension = () => ({ resourceType: 'Patient', id: 'p', extension: [{ url: 'urn:x', extension: [{ url: 'urn:y', valueString: 'a' }] }] });
/** Copies the first extension into itself: each copy doubles it (a complex extension holds extensions). */
const doublings = (count: number) => parseJsonPatch(Array.from({ length: count }, () => ({ op: 'copy', from: '/extension/0', path: '/extension/0/extension/-' })));

describe('JSON Patch copy', () => {
  it('copies what the allowance holds, and refuses the operation that would go beyond it, before copying', () => {
    const small = withExtension();
    applyJsonPatch(small, doublings(10), patchAllowance());
    expect(countNodes(small, Infinity)).toBeGreaterThan(2 ** 10);
    // 2⁴⁰ copies of the extension were asked for; the allowance stops it near 2¹⁷.
    const target = withExtension();
    let err: unknown;
    try {
      applyJsonPatch(target, doublings(40), patchAllowance());
    } catch (e) {
      err = e;
    }
    expect((err as CustodiaError).code).toBe('patch-failed');
    expect((err as Error).message).toMatch(/^JSON Patch operation 1[5-7] \(copy\)/);
    expect(countNodes(target, Infinity)).toBeLessThan(2 * MAX_COPIED_NODES);
  });

  it('counts the copied value as the operations before it left it, and is not spent by other operations', () => {
    const allowance = patchAllowance();
    const target = withExtension();
    applyJsonPatch(target, parseJsonPatch([{ op: 'add', path: '/name', value: [{ family: 'F', given: ['a', 'b'] }] }, { op: 'copy', from: '/name/0', path: '/name/-' }, { op: 'replace', path: '/id', value: 'p' }]), allowance);
    expect(MAX_COPIED_NODES - allowance.copiedNodes).toBe(5);
    expect(allowance.pathWork).toBe(MAX_PATH_WORK);
  });
});

describe('one allowance shared by the patches of a request', () => {
  it('refuses the patch that overdraws it, though each alone would fit', () => {
    const allowance = patchAllowance();
    const first = withExtension();
    applyJsonPatch(first, doublings(15), allowance);
    expect(codeOf(() => applyJsonPatch(withExtension(), doublings(15), allowance))).toBe('patch-failed');
    expect(codeOf(() => applyJsonPatch(withExtension(), doublings(15), patchAllowance()))).toBeUndefined();
  });

  it('spends FHIRPath Patch work as the resource size times the walks of every path', () => {
    const allowance = patchAllowance();
    const patient = { resourceType: 'Patient', id: 'p', identifier: Array.from({ length: 100 }, (_, i) => ({ system: 'urn:s', value: `v${i}` })) };
    const nodes = countNodes(patient, Infinity);
    const ops = parseFhirPathPatch({
      resourceType: 'Parameters',
      parameter: [
        { name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: "Patient.identifier.where(value = 'v3')" }] },
        { name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: 'Patient.birthDate' }] },
      ],
    });
    applyFhirPathPatch(structuredClone(patient), ops, allowance);
    expect(MAX_PATH_WORK - allowance.pathWork).toBe(nodes * 3);
    allowance.pathWork = nodes * 3 - 1;
    expect(codeOf(() => applyFhirPathPatch(structuredClone(patient), ops, allowance))).toBe('patch-failed');
  });
});
