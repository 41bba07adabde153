import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { composeStamped, stampResource, type FhirResource, type PreparedResource } from '../../../src/fhir/index.js';
import { officialExamples } from '../../helpers/fixture-files.js';

const noIndex = { string: [], token: [], reference: [], date: [], number: [], quantity: [], uri: [] };

function prepared(r: FhirResource, id: string): PreparedResource {
  const { resourceType, id: _i, meta, ...rest } = r;
  const { versionId: _v, lastUpdated: _l, ...otherMeta } = meta ?? {};
  return { type: resourceType, id, index: noIndex, compartments: [], metaRest: JSON.stringify(otherMeta).slice(1, -1), bodyRest: JSON.stringify(rest).slice(1, -1) };
}

describe('composeStamped', () => {
  it('writes exactly what JSON.stringify(stampResource(…)) writes, for every official example', () => {
    for (const ex of officialExamples()) {
      const r = JSON.parse(ex.text) as FhirResource;
      expect(composeStamped(prepared(r, 'the-id'), 7, 1_700_000_000_123)).toBe(JSON.stringify(stampResource(r, 'the-id', 7, 1_700_000_000_123)));
    }
  });

  it('holds for arbitrary meta and bodies (property)', () => {
    const key = fc.stringMatching(/^[a-z][A-Za-z]{0,10}$/);
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.jsonValue({ maxDepth: 2 })),
        fc.dictionary(key, fc.jsonValue({ maxDepth: 2 })),
        fc.integer({ min: 1, max: 1e6 }),
        (meta, body, v) => {
          const r = { ...body, resourceType: 'Basic', meta } as FhirResource;
          expect(JSON.parse(composeStamped(prepared(r, 'x'), v, 0))).toEqual(JSON.parse(JSON.stringify(stampResource(r, 'x', v, 0))));
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});
