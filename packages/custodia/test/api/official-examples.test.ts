/**
 * Every official R4 example is accepted through the API and reads back equal, apart
 * from `meta` and the server-assigned `id`, on every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { officialExamples } from '../helpers/fixture-files.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';

/**
 * Examples the vault rejects, with the spec's reason. Keep the list honest.
 * - consent-example-pkb: its nested provisions have no `type`, which R4 requires
 *   (consent.html, Consent.provision.type: "Not permitted in root rule, required in all
 *   nested rules"), so the vault cannot tell whether they permit or deny, and refuses to
 *   store a Consent it could not enforce (422 business-rule at `Consent`).
 * - four examples whose references point to a resource of a type the element's
 *   targetProfile does not allow (references.html; listed with each element in
 *   test/fhir/validation/official-examples.test.ts): 422 at the reference.
 */
const REJECTED: Record<string, string> = {
  'Consent-consent-example-pkb.json': '422 ["Consent"]',
  'DeviceMetric-example.json': '422 ["DeviceMetric.parent.reference"]',
  'DeviceUseStatement-example.json': '422 ["DeviceUseStatement.reasonReference[0].reference"]',
  'MedicationRequest-medrx0301.json': '422 ["MedicationRequest.dispenseRequest.performer.reference"]',
  'Observation-clinical-gender.json': '422 ["Observation.performer[0].reference"]',
};

function withoutMetaAndId(r: Record<string, unknown>): Record<string, unknown> {
  const { meta: _m, id: _i, ...rest } = r;
  return rest;
}

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`official R4 examples on ${dialect}`, () => {
    let t: TestVault;
    beforeAll(async () => {
      t = await startTestVault(dialect);
    });
    afterAll(async () => t?.close());

    it('accepts all 642 and reads each back equal', async () => {
      const examples = officialExamples();
      expect(examples).toHaveLength(642);
      const rejected: Record<string, string> = {};
      const different: string[] = [];
      for (const ex of examples) {
        const original = JSON.parse(ex.text) as Record<string, unknown>;
        const created = await t.request('POST', `/fhir/${String(original['resourceType'])}`, ex.text);
        if (created.status !== 201) {
          rejected[ex.file] = `${created.status} ${JSON.stringify(created.body?.issue?.[0]?.expression ?? [])}`;
          continue;
        }
        const read = await t.request('GET', `/fhir/${String(original['resourceType'])}/${String(created.body.id)}`);
        expect(read.status).toBe(200);
        try {
          expect(withoutMetaAndId(read.body)).toEqual(withoutMetaAndId(original));
        } catch {
          different.push(ex.file);
        }
      }
      expect(rejected).toEqual(REJECTED);
      expect(different).toEqual([]);
    });
  });
}
